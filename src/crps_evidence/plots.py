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

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._figure_tools import marker_areas as _areas
from ._figure_tools import require_columns as _require
from .errors import AnalysisError
from .forest import forest_plot

__all__ = ["evidence_map", "evidence_timeline", "forest_plot"]

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


def _spread(groups: pd.Series, width: float) -> np.ndarray:
    """Deterministic offsets in [-width/2, width/2] separating rows that share a group."""
    rank = groups.groupby(groups, sort=False).cumcount().to_numpy(dtype=float)
    size = groups.map(groups.value_counts()).to_numpy(dtype=float)
    return np.where(size > 1, (rank / np.maximum(size - 1, 1) - 0.5) * width, 0.0)


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
