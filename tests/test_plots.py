"""Tests of crps_evidence.book.plots: what is drawn, where, and with which legend."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from crps_evidence.book.plots import evidence_map, evidence_map_key, evidence_timeline, forest_plot
from crps_evidence.errors import AnalysisError
from crps_evidence.stats.synthesis import pool_effects


def by_gid(ax, gid):
    artists = [*ax.collections, *ax.patches, *ax.lines, *ax.texts]
    return [a for a in artists if a.get_gid() == gid]


def texts(ax, gid):
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    return buffer.getvalue()


@pytest.fixture
def table() -> pd.DataFrame:
    effect = np.array([-0.8, -0.3, -0.5, 0.1, -0.4, -0.2])
    variance = np.array([0.04, 0.02, 0.09, 0.05, 0.03, 0.06])
    half = 1.959964 * np.sqrt(variance)
    return pd.DataFrame(
        {
            "study_id": ["sigtermans2009", "goebel2017", "c", "d", "e", "f"],
            "domain": "pain",
            "measure": "NRS 0-10",
            "timepoint": "12 weeks",
            "timepoint_weeks": 12.0,
            "effect_measure": "SMD",
            "effect": effect,
            "variance": variance,
            "ci_low": effect - half,
            "ci_high": effect + half,
            "lower_is_better": True,
        }
    )


# --------------------------------------------------------------------------- forest plot


def test_forest_draws_one_marker_and_ci_per_study(table):
    ax = forest_plot(table).axes[0]
    (markers,) = by_gid(ax, "study-markers")
    offsets = markers.get_offsets()
    assert len(offsets) == len(table)
    np.testing.assert_allclose(offsets[:, 0], table["effect"])
    screen_y = ax.transData.transform(offsets)[:, 1]
    assert list(screen_y) == sorted(screen_y, reverse=True)  # first row on top
    assert markers.get_paths()[0] is not None and markers.get_sizes().size == len(table)
    (cis,) = by_gid(ax, "study-cis")
    segments = cis.get_segments()
    assert len(segments) == len(table)
    np.testing.assert_allclose([s[0][0] for s in segments], table["ci_low"])
    np.testing.assert_allclose([s[1][0] for s in segments], table["ci_high"])
    assert not by_gid(ax, "pooled-diamond")  # no pooled result, no diamond


def test_forest_diamond_and_prediction_interval_match_the_pooled_result(table):
    pooled = pool_effects(table, method="REML")
    ax = forest_plot(table, pooled=pooled).axes[0]
    (diamond,) = by_gid(ax, "pooled-diamond")
    xy = diamond.get_xy()
    top = xy[np.argmax(xy[:, 1])]
    assert top[0] == pytest.approx(pooled.estimate)
    assert xy[:, 0].min() == pytest.approx(pooled.ci_low)
    assert xy[:, 0].max() == pytest.approx(pooled.ci_high)
    assert diamond.get_hatch()  # distinguishable without colour
    (pi,) = by_gid(ax, "prediction-interval")
    assert list(pi.get_xdata()) == pytest.approx([pooled.pi_low, pooled.pi_high])
    assert pi.get_linestyle() == "--"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Pooled estimate (REML)", "95% prediction interval"]


def test_forest_weights_and_labels(table):
    pooled = pool_effects(table, method="DL")
    labels = {"sigtermans2009": "Sigtermans et al. 2009", "goebel2017": "Goebel et al. 2017"}
    ax = forest_plot(table, pooled=pooled, labels=labels, title="Ketamine").axes[0]
    assert texts(ax, "weight-label") == [f"{w:.1f}%" for w in pooled.weights]
    # (a label may wrap onto two lines where the columns are narrow)
    assert [t.replace("\n", " ") for t in texts(ax, "study-label")] == [
        "Sigtermans et al. 2009", "Goebel et al. 2017", *"cdef"]
    # Square areas grow with the weights.
    (markers,) = by_gid(ax, "study-markers")
    assert list(np.argsort(markers.get_sizes())) == list(np.argsort(pooled.weights))


def test_forest_without_pool_uses_inverse_variance_weights(table):
    ax = forest_plot(table).axes[0]
    inverse = 1 / table["variance"]
    assert texts(ax, "weight-label") == [f"{w:.1f}%" for w in 100 * inverse / inverse.sum()]


@pytest.mark.parametrize(
    ("lower_is_better", "left", "right"),
    [(True, "treatment", "control"), (False, "control", "treatment")],
)
def test_forest_favours_labels_follow_direction(table, lower_is_better, left, right):
    table["lower_is_better"] = lower_is_better
    ax = forest_plot(table).axes[0]
    (left_text,) = [t for t in ax.texts if t.get_gid() == "favours-left"]
    (right_text,) = [t for t in ax.texts if t.get_gid() == "favours-right"]
    assert left_text.get_text() == f"← Favours {left}"
    assert right_text.get_text() == f"Favours {right} →"
    renderer = FigureCanvasAgg(ax.figure).get_renderer()
    null = ax.transData.transform((0.0, 0.0))[0]  # the line of no effect, on screen
    left_box, right_box = (t.get_window_extent(renderer) for t in (left_text, right_text))
    assert left_box.x1 <= null <= right_box.x0


def test_forest_ratio_axis_is_labelled_on_the_ratio_scale(table):
    table["effect_measure"] = "logRR"
    fig = forest_plot(table, xlabel=None)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Risk ratio (log scale)"
    assert ax.xaxis.get_major_formatter()(0.0, 0) == "1"
    assert texts(ax, "weight-label")  # drawn
    assert any("[" in t.get_text() and "0.45" in t.get_text() for t in ax.texts)  # exp(-0.8)


def test_forest_refuses_a_pooled_result_of_other_rows(table):
    pooled = pool_effects(table)
    with pytest.raises(AnalysisError, match="k=6"):
        forest_plot(table.iloc[:5], pooled=pooled)


def test_forest_is_deterministic(table):
    pooled = pool_effects(table)
    assert png_bytes(forest_plot(table, pooled)) == png_bytes(forest_plot(table, pooled))


# -------------------------------------------------------------------------- evidence map


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["Graded motor imagery", "Mirror therapy", "Ketamine", "IVIG",
                     "Spinal cord stimulation", "DMSO cream", "TENS"],
            "category": ["rehabilitation", "rehabilitation", "infusion", "infusion",
                         "implanted device", "topical", "external device"],
            "invasiveness": [0, 0, 2, 2, 4, 1, 1],
            "certainty": ["low", "low", "low", "moderate", "very low", "no studies found",
                          "no studies found"],
            "rct_participants": [100, 50, 60, 111, 54, 0, np.nan],
        }
    )  # fmt: skip


def test_evidence_map_places_each_treatment(summary):
    ax = evidence_map(summary).axes[0]
    points = {}
    for collection in ax.collections:
        category = collection.get_gid().removeprefix("category:")
        rows = summary[summary["category"] == category]
        assert len(collection.get_offsets()) == len(rows)
        points[category] = collection.get_offsets()
    assert sum(len(p) for p in points.values()) == len(summary)
    # y is the certainty rank; x stays within half a unit of the invasiveness level.
    assert sorted(points["infusion"][:, 1]) == [1.0, 2.0]  # low, moderate
    assert np.all(np.abs(points["infusion"][:, 0] - 2) < 0.5)
    rehab = points["rehabilitation"]
    assert rehab[0, 0] != rehab[1, 0]  # same cell: spread apart, not on top of each other
    # Each marker carries a number; the key pairs every number with one treatment name.
    key = dict(t.get_text().split(None, 1) for t in ax.figure.texts
               if t.get_gid() == "treatment-label")
    numbers = texts(ax, "treatment-number")
    assert sorted(key.values()) == sorted(summary["name"])
    assert sorted(numbers, key=int) == sorted(key, key=int) == [
        str(i) for i in range(1, len(summary) + 1)]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["No studies\nfound", "Very low", "Low", "Moderate", "High"]
    # "No studies found" is a state, not a rating: drawn below a divider, apart from the levels.
    (divider,) = [line for line in ax.lines if line.get_gid() == "no-studies-divider"]
    below = divider.get_ydata()[0]
    assert points["topical"][0, 1] < below < min(points["implanted device"][:, 1])


def test_evidence_map_legend_and_shapes(summary):
    ax = evidence_map(summary).axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["rehabilitation", "topical", "external device", "infusion",
                      "implanted device"]  # fmt: skip
    shapes = {c.get_gid(): c.get_paths()[0].vertices.tobytes() for c in ax.collections}
    assert len(set(shapes.values())) == len(shapes)  # every category has its own marker


def test_evidence_map_sizes_grow_with_participants(summary):
    ax = evidence_map(summary).axes[0]
    (infusion,) = [c for c in ax.collections if c.get_gid() == "category:infusion"]
    sizes = dict(zip(infusion.get_offsets()[:, 1], infusion.get_sizes(), strict=True))
    assert sizes[2.0] > sizes[1.0]  # IVIG (111) larger than ketamine (60)


def test_evidence_map_key_can_move_out_of_the_figure(summary):
    fig = evidence_map(summary, key=False)
    assert not [t for t in fig.texts if t.get_gid() == "treatment-label"]
    key = evidence_map_key(summary)
    assert list(key["number"]) == list(range(1, len(summary) + 1))
    assert sorted(key["name"]) == sorted(summary["name"])
    numbers = sorted(int(t) for t in texts(fig.axes[0], "treatment-number"))
    assert numbers == list(key["number"])


def test_evidence_map_refuses_unknown_certainty(summary):
    summary.loc[0, "certainty"] = "medium"
    with pytest.raises(AnalysisError, match="certainty"):
        evidence_map(summary)


# --------------------------------------------------------------------- evidence timeline


@pytest.fixture
def studies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Moseley 2004", "Goebel 2017", "Sigtermans 2009", "Kemler 2000",
                      "Series 2005", "Cohort 2010", "Sigtermans 2009b"],
            "year": [2004, 2017, 2009, 2000, 2005, 2010, 2009],
            "design": ["parallel RCT", "parallel RCT", "parallel RCT", "parallel RCT",
                       "case series", "cohort", "parallel RCT"],
            "n": [13, 111, 60, 54, np.nan, 30, 20],
            "primary_result": ["favours_treatment", "no_difference", "favours_treatment",
                               "favours_treatment", "uncontrolled", "not_reported",
                               "favours_control"],
        }
    )  # fmt: skip


def test_timeline_markers_legend_and_axes(studies):
    fig = evidence_timeline(studies)
    ax = fig.axes[0]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["Favours treatment", "No difference", "Favours control",
                      "Uncontrolled", "Not reported"]  # fmt: skip
    counts = {c.get_gid(): len(c.get_offsets()) for c in ax.collections}
    assert counts == {"result:favours_treatment": 3, "result:no_difference": 1,
                      "result:favours_control": 1, "result:uncontrolled": 1,
                      "result:not_reported": 1}  # fmt: skip
    years = sorted(x for c in ax.collections for x in c.get_offsets()[:, 0])
    assert years == sorted(studies["year"])
    headings = texts(ax, "design-label")  # designs present, RCTs on top, with their counts
    assert headings == ["Parallel RCT (5)", "Cohort (1)", "Case series (1)"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]  # one row per study, top to bottom
    assert ticks == ["Kemler 2000", "Moseley 2004", "Sigtermans 2009", "Sigtermans 2009b",
                     "Goebel 2017", "Cohort 2010", "Series 2005"]
    markers = {c.get_gid(): c.get_paths()[0].vertices.tobytes() for c in ax.collections}
    assert len(set(markers.values())) == len(markers)


def test_timeline_separates_same_year_same_design(studies):
    ax = evidence_timeline(studies).axes[0]
    in_2009 = [
        tuple(xy) for c in ax.collections for xy in c.get_offsets() if math.isclose(xy[0], 2009)
    ]
    assert len(in_2009) == 2 and in_2009[0][1] != in_2009[1][1]
    rows = [xy[1] for c in ax.collections for xy in c.get_offsets()]
    assert len(set(rows)) == len(studies), "every study has a row of its own"


def test_timeline_is_readable_at_phone_width(studies):
    """Narrow and tall, with large type: at 390 px the labels stay about 10 px high."""
    many = pd.concat([studies] * 3, ignore_index=True)
    many["label"] = [f"Longsurname-{i} et al. {y}" for i, y in enumerate(many["year"])]
    fig = evidence_timeline(many)
    width, height = fig.get_size_inches()
    assert width <= 5.5 and height > 0.28 * len(many), "one row per study, not a wide strip"
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    assert min(t.get_fontsize() for t in labels) >= 10
    assert min(t.get_fontsize() for t in ax.get_xticklabels()) >= 10
    assert all(len(t.get_text()) <= 24 and "et al." not in t.get_text() for t in labels)
    assert all(t.get_text()[-5:] in {f" {y}" for y in many["year"]} for t in labels)


def test_timeline_refuses_unknown_result(studies):
    studies.loc[0, "primary_result"] = "positive"
    with pytest.raises(AnalysisError, match="primary_result"):
        evidence_timeline(studies)


def test_map_and_timeline_are_deterministic(summary, studies):
    assert png_bytes(evidence_map(summary)) == png_bytes(evidence_map(summary))
    assert png_bytes(evidence_timeline(studies)) == png_bytes(evidence_timeline(studies))
