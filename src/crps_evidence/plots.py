"""Figures for the notebooks: forest plot, evidence map and evidence timeline.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, any backend). Figures are deterministic (no randomness, no timestamps in the
figure; pass ``metadata={"CreationDate": None}`` to ``savefig`` for byte-stable PDFs) and
readable in grey scale: groups differ by marker shape and fill, not by colour alone.
Artists that tests and readers may look up carry a ``gid`` ("study-markers",
"pooled-diamond", "prediction-interval", "category:<name>", "result:<name>").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter

from .errors import AnalysisError

if TYPE_CHECKING:  # only for annotations: plotting needs no statistics library
    from .synthesis import PoolResult

__all__ = ["evidence_map", "evidence_timeline", "forest_plot"]

#: Tallest figure drawn, in inches (Agg cannot render more than 2**16 pixels a side).
MAX_HEIGHT_IN = 250.0

_AXIS_LABELS = {
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "logRR": "Risk ratio (log scale)",
    "logOR": "Odds ratio (log scale)",
    "RD": "Risk difference",
}

CERTAINTY = ("not rated", "very low", "low", "moderate", "high")
INVASIVENESS = (
    "0\nexercise,\nbehavioural",
    "1\nskin surface,\ntopical, chamber",
    "2\nintravenous,\nextracorporeal",
    "3\ninjection\nnear nerves",
    "4\nimplanted\ndevice",
)
# Okabe-Ito colours (colour-blind safe) paired with distinct marker shapes and fills.
_CATEGORY_STYLE: dict[str, tuple[str, str]] = {
    "rehabilitation": ("o", "#009E73"),
    "topical": ("s", "#F0E442"),
    "external device": ("D", "#56B4E9"),
    "chamber": ("h", "#CC79A7"),
    "infusion": ("^", "#E69F00"),
    "apheresis": ("v", "#0072B2"),
    "injection": ("P", "#D55E00"),
    "implanted device": ("*", "#000000"),
}
_EXTRA_MARKERS = ("X", "p", "<", ">", "8", "d")

DESIGNS = (
    "parallel RCT",
    "crossover RCT",
    "RCT follow-up",
    "non-randomised controlled",
    "cohort",
    "case series",
    "case report",
)
# primary_result -> (legend text, marker, face colour, hatch); black edges throughout.
_RESULT_STYLE: dict[str, tuple[str, str, str, str]] = {
    "favours_treatment": ("Favours treatment", "^", "0.1", ""),
    "no_difference": ("No difference", "o", "0.65", ""),
    "favours_control": ("Favours control", "v", "white", ""),
    "uncontrolled": ("Uncontrolled", "s", "white", "////"),
    "not_reported": ("Not reported", "D", "0.9", "...."),
}


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise AnalysisError(f"{what} needs columns {missing}")


def _areas(values: pd.Series, smallest: float = 20.0, largest: float = 400.0) -> np.ndarray:
    """Marker areas (points²) growing with the square root of ``values``; NaN -> smallest."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    top = np.nanmax(x) if np.isfinite(x).any() else 0.0
    if not top > 0:
        return np.full(x.shape, smallest)
    scaled = np.sqrt(np.clip(np.nan_to_num(x, nan=0.0), 0, None) / top)
    return smallest + (largest - smallest) * scaled


def _spread(groups: pd.Series, width: float) -> np.ndarray:
    """Deterministic offsets in [-width/2, width/2] separating rows that share a group."""
    rank = groups.groupby(groups, sort=False).cumcount().to_numpy(dtype=float)
    size = groups.map(groups.value_counts()).to_numpy(dtype=float)
    return np.where(size > 1, (rank / np.maximum(size - 1, 1) - 0.5) * width, 0.0)


# ----------------------------------------------------------------------------- forest plot


def _favours(lower_is_better: object) -> tuple[str, str]:
    if str(lower_is_better).strip().lower() in {"true", "1"}:
        return "Favours treatment", "Favours control"
    return "Favours control", "Favours treatment"


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
        Rows of :func:`crps_evidence.synthesis.effect_sizes` (study_id, effect, ci_low,
        ci_high, variance, effect_measure, lower_is_better), drawn top to bottom.
    pooled : PoolResult, optional
        Result of pooling exactly these rows in this order; adds the diamond, the
        prediction interval (dashed) and uses its weights. Without it, weights are
        fixed-effect inverse-variance percentages.
    labels : mapping, optional
        ``study_id -> label`` (e.g. "Sigtermans et al. 2009"); default the study_id.
    title, xlabel : str, optional
        Title and x-axis label (default from the effect measure).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = pd.DataFrame({"study_id": ["a", "b"], "effect": [-0.5, -0.1],
    ...     "ci_low": [-0.9, -0.5], "ci_high": [-0.1, 0.3], "variance": [0.04, 0.04],
    ...     "effect_measure": "SMD", "lower_is_better": True})
    >>> fig = forest_plot(rows, labels={"a": "Author A 2001"})
    """
    _require(table, ["study_id", "effect", "ci_low", "ci_high", "variance"], "forest_plot")
    n = len(table)
    if n == 0:
        raise AnalysisError("forest_plot needs at least one row")
    if pooled is not None and pooled.k != n:
        raise AnalysisError(f"pooled result has k={pooled.k} but the table has {n} rows")
    labels = labels or {}
    effect = table["effect"].to_numpy(float)
    lo, hi = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    if pooled is not None:
        weights = np.asarray(pooled.weights)
    else:
        inverse = 1.0 / table["variance"].to_numpy(float)
        weights = 100 * inverse / inverse.sum()
    measure = str(table["effect_measure"].iloc[0]) if "effect_measure" in table else ""
    log_scale = measure in {"logRR", "logOR"}
    fmt = (lambda x: f"{math.exp(x):.2f}") if log_scale else (lambda x: f"{x:.2f}")

    extra = 2 if pooled is not None else 0
    height = min(MAX_HEIGHT_IN, 2.2 + 0.28 * (n + extra + 1))
    fig = Figure(figsize=(10, height))
    ax = fig.add_axes((0.27, 1.0 / height, 0.40, 1 - 2.2 / height))
    y = np.arange(n, 0, -1, dtype=float)

    ax.add_collection(
        LineCollection(
            np.stack([np.c_[lo, y], np.c_[hi, y]], axis=1),
            colors="black",
            linewidths=1.0,
            gid="study-cis",
        )
    )
    ax.scatter(
        effect,
        y,
        s=_areas(pd.Series(weights), 12, 160),
        marker="s",
        color="black",
        zorder=3,
        gid="study-markers",
    )
    ax.axvline(0.0, color="0.4", linestyle=":", linewidth=1.0, gid="null-line")

    text_y = ax.get_yaxis_transform()  # x in axes coordinates, y in data
    heading_y = n + 0.9
    ax.text(-0.03, heading_y, "Study", transform=text_y, ha="right", weight="bold")
    ax.text(1.03, heading_y, "Weight", transform=text_y, ha="left", weight="bold")
    ax.text(1.22, heading_y, "Effect [95% CI]", transform=text_y, ha="left", weight="bold")
    for yi, sid, w, e, a, b in zip(y, table["study_id"], weights, effect, lo, hi, strict=True):
        ax.text(
            -0.03,
            yi,
            labels.get(sid, str(sid)),
            transform=text_y,
            ha="right",
            va="center",
            gid="study-label",
        )
        ax.text(1.03, yi, f"{w:.1f}%", transform=text_y, ha="left", va="center", gid="weight-label")
        ax.text(
            1.22, yi, f"{fmt(e)} [{fmt(a)}, {fmt(b)}]", transform=text_y, ha="left", va="center"
        )

    xs = [lo.min(), hi.max(), 0.0]
    bottom = 0.3
    if pooled is not None:
        yp = -0.6
        bottom = yp - 0.8
        how = pooled.method + (", Knapp-Hartung" if pooled.knapp_hartung else "")
        diamond = Polygon(
            [
                (pooled.ci_low, yp),
                (pooled.estimate, yp + 0.35),
                (pooled.ci_high, yp),
                (pooled.estimate, yp - 0.35),
            ],
            closed=True,
            facecolor="0.3",
            edgecolor="black",
            hatch="xxx",
            gid="pooled-diamond",
            label=f"Pooled estimate ({how})",
        )
        ax.add_patch(diamond)
        ax.plot(
            [pooled.pi_low, pooled.pi_high],
            [yp - 0.55, yp - 0.55],
            color="black",
            linestyle="--",
            linewidth=1.2,
            marker="|",
            markersize=8,
            gid="prediction-interval",
            label=f"{100 * pooled.level:.0f}% prediction interval",
        )
        ax.text(
            -0.03,
            yp,
            f"Pooled estimate (k = {pooled.k})",
            transform=text_y,
            ha="right",
            va="center",
            weight="bold",
        )
        ax.text(
            -0.03,
            yp - 0.55,
            f"τ² = {pooled.tau2:.3f}, I² = {pooled.i2:.0f}%",
            transform=text_y,
            ha="right",
            va="center",
            fontsize="small",
        )
        ax.text(1.03, yp, "100%", transform=text_y, ha="left", va="center")
        ax.text(
            1.22,
            yp,
            f"{fmt(pooled.estimate)} [{fmt(pooled.ci_low)}, {fmt(pooled.ci_high)}]",
            transform=text_y,
            ha="left",
            va="center",
            weight="bold",
        )
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.47, 1 - 0.45 / height),
            bbox_transform=fig.transFigure,
            ncol=2,
            fontsize="small",
            frameon=False,
        )
        xs += [pooled.pi_low, pooled.pi_high, pooled.ci_low, pooled.ci_high]

    span = max(xs) - min(xs) or 1.0
    ax.set_xlim(min(xs) - 0.05 * span, max(xs) + 0.05 * span)
    ax.set_ylim(bottom, n + 0.6)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if log_scale:
        low, high = ax.get_xlim()
        nice = np.log([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
        ax.set_xticks(nice[(nice >= low) & (nice <= high)])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{math.exp(x):.3g}"))
    ax.set_xlabel(xlabel or _AXIS_LABELS.get(measure, "Effect (treatment − control)"), labelpad=22)
    left, right = _favours(table["lower_is_better"].iloc[0] if "lower_is_better" in table else True)
    under = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    ax.text(
        -0.02 * span,
        -0.07,
        f"← {left}",
        transform=under,
        ha="right",
        va="top",
        fontsize="small",
        gid="favours-left",
    )
    ax.text(
        0.02 * span,
        -0.07,
        f"{right} →",
        transform=under,
        ha="left",
        va="top",
        fontsize="small",
        gid="favours-right",
    )
    if title:
        fig.suptitle(title, y=1 - 0.1 / height, va="top", weight="bold")
    return fig


# ---------------------------------------------------------------------------- evidence map


def evidence_map(summary: pd.DataFrame) -> Figure:
    """Map treatments by invasiveness (x) and GRADE certainty (y), sized by RCT participants.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns name, category, invasiveness (0-4), certainty (high, moderate, low,
        very low or "not rated") and rct_participants (may be 0 or missing: smallest
        marker). Treatments sharing a cell are spread side by side, in name order (in two
        staggered rows when more than three share it). Each marker carries a number; the
        key beside the plot gives the treatment's name, so names never overlap.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = evidence_map(pd.DataFrame({"name": ["Graded motor imagery"],
    ...     "category": ["rehabilitation"], "invasiveness": [0], "certainty": ["low"],
    ...     "rct_participants": [50]}))
    """
    cols = ["name", "category", "invasiveness", "certainty", "rct_participants"]
    _require(summary, cols, "evidence_map")
    data = summary[cols].copy()
    bad_y = sorted(set(data["certainty"]) - set(CERTAINTY))
    inv = pd.to_numeric(data["invasiveness"], errors="coerce")
    if bad_y or not inv.isin(range(5)).all():
        raise AnalysisError(
            f"evidence_map: certainty must be one of {CERTAINTY} (got {bad_y}) and "
            "invasiveness an integer 0-4"
        )
    data = data.assign(x=inv.astype(float), y=data["certainty"].map(CERTAINTY.index).astype(float))
    data = data.sort_values(["x", "y", "name"], kind="stable")
    cell = data["x"].astype(str) + "/" + data["y"].astype(str)
    data["x"] += _spread(cell, 0.8)
    rank = cell.groupby(cell, sort=False).cumcount()
    crowded = cell.map(cell.value_counts()) > 3
    data["y"] += np.where(crowded, np.where(rank % 2 == 0, 0.17, -0.17), 0.0)
    data["area"] = _areas(data["rct_participants"], 25, 450)
    data["number"] = range(1, len(data) + 1)

    fig = Figure(figsize=(12, 7))
    ax = fig.add_axes((0.09, 0.15, 0.55, 0.8))
    known = [c for c in _CATEGORY_STYLE if c in set(data["category"])]
    other = sorted(set(data["category"]) - set(_CATEGORY_STYLE))
    for i, category in enumerate(known + other):
        marker, colour = _CATEGORY_STYLE.get(
            category, (_EXTRA_MARKERS[i % len(_EXTRA_MARKERS)], "0.5")
        )
        rows = data[data["category"] == category]
        ax.scatter(
            rows["x"],
            rows["y"],
            s=rows["area"],
            marker=marker,
            c=colour,
            edgecolors="black",
            linewidths=0.8,
            alpha=0.9,
            label=category,
            gid=f"category:{category}",
            zorder=3,
        )
    for row in data.itertuples():
        ax.annotate(
            str(row.number),
            (row.x, row.y),
            xytext=(0, math.sqrt(row.area) / 2 + 1.5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7.5,
            fontweight="bold",
            gid="treatment-number",
            zorder=4,
        )
    ax.text(1.03, 0.50, "Treatments", transform=ax.transAxes, fontsize=9, fontweight="bold",
            va="top")
    for i, row in enumerate(data.itertuples()):
        ax.text(1.03, 0.46 - i * 0.5 / max(len(data), 12), f"{row.number:>2}  {row.name}",
                transform=ax.transAxes, fontsize=7.5, va="top", gid="treatment-label")
    ax.set_xticks(range(5), INVASIVENESS, fontsize=8)
    ax.set_yticks(range(len(CERTAINTY)), [c.capitalize() for c in CERTAINTY])
    ax.set_xlim(-0.6, 4.6)
    ax.set_ylim(-0.6, len(CERTAINTY) - 0.4)
    ax.grid(True, color="0.9", zorder=0)
    ax.set_xlabel("Invasiveness (ordinal)")
    ax.set_ylabel("GRADE certainty of evidence")
    legend = ax.legend(
        title="Category",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        markerscale=0.6,
    )
    for handle in legend.legend_handles:
        handle.set_sizes([60])  # type: ignore[union-attr]
    fig.text(0.1, 0.02, "Marker area grows with the number of participants in randomised "
             "trials; numbers refer to the key on the right.", fontsize=8)
    return fig


# ------------------------------------------------------------------------ evidence timeline


def evidence_timeline(studies: pd.DataFrame) -> Figure:
    """Plot one marker per study by year (x) and design (y), sized by participants.

    Parameters
    ----------
    studies : pandas.DataFrame
        Columns label, year, design, n (participants; may be missing) and primary_result
        (favours_treatment, no_difference, favours_control, uncontrolled, not_reported).
        The marker shape and fill encode primary_result; a legend lists those present.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = evidence_timeline(pd.DataFrame({"label": ["Moseley 2004"], "year": [2004],
    ...     "design": ["parallel RCT"], "n": [13], "primary_result": ["favours_treatment"]}))
    """
    cols = ["label", "year", "design", "n", "primary_result"]
    _require(studies, cols, "evidence_timeline")
    data = studies[cols].copy()
    unknown = sorted(set(data["primary_result"]) - set(_RESULT_STYLE))
    if unknown:
        raise AnalysisError(f"evidence_timeline: unknown primary_result {unknown}")
    data["year"] = pd.to_numeric(data["year"], errors="coerce")
    if data["year"].isna().any():
        raise AnalysisError("evidence_timeline: every study needs a numeric year")
    designs = [d for d in DESIGNS if d in set(data["design"])]
    designs += sorted(set(data["design"]) - set(DESIGNS))
    data["y"] = data["design"].map({d: i for i, d in enumerate(reversed(designs))})
    data = data.sort_values(["y", "year", "label"], kind="stable")
    data["y"] = data["y"] + _spread(data["y"].astype(str) + "/" + data["year"].astype(str), 0.6)
    data["area"] = _areas(data["n"], 20, 350)

    fig = Figure(figsize=(11, 1.6 + 0.7 * len(designs)))
    ax = fig.add_axes((0.2, 0.22, 0.58, 0.7))
    for result, (text, marker, face, hatch) in _RESULT_STYLE.items():
        rows = data[data["primary_result"] == result]
        if rows.empty:
            continue
        ax.scatter(
            rows["year"],
            rows["y"],
            s=rows["area"],
            marker=marker,
            c=face,
            edgecolors="black",
            linewidths=0.8,
            hatch=hatch or None,
            label=text,
            gid=f"result:{result}",
            zorder=3,
        )
    for x, y, area, label in zip(data["year"], data["y"], data["area"], data["label"], strict=True):
        ax.annotate(
            str(label),
            (x, y),
            xytext=(math.sqrt(area) / 2 + 1, 2),
            textcoords="offset points",
            fontsize=6,
            gid="study-label",
        )
    ax.set_yticks(range(len(designs)), list(reversed(designs)))
    ax.set_ylim(-0.6, len(designs) - 0.4)
    lo, hi = data["year"].min(), data["year"].max()
    ax.set_xlim(lo - 1, hi + 2)
    ax.xaxis.get_major_locator().set_params(integer=True)  # type: ignore[attr-defined]
    ax.grid(True, axis="x", color="0.9", zorder=0)
    ax.set_xlabel("Year of publication")
    legend = ax.legend(
        title="Primary result", loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False
    )
    for handle in legend.legend_handles:
        handle.set_sizes([60])  # type: ignore[union-attr]
    fig.text(0.8, 0.1, "Marker area grows with\nthe number of participants", fontsize=8)
    return fig
