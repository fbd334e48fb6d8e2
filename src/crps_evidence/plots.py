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

#: GRADE levels bottom to top, then the state drawn apart below them (not a rating).
CERTAINTY = ("very low", "low", "moderate", "high")
NO_STUDIES = "no studies found"
_Y = {NO_STUDIES: -1.2, **{level: float(i) for i, level in enumerate(CERTAINTY)}}
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
        Columns name, category, invasiveness (0-4), certainty (high, moderate, low, very
        low, or "no studies found", drawn apart below a dashed line because it is a state,
        not a rating) and rct_participants (may be 0 or missing: smallest marker).
        Treatments sharing a cell are spread side by side, in name order (in two staggered
        rows when more than three share it). Each marker carries a number; the key beside
        the plot gives the treatment's name, so names never overlap.

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
    bad_y = sorted(set(data["certainty"]) - set(_Y))
    inv = pd.to_numeric(data["invasiveness"], errors="coerce")
    if bad_y or not inv.isin(range(5)).all():
        raise AnalysisError(
            f"evidence_map: certainty must be one of {tuple(_Y)} (got {bad_y}) and "
            "invasiveness an integer 0-4"
        )
    data = data.assign(x=inv.astype(float), y=data["certainty"].map(_Y).astype(float))
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
    ax.set_yticks(list(_Y.values()), ["No studies\nfound"] + [c.capitalize() for c in CERTAINTY])
    ax.axhline(-0.6, color="0.3", linestyle="--", linewidth=0.8, gid="no-studies-divider")
    ax.set_xlim(-0.6, 4.6)
    ax.set_ylim(-1.8, len(CERTAINTY) - 0.4)
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


def _short_label(label: str, longest: int = 24) -> str:
    """A study label short enough for a phone: no "et al.", long names cut with an ellipsis.

    >>> _short_label("Sigtermans et al. 2009")
    'Sigtermans 2009'
    >>> _short_label("“Efficacy of outpatient ketamin…” 2012")
    '“Efficacy of outp…” 2012'
    """
    text = " ".join(str(label).replace(" et al.", "").split())
    if len(text) <= longest:
        return text
    name, _, year = text.rpartition(" ")
    if not (year.isdigit() and len(year) == 4):
        name, year = text, ""
    quoted = name.startswith("“")
    name = name.strip("“”…")
    room = longest - len(year) - (4 if quoted else 2)
    cut = name[:max(room, 4)].rstrip() + "…"
    cut = f"“{cut}”" if quoted else cut
    return f"{cut} {year}".strip()


def evidence_timeline(studies: pd.DataFrame) -> Figure:
    """Plot each study on its own row: year of publication (x), grouped by design.

    Made to be read on a phone as well as on a desktop: a narrow, tall figure (one row per
    study, so labels never overlap), large type, short labels ("Sigtermans 2009", no
    "et al."), the years on the top and the bottom axis, and the legend underneath.

    Parameters
    ----------
    studies : pandas.DataFrame
        Columns label, year, design, n (participants; may be missing) and primary_result
        (favours_treatment, no_difference, favours_control, uncontrolled, not_reported).
        The marker shape and fill encode primary_result, its area the number of
        participants; a legend lists the results present.

    Returns
    -------
    matplotlib.figure.Figure
        One axes. Study labels are its y tick labels (RCT designs first, then by year);
        each design's heading is an ``ax.texts`` entry with gid ``design-label``; markers
        are collections with gid ``result:<code>``.

    Raises
    ------
    AnalysisError
        A required column is missing, a year is not a number, or a primary_result is not
        one of the codes above.

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
    data["group"] = data["design"].map({d: i for i, d in enumerate(designs)})
    data = data.sort_values(["group", "year", "label"], kind="stable").reset_index(drop=True)
    data["area"] = _areas(data["n"], 30, 300)

    # Rows from the top: a heading row per design, then one row per study.
    headings, rows, y = [], [], 0.0
    for design in designs:
        members = data[data["design"] == design]
        headings.append((y, design, len(members)))
        rows.extend(y + 1 + i for i in range(len(members)))
        y += len(members) + 1.4
    data["y"] = rows

    fig = Figure(figsize=(5.0, 2.0 + 0.33 * len(data) + 0.33 * len(designs)), layout="constrained")
    ax = fig.add_subplot()
    for result, (text, marker, face, hatch) in _RESULT_STYLE.items():
        chosen = data[data["primary_result"] == result]
        if chosen.empty:
            continue
        ax.scatter(chosen["year"], chosen["y"], s=chosen["area"], marker=marker, c=face,
                   edgecolors="black", linewidths=0.8, hatch=hatch or None, label=text,
                   gid=f"result:{result}", zorder=3)
    lo, hi = data["year"].min(), data["year"].max()
    for top, design, count in headings:
        ax.axhspan(top - 0.45, top + 0.45, color="0.93", zorder=0, lw=0)
        ax.text(lo - 1.9, top, f"{design[0].upper()}{design[1:]} ({count})", fontsize=12,
                fontweight="bold", va="center", ha="left", gid="design-label", zorder=4)
    ax.set_yticks(list(data["y"]), [_short_label(v) for v in data["label"]], fontsize=12)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y - 1.4 + 0.6, -0.6)
    ax.set_xlim(lo - 2, hi + 2)
    ax.xaxis.get_major_locator().set_params(integer=True, nbins=5)  # type: ignore[attr-defined]
    ax.tick_params(axis="x", labelsize=11, top=True, labeltop=len(data) > 6)
    ax.grid(True, axis="x", color="0.85", zorder=0)
    for side in ("left", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("Year of publication", fontsize=12)
    handles, labels = ax.get_legend_handles_labels()
    legend = fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=11,
                        frameon=False,
                        title="Primary result (bigger marker: more participants)",
                        title_fontsize=11)
    for handle in legend.legend_handles:
        handle.set_sizes([70])  # type: ignore[union-attr]
    return fig
