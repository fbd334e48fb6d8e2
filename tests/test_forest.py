"""Forest plot layout (issues 13 and 15): nothing overlaps, favours labels follow the scale,
text stays readable at phone width, the prediction interval only when there is one.

Text positions are measured as the Agg renderer draws them (window extents in pixels).
"""

from __future__ import annotations

import io
import math
from dataclasses import replace
from itertools import combinations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from PIL import Image

from crps_evidence.book.forest import LABEL_MAX_IN, favours
from crps_evidence.book.plots import forest_plot
from crps_evidence.errors import AnalysisError
from crps_evidence.stats.synthesis import pool_effects

PHONE_PX = 358  # the width of the page's text on a 390 px phone (the book's CSS)
MIN_TEXT_PX = 9.0
LONG = ("Goebel, Bisla, Carter, Frank, Fox, Goodger, Birch and Naylor 2017 "
        "(a label far longer than any column)")
NO_SPACES = "Supercalifragilisticexpialidociousnessismandmore2001"


def effects(n: int = 6, measure: str = "SMD", lower_is_better: object = True,
            shift: float = 0.0, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    effect = (rng.normal(-0.3, 0.3, n) + shift) * scale
    variance = rng.uniform(0.02, 0.09, n) * scale**2
    half = 1.959964 * np.sqrt(variance)
    return pd.DataFrame({
        "study_id": [f"s{i}" for i in range(n)], "domain": "pain", "measure": "NRS",
        "timepoint": "12 weeks", "timepoint_weeks": 12.0, "effect_measure": measure,
        "effect": effect, "variance": variance, "ci_low": effect - half,
        "ci_high": effect + half, "lower_is_better": lower_is_better,
    })


def renderer(fig: Figure):
    return FigureCanvasAgg(fig).get_renderer()


def visible_texts(fig: Figure):
    """Every text the renderer draws: ax texts, figure texts, legend, ticks, axis label."""
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    ticks = [t for t, x in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True)
             if low <= x <= high and t.get_text()]
    legend = ax.get_legend()
    found = [*ax.texts, *fig.texts, *ticks, ax.xaxis.label,
             *(legend.get_texts() if legend else [])]
    return [t for t in found if t.get_visible() and t.get_text()]


def boxes(fig: Figure):
    draw = renderer(fig)
    fig.draw(draw)
    return [(t, t.get_window_extent(draw)) for t in visible_texts(fig)], draw


def overlap(a: Bbox, b: Bbox, tolerance: float = 0.5) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
            and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance)


LABELS = {"s0": "Sigtermans et al. 2009", "s1": LONG, "s2": "Kemler & Barendse 2000",
          "s3": NO_SPACES}
CASES = {
    "short labels": (effects(), False, None, None),
    "long labels, pooled, title": (effects(), True, LABELS, "Pain: SMD by trial, with a "
                                   "title long enough to need a second line of text"),
    "ratio, lower is not better": (effects(measure="logRR", lower_is_better=False), True,
                                   LABELS, None),
    "null at the left edge": (effects(shift=1.2), True, LABELS, None),
    "null at the far left, short labels": (effects(shift=3.0), False, None, None),
    "null at the far right, short labels": (effects(shift=-3.0, lower_is_better=False),
                                            False, None, None),
    "null at the right edge": (effects(shift=-1.5), False, LABELS, "Right edge"),
    "wide numbers": (effects(scale=100.0), True, LABELS, None),
    "thirty studies": (effects(30), True, {f"s{i}": f"Author{i} et al. 20{i:02d}"
                                           for i in range(30)}, "Many"),
    "two studies": (effects(2), True, LABELS, None),
}


@pytest.fixture(params=CASES, ids=list(CASES))
def figure(request) -> Figure:
    table, pool, labels, title = CASES[request.param]
    pooled = pool_effects(table, method="FE") if pool and len(table) < 3 else (
        pool_effects(table, method="DL") if pool else None)
    return forest_plot(table, pooled=pooled, labels=labels, title=title)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_no_two_texts_overlap(figure):
    placed, _ = boxes(figure)
    clashes = [(a.get_text(), b.get_text()) for (a, ba), (b, bb) in combinations(placed, 2)
               if overlap(ba, bb)]
    assert clashes == []


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_favours_labels_flank_the_null_line_wherever_it_is(figure):
    placed, _ = boxes(figure)
    ax = figure.axes[0]
    null = ax.transData.transform((0.0, 0.0))[0]
    found = {t.get_gid(): box for t, box in placed if (t.get_gid() or "").startswith("fav")}
    assert found["favours-left"].x1 <= null <= found["favours-right"].x0


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_study_labels_stay_left_of_the_axis_and_the_columns(figure):
    placed, draw = boxes(figure)
    ax = figure.axes[0]
    axis = ax.get_window_extent(draw)
    by_gid: dict[str, list[Bbox]] = {}
    for text, box in placed:
        by_gid.setdefault(text.get_gid() or "", []).append(box)
    left_column = by_gid["study-label"] + by_gid.get("pooled-label", []) + by_gid.get(
        "heterogeneity-label", [])
    assert max(b.x1 for b in left_column) < axis.x0
    numbers = by_gid["weight-label"] + by_gid["effect-label"]
    assert min(b.x0 for b in numbers) > axis.x1
    assert max(b.x1 for b in by_gid["weight-label"]) < min(b.x0 for b in by_gid["effect-label"])
    page = figure.bbox
    for text, box in placed:
        assert page.x0 <= box.x0 and box.x1 <= page.x1 + 0.5, text.get_text()
        assert page.y0 <= box.y0 and box.y1 <= page.y1 + 0.5, text.get_text()


def test_long_labels_wrap_within_their_column():
    fig = forest_plot(effects(), labels=LABELS)
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "study-label"]
    assert "\n" in labels[1].get_text() and "\n" in labels[3].get_text()
    assert labels[1].get_text().replace("\n", " ") == LONG  # wrapped at spaces, not cut
    assert labels[3].get_text().replace("\n", "") == NO_SPACES
    draw = renderer(fig)
    widest = max(t.get_window_extent(draw).width for t in labels) / fig.dpi
    assert widest <= LABEL_MAX_IN + 0.02


@pytest.mark.parametrize("measure", ["SMD", "MD", "logRR", "logOR"])
@pytest.mark.parametrize(("lower_is_better", "left", "right"),
                         [(True, "treatment", "control"), (False, "control", "treatment"),
                          ("true", "treatment", "control"), ("false", "control", "treatment")])
def test_favours_labels_sit_on_the_right_side_of_no_effect(measure, lower_is_better, left,
                                                           right):
    fig = forest_plot(effects(measure=measure, lower_is_better=lower_is_better))
    ax = fig.axes[0]
    (left_text,) = [t for t in ax.texts if t.get_gid() == "favours-left"]
    (right_text,) = [t for t in ax.texts if t.get_gid() == "favours-right"]
    assert left_text.get_text() == f"← Favours {left}"
    assert right_text.get_text() == f"Favours {right} →"
    draw = renderer(fig)
    null = ax.transData.transform((0.0, 0.0))[0]  # 0 on the log scale is a ratio of 1
    assert left_text.get_window_extent(draw).x1 <= null <= right_text.get_window_extent(draw).x0
    if measure.startswith("log"):
        assert ax.xaxis.get_major_formatter()(0.0, 0) == "1"


def test_favours_words():
    assert favours(True) == ("Favours treatment", "Favours control")
    assert favours(False) == ("Favours control", "Favours treatment")


def test_no_favours_labels_without_a_direction():
    table = effects().drop(columns="lower_is_better")
    ax = forest_plot(table).axes[0]
    assert not [t for t in ax.texts if (t.get_gid() or "").startswith("favours")]


def test_mixed_directions_are_refused():
    table = effects()
    table.loc[0, "lower_is_better"] = False
    with pytest.raises(AnalysisError, match="lower_is_better"):
        forest_plot(table)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("case", ["short labels", "long labels, pooled, title", "thirty studies"])
def test_text_is_readable_at_phone_width(case):
    """Shown as wide as a phone's page text (358 px), the smallest text is at least 9 px."""
    table, pool, labels, title = CASES[case]
    fig = forest_plot(table, pooled=pool_effects(table) if pool else None, labels=labels,
                      title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")  # as notebook.as_image
    width_px = Image.open(buffer).size[0]
    smallest = min(t.get_fontsize() for t in visible_texts(fig))
    assert smallest * 96 / 72 * PHONE_PX / width_px >= MIN_TEXT_PX


def test_prediction_interval_is_drawn_when_given():
    table = effects()
    pooled = pool_effects(table)
    ax = forest_plot(table, pooled=pooled).axes[0]
    (line,) = [a for a in ax.lines if a.get_gid() == "prediction-interval"]
    assert list(line.get_xdata()) == pytest.approx([pooled.pi_low, pooled.pi_high])
    assert line.get_visible() and line.get_linewidth() >= 1.5
    low, high = ax.get_xlim()
    assert low < pooled.pi_low and pooled.pi_high < high  # inside the axis, so visible
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Pooled estimate (REML)", "95% prediction interval"]


@pytest.mark.parametrize("missing", [math.nan, None])
def test_no_prediction_interval_line_when_none_is_given(missing):
    table = effects()
    pooled = replace(pool_effects(table), pi_low=missing, pi_high=missing)
    ax = forest_plot(table, pooled=pooled).axes[0]
    assert not [a for a in ax.lines if a.get_gid() == "prediction-interval"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Pooled estimate (REML)"]
    assert [p for p in ax.patches if p.get_gid() == "pooled-diamond"]  # the diamond stays
