"""The forest plot, in parts: rows, layout (in inches, from measured text), and drawing.

Layout rules, so that a plot stays readable when the book shows it as an image on a phone:

* the figure is :data:`WIDTH_IN` wide and its smallest text is :data:`SMALL_PT`; shown
  358 px wide (the width of the page's text on a 390 px phone), that text is at least 9 px
  (``tests/test_forest.py`` checks the figure, ``tests/book/test_figures.py`` the book);
* columns are laid out side by side from measured text widths: study labels (wrapped onto
  several lines when longer than :data:`LABEL_MAX_IN`), the plot, weights, effects; no text
  reaches into another column or into the plot;
* "favours" labels sit under the axis on each side of the line of no effect: with
  ``lower_is_better`` true, values left of it favour the treatment; with false, the
  control; ratio measures are drawn on the log scale, where the same holds around 1;
* the pooled estimate is a diamond; its prediction interval is drawn (a dashed line with
  end caps, on its own row) only when the pooled result gives one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from ..errors import AnalysisError
from ._figure_tools import marker_areas, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..stats.synthesis import PoolResult

__all__ = ["forest_plot"]

WIDTH_IN = 6.0
"""Figure width (inches); wider only when the columns cannot fit (very long numbers)."""
BODY_PT, SMALL_PT, TITLE_PT = 11.5, 11.5, 12.5
"""Font sizes: labels and numbers; ticks, legend, favours and heterogeneity; title."""
LABEL_MAX_IN = 1.9
"""Widest study label column; longer labels wrap onto more lines."""
PLOT_MIN_IN = 1.8
"""Narrowest plot area; below it the effect column wraps onto two lines."""
MAX_HEIGHT_IN = 250.0
"""Tallest figure (Agg cannot render more than 2**16 pixels a side); rows shrink beyond."""
PAD_IN, GAP_IN = 0.08, 0.12
LINE = 1.25  # line height as a multiple of the font size
_TICKS_IN = (7 + SMALL_PT * LINE) / 72  # tick marks, their padding and labels
_FAVOURS_GAP_IN = 0.06  # between the null line and each favours label
RATIO_MEASURES = frozenset({"logRR", "logOR"})
_DIGITS = re.compile(r"[0-9]")
_SAFETY_IN = 0.01  # room for kerning a digit pattern's width might not show
AXIS_LABELS = {
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "logRR": "Risk ratio (log scale)",
    "logOR": "Odds ratio (log scale)",
    "RD": "Risk difference",
}


# ----------------------------------------------------------------------------- measuring


@cache
def _renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(8, 8, 72)  # at 72 dpi a pixel is a point


@cache
def text_width_in(text: str, size: float, bold: bool = False) -> float:
    """Width of one line of text in inches, as Agg draws it."""
    if not text:
        return 0.0
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = _renderer().get_text_width_height_descent(text, prop, ismath=False)
    return width / 72.0


def block_width_in(text: str, size: float, bold: bool = False) -> float:
    """Width of a possibly multi-line text in inches."""
    return max(text_width_in(line, size, bold) for line in text.split("\n"))


def widest_in(texts: Sequence[str], size: float, bold: bool = False) -> float:
    """Width of the widest of many texts, measuring each digit pattern once.

    DejaVu Sans (matplotlib's default) has tabular digits: texts that differ only in their
    digits ("Smith 2009", "Smith 2010") are equally wide, so one of each pattern is measured.
    """
    shapes = {_DIGITS.sub("0", t): t for t in texts}
    return max((block_width_in(t, size, bold) for t in shapes.values()), default=0.0)


def line_in(size: float) -> float:
    """Height of one line of text (inches)."""
    return size * LINE / 72.0


def wrap(text: str, width_in: float, size: float, bold: bool = False) -> str:
    """Break ``text`` into lines no wider than ``width_in``, at spaces when possible.

    >>> wrap("Sigtermans et al. 2009", 0.9, 11)
    'Sigtermans\\net al. 2009'
    """
    if text_width_in(_DIGITS.sub("0", text), size, bold) <= width_in - _SAFETY_IN:
        return text  # fits (digits are tabular: measured once per digit pattern)
    lines: list[str] = []
    for word in (w for w in text.split(" ") if w):  # at spaces only, not at no-break spaces
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width_in(candidate, size, bold) <= width_in:
            lines[-1] = candidate
            continue
        while text_width_in(word, size, bold) > width_in and len(word) > 1:  # break a long word
            cut = max(1, next(i for i in range(len(word), 0, -1)
                              if text_width_in(word[:i], size, bold) <= width_in or i == 1))
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return "\n".join(lines) or text


# ----------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class ForestRows:
    """What the plot shows, before any layout.

    Attributes
    ----------
    labels, weights, effects : list of str
        One per study: label (unwrapped), weight text, effect text.
    effect, low, high, weight : numpy.ndarray
        Estimates, CI bounds and weights (percent).
    measure : str
        Effect measure (``SMD``, ``logRR`` ...).
    lower_is_better : bool or None
        Direction of the scale; ``None`` when the table does not say (no favours labels).
    pooled : PoolResult or None
        The pooled result drawn under the studies.
    """

    labels: list[str]
    weights: list[str]
    effects: list[str]
    effect: np.ndarray
    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray
    measure: str
    lower_is_better: bool | None
    pooled: PoolResult | None

    @property
    def log_scale(self) -> bool:
        return self.measure in RATIO_MEASURES

    def fmt(self, value: float) -> str:
        """A value as shown in the effect column (back-transformed for ratios)."""
        if self.log_scale:
            ratio = math.exp(value)
            return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"
        return f"{value:.2f}"

    @property
    def has_prediction_interval(self) -> bool:
        """Only from three trials: with two, the between-trial spread cannot be estimated."""
        pooled = self.pooled
        return pooled is not None and pooled.k >= 3 and all(
            isinstance(v, int | float) and math.isfinite(v)
            for v in (pooled.pi_low, pooled.pi_high))


def _log_ticks(low: float, high: float, plot_width_in: float) -> np.ndarray:
    """Ratio ticks (1 first, then outwards) that leave room between their labels."""
    nice = np.log([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    nice = nice[(nice >= low) & (nice <= high)]
    if high <= low or not len(nice):
        return nice
    inches = (nice - low) / (high - low) * plot_width_in
    widths = [text_width_in(f"{math.exp(x):.3g}", SMALL_PT) for x in nice]
    order = sorted(range(len(nice)), key=lambda i: abs(nice[i]))  # 1 first, then outwards
    kept: list[int] = []
    for i in order:
        if all(abs(inches[i] - inches[j]) >= (widths[i] + widths[j]) / 2 + 0.1 for j in kept):
            kept.append(i)
    return nice[sorted(kept)]


def _direction(table: pd.DataFrame) -> bool | None:
    """``lower_is_better`` of the rows, ``None`` if not given; mixed directions are refused."""
    if "lower_is_better" not in table:
        return None
    seen = {str(v).strip().lower() for v in table["lower_is_better"] if not pd.isna(v)}
    truth = {"true": True, "1": True, "false": False, "0": False}
    values = {truth.get(v) for v in seen}
    if None in values:
        raise AnalysisError(f"forest_plot: lower_is_better must be true or false, got {seen}")
    if len(values) > 1:
        raise AnalysisError("forest_plot: the rows disagree on lower_is_better, so the "
                            "favours labels would be wrong for some; plot them apart")
    return values.pop() if values else None


def forest_rows(table: pd.DataFrame, pooled: PoolResult | None = None,
                labels: Mapping[str, str] | None = None) -> ForestRows:
    """Check the rows and collect what each one shows."""
    require_columns(table, ["study_id", "effect", "ci_low", "ci_high", "variance"],
                    "forest_plot")
    n = len(table)
    if n == 0:
        raise AnalysisError("forest_plot needs at least one row")
    if pooled is not None and pooled.k != n:
        raise AnalysisError(f"pooled result has k={pooled.k} but the table has {n} rows")
    labels = labels or {}
    effect = table["effect"].to_numpy(float)
    low, high = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    if pooled is not None:
        weight = np.asarray(pooled.weights, dtype=float)
    else:
        inverse = 1.0 / table["variance"].to_numpy(float)
        weight = 100 * inverse / inverse.sum()
    measure = str(table["effect_measure"].iloc[0]) if "effect_measure" in table else ""
    rows = ForestRows([], [], [], effect, low, high, weight, measure, _direction(table), pooled)
    rows.labels.extend(str(labels.get(sid, sid)) for sid in table["study_id"])
    rows.weights.extend(f"{w:.1f}%" for w in weight)
    rows.effects.extend(f"{rows.fmt(e)} [{rows.fmt(a)}, {rows.fmt(b)}]"
                        for e, a, b in zip(effect, low, high, strict=True))
    return rows


def favours(lower_is_better: bool) -> tuple[str, str]:
    """``(left, right)`` favours labels for the direction of the scale.

    Values left of the line of no effect are lower: they favour the treatment when lower is
    better, the control otherwise (for ratios the same, on the log scale around 1).

    >>> favours(True)
    ('Favours treatment', 'Favours control')
    >>> favours(False)
    ('Favours control', 'Favours treatment')
    """
    if lower_is_better:
        return "Favours treatment", "Favours control"
    return "Favours control", "Favours treatment"


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class ForestLayout:
    """Where everything goes, in inches (x from the figure's left, y from the axes' top).

    Attributes
    ----------
    width, height : float
        Figure size.
    labels, effects : list of str
        Study labels and effect texts, wrapped to their columns.
    pooled_label, heterogeneity, pooled_effect, effect_heading : str
        The pooled block's texts and the effect column's heading, wrapped likewise
        (``""`` without a pooled result).
    label_right, plot_left, plot_width, weight_left, effect_left : float
        Column edges (the label column is right-aligned at ``label_right``).
    row_top, row_height : numpy.ndarray
        Each row's top and height from the axes' top: the studies, then (with a pooled
        result) the diamond's row and the heterogeneity/prediction-interval row.
    rows_height : float
        Height of the axes (all rows).
    bottom : float
        Space below the axes (ticks, favours labels, x label).
    title, xlabel : str
        Wrapped title and axis label.
    legend_rows : int
        Lines the legend needs (0: no legend).
    """

    width: float
    height: float
    labels: list[str]
    effects: list[str]
    pooled_label: str
    heterogeneity: str
    pooled_effect: str
    effect_heading: str
    label_right: float
    plot_left: float
    plot_width: float
    weight_left: float
    effect_left: float
    row_top: np.ndarray
    row_height: np.ndarray
    rows_height: float
    bottom: float
    title: str
    xlabel: str
    legend_rows: int

    @property
    def centres(self) -> np.ndarray:
        """Vertical centre of each row (inches from the axes' top)."""
        return self.row_top + self.row_height / 2


def _legend_texts(rows: ForestRows) -> list[str]:
    pooled = rows.pooled
    if pooled is None:
        return []
    how = pooled.method + (", Knapp-Hartung" if pooled.knapp_hartung else "")
    texts = [f"Pooled estimate ({how})"]
    if rows.has_prediction_interval:
        texts.append(f"{100 * pooled.level:.0f}% prediction interval")
    return texts


def pooled_texts(rows: ForestRows) -> tuple[str, str, str]:
    """Label, heterogeneity line and effect text of the pooled estimate (``""`` if none)."""
    pooled = rows.pooled
    if pooled is None:
        return "", "", ""
    nb = "\u00a0"  # no-break space: "(k = 6)" and "I² = 51%" stay on one line
    return (f"Pooled estimate (k{nb}={nb}{pooled.k})",
            f"τ²{nb}={nb}{pooled.tau2:.3f}, I²{nb}={nb}{pooled.i2:.0f}%",
            f"{rows.fmt(pooled.estimate)} [{rows.fmt(pooled.ci_low)}, {rows.fmt(pooled.ci_high)}]")


def _lines(*texts: str) -> int:
    return max(t.count("\n") for t in texts) + 1


def _columns_widths(rows: ForestRows) -> tuple[float, float, float, bool]:
    """Label, weight and effect column widths, and whether effects go on two lines."""
    pooled_label, heterogeneity, pooled_effect = pooled_texts(rows)
    weight_w = max(widest_in([*rows.weights, "100%"], BODY_PT),
                   text_width_in("Weight", BODY_PT, bold=True))
    label_w = min(LABEL_MAX_IN, max(
        widest_in(rows.labels, BODY_PT) + _SAFETY_IN,
        text_width_in("Study", BODY_PT, bold=True),
        text_width_in(pooled_label, BODY_PT, bold=True),
        text_width_in(heterogeneity, SMALL_PT)))
    fixed = 2 * PAD_IN + 3 * GAP_IN + weight_w
    one_line = max(widest_in(rows.effects, BODY_PT),
                   text_width_in(pooled_effect, BODY_PT, bold=True),
                   text_width_in("Effect [95% CI]", BODY_PT, bold=True))
    if WIDTH_IN - fixed - label_w - one_line >= PLOT_MIN_IN:
        return label_w, weight_w, one_line, False
    two_lines = max(widest_in([t.replace(" [", "\n[") for t in rows.effects], BODY_PT),
                    block_width_in(pooled_effect.replace(" [", "\n["), BODY_PT, bold=True),
                    text_width_in("[95% CI]", BODY_PT, bold=True))
    label_w = max(1.0, min(label_w, WIDTH_IN - fixed - two_lines - PLOT_MIN_IN))
    return label_w, weight_w, two_lines, True


def forest_layout(rows: ForestRows, title: str | None, xlabel: str) -> ForestLayout:
    """Measure the texts and place the columns and rows (no figure needed)."""
    label_w, weight_w, effect_w, split = _columns_widths(rows)
    width = max(WIDTH_IN, 2 * PAD_IN + 3 * GAP_IN + label_w + weight_w + effect_w + PLOT_MIN_IN)
    label_right = PAD_IN + label_w
    effect_left = width - PAD_IN - effect_w
    weight_left = effect_left - GAP_IN - weight_w

    def effect_text(text: str) -> str:
        return text.replace(" [", "\n[") if split else text

    pooled_label, heterogeneity, pooled_effect = pooled_texts(rows)
    labels = [wrap(t, label_w, BODY_PT) for t in rows.labels]
    effects = [effect_text(t) for t in rows.effects]
    pooled_label = wrap(pooled_label, label_w, BODY_PT, bold=True) if pooled_label else ""
    heterogeneity = wrap(heterogeneity, label_w, SMALL_PT) if heterogeneity else ""
    lines = [_lines(a, b) for a, b in zip(labels, effects, strict=True)]
    if rows.pooled is not None:
        lines += [_lines(pooled_label, effect_text(pooled_effect)), _lines(heterogeneity)]
    row_pad = 0.35 * line_in(BODY_PT)
    row_height = np.array(lines, dtype=float) * line_in(BODY_PT) + row_pad
    if rows.pooled is not None:
        row_height[-2:] += row_pad  # a little air around the diamond
    rows_height = float(row_height.sum()) + 0.05

    title_text = wrap(title, width - 2 * PAD_IN, TITLE_PT, bold=True) if title else ""
    legend = _legend_texts(rows)
    one_row = sum(text_width_in(t, SMALL_PT) + 0.5 for t in legend) < width - 2 * PAD_IN
    legend_rows = 0 if not legend else 1 if one_row else len(legend)
    top = PAD_IN + (_lines(title_text) * line_in(TITLE_PT) + GAP_IN if title_text else 0.0)
    top += legend_rows * line_in(SMALL_PT) * 1.3 + (0.1 if legend_rows else 0.0)
    effect_heading = "Effect\n[95% CI]" if split else "Effect [95% CI]"
    top += _lines(effect_heading) * line_in(BODY_PT) + 0.06  # column headings
    axis_label = wrap(xlabel, width - 2 * PAD_IN, BODY_PT)
    bottom = (_TICKS_IN + 0.06 + line_in(SMALL_PT)  # tick labels, favours labels
              + 0.06 + _lines(axis_label) * line_in(BODY_PT) + PAD_IN)
    height = top + rows_height + bottom
    if height > MAX_HEIGHT_IN:  # squeeze the rows; such a plot is for an overview only
        scale = (MAX_HEIGHT_IN - top - bottom) / rows_height
        row_height, rows_height = row_height * scale, rows_height * scale
        height = MAX_HEIGHT_IN
    row_top = np.concatenate([[0.0], np.cumsum(row_height)[:-1]]) + 0.025
    return ForestLayout(
        width=width, height=height, labels=labels, effects=effects,
        pooled_label=pooled_label, heterogeneity=heterogeneity,
        pooled_effect=effect_text(pooled_effect), effect_heading=effect_heading,
        label_right=label_right, plot_left=label_right + GAP_IN,
        plot_width=weight_left - GAP_IN - (label_right + GAP_IN), weight_left=weight_left,
        effect_left=effect_left, row_top=row_top, row_height=row_height,
        rows_height=rows_height, bottom=bottom, title=title_text, xlabel=axis_label,
        legend_rows=legend_rows)


# ----------------------------------------------------------------------------- drawing


def _favours_texts(rows: ForestRows) -> tuple[str, str]:
    left, right = favours(bool(rows.lower_is_better))
    return f"← {left}", f"{right} →"


def _x_limits(rows: ForestRows, layout: ForestLayout) -> tuple[float, float]:
    """Data range with 5% air, widened so each favours label fits beside the null line."""
    xs = [float(np.nanmin(rows.low)), float(np.nanmax(rows.high)), 0.0]
    pooled = rows.pooled
    if pooled is not None:
        xs += [pooled.ci_low, pooled.ci_high]
        if rows.has_prediction_interval:
            xs += [pooled.pi_low, pooled.pi_high]
    span = max(xs) - min(xs) or 1.0
    low, high = min(xs) - 0.05 * span, max(xs) + 0.05 * span
    if rows.lower_is_better is None:
        return low, high
    left, right = _favours_texts(rows)
    # Where the null line may sit, as a fraction of the plot width from its left edge.
    fits_left = (PAD_IN + text_width_in(left, SMALL_PT) + _FAVOURS_GAP_IN
                 - layout.plot_left) / layout.plot_width
    fits_right = (layout.width - PAD_IN - text_width_in(right, SMALL_PT) - _FAVOURS_GAP_IN
                  - layout.plot_left) / layout.plot_width
    if fits_left > fits_right:  # not both: keep the data range (labels may then touch)
        return low, high
    at = -low / (high - low)
    if at < fits_left:
        low = -fits_left * high / (1 - fits_left)
    elif at > fits_right:
        high = low - low / fits_right
    return low, high


def _columns(fig: Figure, ax: Axes, rows: ForestRows, layout: ForestLayout) -> None:
    """Headings, study labels, weights and effects, in inches from the figure's left."""
    at = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    for x, text, ha in ((layout.label_right, "Study", "right"),
                        (layout.weight_left, "Weight", "left"),
                        (layout.effect_left, layout.effect_heading, "left")):
        ax.text(x, -0.04, text, transform=at, ha=ha, va="bottom", weight="bold",
                fontsize=BODY_PT, gid="column-heading", linespacing=1.1)
    n = len(rows.labels)
    for y, label, weight, effect in zip(layout.centres[:n], layout.labels, rows.weights,
                                        layout.effects, strict=True):
        ax.text(layout.label_right, y, label, transform=at, ha="right", va="center",
                fontsize=BODY_PT, gid="study-label", parse_math=False, linespacing=1.1)
        ax.text(layout.weight_left, y, weight, transform=at, ha="left", va="center",
                fontsize=BODY_PT, gid="weight-label")
        ax.text(layout.effect_left, y, effect, transform=at, ha="left", va="center",
                fontsize=BODY_PT, gid="effect-label", linespacing=1.1)


def _studies(ax: Axes, rows: ForestRows, layout: ForestLayout) -> None:
    """Confidence intervals and squares sized by weight."""
    y = layout.centres[: len(rows.labels)]
    ax.add_collection(LineCollection(
        np.stack([np.c_[rows.low, y], np.c_[rows.high, y]], axis=1),
        colors="black", linewidths=1.0, gid="study-cis"))
    ax.scatter(rows.effect, y, s=marker_areas(pd.Series(rows.weight), 12, 120), marker="s",
               color="black", zorder=3, gid="study-markers")


def _pooled(fig: Figure, ax: Axes, rows: ForestRows, layout: ForestLayout) -> None:
    """The diamond, the prediction interval when given, and their texts."""
    pooled = rows.pooled
    if pooled is None:
        return
    yp, yh = layout.centres[-2:]
    half = 0.38 * line_in(BODY_PT) * 1.35
    how = pooled.method + (", Knapp-Hartung" if pooled.knapp_hartung else "")
    ax.add_patch(Polygon(
        [(pooled.ci_low, yp), (pooled.estimate, yp - half), (pooled.ci_high, yp),
         (pooled.estimate, yp + half)],
        closed=True, facecolor="0.3", edgecolor="black", hatch="xxx", gid="pooled-diamond",
        label=f"Pooled estimate ({how})"))
    if rows.has_prediction_interval:
        ax.plot([pooled.pi_low, pooled.pi_high], [yh, yh], color="black", linestyle="--",
                linewidth=1.6, marker="|", markersize=9, markeredgewidth=1.6,
                gid="prediction-interval",
                label=f"{100 * pooled.level:.0f}% prediction interval")
    at = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    ax.text(layout.label_right, yp, layout.pooled_label, transform=at, ha="right",
            va="center", weight="bold", fontsize=BODY_PT, gid="pooled-label", linespacing=1.1)
    ax.text(layout.label_right, yh, layout.heterogeneity, transform=at, ha="right",
            va="center", fontsize=SMALL_PT, gid="heterogeneity-label", linespacing=1.1)
    ax.text(layout.weight_left, yp, "100%", transform=at, ha="left", va="center",
            fontsize=BODY_PT, gid="pooled-weight")
    ax.text(layout.effect_left, yp, layout.pooled_effect, transform=at, ha="left",
            va="center", weight="bold", fontsize=BODY_PT, gid="pooled-effect", linespacing=1.1)


def _axis(ax: Axes, rows: ForestRows, layout: ForestLayout) -> None:
    """Limits, the line of no effect, ticks (ratios on the log scale) and the axis label."""
    low, high = _x_limits(rows, layout)
    ax.set_xlim(low, high)
    ax.set_ylim(layout.rows_height, 0)  # rows from the top
    ax.axvline(0.0, color="0.4", linestyle=":", linewidth=1.0, gid="null-line")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=SMALL_PT)
    if rows.log_scale:
        ax.set_xticks(_log_ticks(low, high, layout.plot_width))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{math.exp(x):.3g}"))
    else:
        ax.locator_params(axis="x", nbins=max(3, int(layout.plot_width / 0.55)))
    ax.set_xlabel(layout.xlabel, fontsize=BODY_PT,
                  labelpad=(0.06 + line_in(SMALL_PT) + 0.06) * 72)


def _favours(fig: Figure, ax: Axes, rows: ForestRows, layout: ForestLayout) -> None:
    """"← Favours ..." and "Favours ... →" on either side of the line of no effect."""
    if rows.lower_is_better is None:
        return
    left, right = _favours_texts(rows)
    low, high = ax.get_xlim()
    null = layout.plot_left + layout.plot_width * (0.0 - low) / (high - low)
    at = blended_transform_factory(fig.dpi_scale_trans, ax.transAxes)
    y = -(_TICKS_IN + 0.06) / layout.rows_height  # under the tick labels
    ax.text(null - _FAVOURS_GAP_IN, y, left, transform=at, ha="right", va="top",
            fontsize=SMALL_PT, gid="favours-left")
    ax.text(null + _FAVOURS_GAP_IN, y, right, transform=at, ha="left", va="top",
            fontsize=SMALL_PT, gid="favours-right")


def _legend_and_title(fig: Figure, ax: Axes, layout: ForestLayout) -> None:
    top_in = layout.height - PAD_IN
    if layout.title:
        fig.text(0.5, top_in / layout.height, layout.title,
                 ha="center", va="top", weight="bold", fontsize=TITLE_PT, gid="title")
        top_in -= (layout.title.count("\n") + 1) * line_in(TITLE_PT) + GAP_IN
    if layout.legend_rows:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, top_in / layout.height),
                  bbox_transform=fig.transFigure, ncol=1 if layout.legend_rows > 1 else 2,
                  fontsize=SMALL_PT, frameon=False, borderaxespad=0, borderpad=0,
                  handlelength=2.0, columnspacing=1.2, labelspacing=0.3)


def forest_plot(
    table: pd.DataFrame,
    pooled: PoolResult | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Draw a forest plot of effect sizes, with the pooled diamond and prediction interval.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of :func:`crps_evidence.stats.synthesis.effect_sizes` (study_id, effect, ci_low,
        ci_high, variance, effect_measure, lower_is_better), drawn top to bottom. Without
        a ``lower_is_better`` column no favours labels are drawn; rows that disagree on it
        are refused.
    pooled : PoolResult, optional
        Result of pooling exactly these rows in this order; adds the diamond, the
        prediction interval (dashed, only when the result gives one) and uses its weights.
        Without it, weights are fixed-effect inverse-variance percentages.
    labels : mapping, optional
        ``study_id -> label`` (e.g. "Sigtermans et al. 2009"); default the study_id.
        Long labels wrap onto several lines.
    title, xlabel : str, optional
        Title and x-axis label (default from the effect measure).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    AnalysisError
        No rows, a pooled result of other rows, or mixed ``lower_is_better``.

    Examples
    --------
    >>> rows = pd.DataFrame({"study_id": ["a", "b"], "effect": [-0.5, -0.1],
    ...     "ci_low": [-0.9, -0.5], "ci_high": [-0.1, 0.3], "variance": [0.04, 0.04],
    ...     "effect_measure": "SMD", "lower_is_better": True})
    >>> fig = forest_plot(rows, labels={"a": "Author A 2001"})
    """
    rows = forest_rows(table, pooled, labels)
    layout = forest_layout(rows, title, xlabel or AXIS_LABELS.get(
        rows.measure, "Effect (treatment − control)"))
    fig = Figure(figsize=(layout.width, layout.height))
    ax = fig.add_axes((layout.plot_left / layout.width, layout.bottom / layout.height,
                       layout.plot_width / layout.width, layout.rows_height / layout.height))
    _studies(ax, rows, layout)
    _pooled(fig, ax, rows, layout)
    _axis(ax, rows, layout)
    _columns(fig, ax, rows, layout)
    _favours(fig, ax, rows, layout)
    _legend_and_title(fig, ax, layout)
    return fig

