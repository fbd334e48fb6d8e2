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

from ..errors import AnalysisError
from ._figure_tools import marker_areas as _areas
from ._figure_tools import require_columns as _require
from .forest import forest_plot

__all__ = ["evidence_map", "evidence_map_key", "evidence_timeline", "forest_plot"]

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
    "medication": ("p", "#FFFFFF"),
    "psychological": ("<", "#999999"),
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


def _grid_offsets(cell: pd.Series, width: float = 0.84, height: float = 0.62,
                  per_row: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Offsets that lay the markers of one cell out in a grid (up to ``per_row`` a row)."""
    rank = cell.groupby(cell, sort=False).cumcount().to_numpy()
    size = cell.map(cell.value_counts()).to_numpy()
    cols = np.minimum(size, per_row)
    rows = np.ceil(size / per_row)
    col, row = rank % per_row, rank // per_row
    dx = np.where(cols > 1, (col / np.maximum(cols - 1, 1) - 0.5) * width, 0.0)
    dy = np.where(rows > 1, (0.5 - row / np.maximum(rows - 1, 1)) * height, 0.0)
    return dx, dy


def evidence_map_key(summary: pd.DataFrame) -> pd.DataFrame:
    """The numbers :func:`evidence_map` puts on its markers, with each treatment's name.

    Returns
    -------
    pandas.DataFrame
        Columns ``number``, ``name``, ``certainty`` and ``invasiveness``, in number order
        (by invasiveness, certainty, then name).

    Examples
    --------
    >>> evidence_map_key(pd.DataFrame({"name": ["B", "A"], "category": ["topical"] * 2,
    ...     "invasiveness": [1, 1], "certainty": ["low", "low"],
    ...     "rct_participants": [0, 0]}))["name"].tolist()
    ['A', 'B']
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
    data = data.sort_values(["x", "y", "name"], kind="stable").reset_index(drop=True)
    data["number"] = range(1, len(data) + 1)
    return data


def evidence_map(summary: pd.DataFrame, key: bool = True) -> Figure:
    """Map treatments by invasiveness (x) and GRADE certainty (y), sized by RCT participants.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns name, category, invasiveness (0-4), certainty (high, moderate, low, very
        low, or "no studies found", drawn apart below a dashed line because it is a state,
        not a rating) and rct_participants (may be 0 or missing: smallest marker).
        Treatments sharing a cell are laid out in a small grid, in name order. Each marker
        carries a number (:func:`evidence_map_key`), so names never overlap.
    key : bool
        Draw the key (number and name) under the plot. Pages for phones show the key as an
        HTML table instead (``key=False``; :func:`crps_evidence.book.notebook.evidence_map`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = evidence_map(pd.DataFrame({"name": ["Graded motor imagery"],
    ...     "category": ["rehabilitation"], "invasiveness": [0], "certainty": ["low"],
    ...     "rct_participants": [50]}))
    """
    data = evidence_map_key(summary)
    cell = data["x"].astype(str) + "/" + data["y"].astype(str)
    dx, dy = _grid_offsets(cell)
    data["x"] += dx
    data["y"] += dy
    data["area"] = _areas(data["rct_participants"], 25, 300)

    key_rows = math.ceil(len(data) / 2) if key else 0
    key_in = 0.35 + 0.19 * key_rows if key else 0.0
    plot_in, legend_in = 5.6, 1.25
    height = plot_in + legend_in + key_in
    fig = Figure(figsize=(7.5, height))
    ax = fig.add_axes((0.16, (legend_in + key_in + 0.75) / height, 0.8,
                       (plot_in - 1.0) / height))
    known = [c for c in _CATEGORY_STYLE if c in set(data["category"])]
    other = sorted(set(data["category"]) - set(_CATEGORY_STYLE))
    for i, category in enumerate(known + other):
        marker, colour = _CATEGORY_STYLE.get(
            category, (_EXTRA_MARKERS[i % len(_EXTRA_MARKERS)], "0.5")
        )
        rows = data[data["category"] == category]
        ax.scatter(rows["x"], rows["y"], s=rows["area"], marker=marker, c=colour,
                   edgecolors="black", linewidths=0.8, alpha=0.9, label=category,
                   gid=f"category:{category}", zorder=3)
    for row in data.itertuples():
        ax.annotate(str(row.number), (row.x, row.y), xytext=(0, math.sqrt(row.area) / 2 + 1),
                    textcoords="offset points", ha="center", va="bottom", fontsize=9,
                    fontweight="bold", gid="treatment-number", zorder=4)
    ax.set_xticks(range(5), INVASIVENESS, fontsize=9)
    ax.set_yticks(list(_Y.values()), ["No studies\nfound"] + [c.capitalize() for c in CERTAINTY],
                  fontsize=10)
    ax.axhline(-0.6, color="0.3", linestyle="--", linewidth=0.8, gid="no-studies-divider")
    ax.set_xlim(-0.6, 4.6)
    ax.set_ylim(-1.65, len(CERTAINTY) - 0.5)
    ax.grid(True, color="0.9", zorder=0)
    ax.set_xlabel("Invasiveness (ordinal)", fontsize=10)
    ax.set_ylabel("GRADE certainty of evidence", fontsize=10)
    legend = fig.legend(*ax.get_legend_handles_labels(), title="Category", ncol=3,
                        loc="upper center", frameon=False, fontsize=9, title_fontsize=9,
                        bbox_to_anchor=(0.5, (legend_in + key_in + 0.05) / height))
    ax.legend_ = legend  # tests and readers find it on the axes
    for handle in legend.legend_handles:
        handle.set_sizes([60])  # type: ignore[union-attr]
    if key:
        top = (key_in - 0.3) / height
        for row in data.itertuples():
            column, line = divmod(row.number - 1, key_rows)
            fig.text(0.05 + 0.48 * column, top - line * 0.19 / height,
                     f"{row.number:>2}  {row.name}", fontsize=8.5, va="top",
                     gid="treatment-label")
    fig.text(0.5, 0.08 / height if not key else (key_in - 0.02) / height,
             "Marker area grows with the number of participants in randomised trials.",
             fontsize=8.5, ha="center", va="bottom")
    return fig


# ------------------------------------------------------------------------ evidence timeline


def _short_label(label: str, longest: int = 24) -> str:
    """A study label short enough for a phone: no "et al.", long titles shortened by words.

    A title is cut after a whole word, never inside one, and marked with an ellipsis; the
    study table on the same page names each study in full.

    >>> _short_label("Sigtermans et al. 2009")
    'Sigtermans 2009'
    >>> _short_label("“Efficacy of outpatient ketamine infusions in pain” 2012")
    '“Efficacy of…” 2012'
    """
    text = " ".join(str(label).replace(" et al.", "").split())
    if len(text) <= longest:
        return text
    name, _, year = text.rpartition(" ")
    if not (year.isdigit() and len(year) == 4):
        name, year = text, ""
    quoted = name.startswith("“")
    name = name.strip("“”…")
    room = max(longest - len(year) - (4 if quoted else 2), 4)
    words = name.split()
    kept = words[0]
    for word in words[1:]:
        if len(kept) + 1 + len(word) > room:
            break
        kept += " " + word
    cut = kept.rstrip(",;:") + "…"
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
