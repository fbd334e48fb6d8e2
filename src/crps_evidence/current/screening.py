"""The screening queue (``data/screening.csv``): records the searches found, and decisions.

``crps-evidence update`` adds a row per new PubMed record and treatment (:func:`new_row`
builds it from an E-utilities summary); ``crps-evidence screen`` lists the rows that wait
(:func:`waiting`) and records a decision (:func:`mark`); :func:`check_screening`, run by
``crps-evidence check``, reports included records that have no study row yet.

The file is edited as text rows (:func:`crps_evidence._files.read_csv_rows`), so rows nobody
touched are written back exactly as they were.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from .._files import (
    atomic_write_text,
    csv_style,
    csv_text,
    data_lock,
    read_csv_rows,
    remove_stale_temporaries,
)
from ..errors import DataError
from ..evidence.references import Bibliography, is_valid_doi, normalize_doi

__all__ = [
    "COLUMNS",
    "STATUSES",
    "Decision",
    "check_screening",
    "known_identifiers",
    "mark",
    "new_row",
    "waiting",
]

COLUMNS = ("pmid", "doi", "title", "journal", "year", "publication_types", "treatment_id",
           "found", "status", "reason", "screened")
"""Columns of ``screening.csv``, in order."""

STATUSES = ("to screen", "included", "excluded")
"""The three states of a record: waiting, and the two decisions."""

_TAG = re.compile(r"<[^>]+>")


def known_identifiers(bib: Bibliography) -> tuple[set[str], set[str]]:
    """PMIDs and (normalised) DOIs of the bibliography: records that need no screening.

    >>> from crps_evidence import load_references
    >>> pmids, dois = known_identifiers(load_references())
    >>> all(d == d.lower() for d in dois)
    True
    """
    pmids = {ref.pmid.strip() for ref in bib.values() if ref.pmid.strip()}
    dois = {normalize_doi(ref.doi) for ref in bib.values() if ref.doi.strip()}
    return pmids, dois


def _plain(text: object) -> str:
    """Text of an E-utilities field: entities decoded, markup and extra spaces removed."""
    if not isinstance(text, str):
        return ""
    return " ".join(_TAG.sub("", html.unescape(text)).split())


def summary_doi(summary: Mapping[str, Any]) -> str:
    """The DOI of an esummary record (bare, lower case), or ``""`` when it has none.

    >>> summary_doi({"articleids": [{"idtype": "doi", "value": "10.5555/ABC"}]})
    '10.5555/abc'
    >>> summary_doi({"articleids": [{"idtype": "pubmed", "value": "900000101"}]})
    ''
    """
    for item in summary.get("articleids") or []:
        if isinstance(item, Mapping) and item.get("idtype") == "doi":
            doi = normalize_doi(str(item.get("value", "")))
            if is_valid_doi(doi):
                return doi
    return ""


def _year(summary: Mapping[str, Any]) -> str:
    for name in ("pubdate", "epubdate", "sortpubdate"):
        match = re.match(r"\s*(\d{4})", str(summary.get(name) or ""))
        if match:
            return match.group(1)
    return ""


def new_row(pmid: str, summary: Mapping[str, Any] | None, treatment_id: str,
            found: date) -> dict[str, str]:
    """A queue row for a PubMed record found by a treatment's search.

    Parameters
    ----------
    pmid : str
        The record's PubMed id.
    summary : mapping or None
        Its E-utilities ``esummary`` record; ``None`` when PubMed gave none (the row then
        holds the PMID only, for the screener to look up).
    treatment_id : str
        The treatment whose search found it.
    found : datetime.date
        The day it was found.

    Returns
    -------
    dict
        Column to cell text (:data:`COLUMNS`), status ``to screen``.

    Examples
    --------
    >>> row = new_row("900000101", {"title": "A &lt;i&gt;case&lt;/i&gt; report.",
    ...     "pubdate": "2026 Oct", "source": "Synth J", "pubtype": ["Case Reports"],
    ...     "articleids": []}, "alpha", date(2026, 12, 5))
    >>> row["title"], row["year"], row["doi"], row["status"]
    ('A case report.', '2026', '', 'to screen')
    """
    summary = summary or {}
    types = [str(t) for t in summary.get("pubtype") or [] if str(t).strip()]
    return {
        "pmid": str(pmid),
        "doi": summary_doi(summary),
        "title": _plain(summary.get("title")),
        "journal": _plain(summary.get("fulljournalname")) or _plain(summary.get("source")),
        "year": _year(summary),
        "publication_types": "; ".join(types),
        "treatment_id": treatment_id,
        "found": found.isoformat(),
        "status": "to screen",
        "reason": "",
        "screened": "",
    }


def waiting(screening: pd.DataFrame, treatment_id: str | None = None) -> pd.DataFrame:
    """The rows that wait to be screened, optionally for one treatment.

    Examples
    --------
    >>> frame = pd.DataFrame({"pmid": ["1", "2"], "treatment_id": ["a", "a"],
    ...                       "status": ["to screen", "excluded"]})
    >>> list(waiting(frame)["pmid"])
    ['1']
    """
    rows = screening[screening["status"] == "to screen"]
    if treatment_id is not None:
        rows = rows[rows["treatment_id"] == treatment_id]
    return rows.reset_index(drop=True)


@dataclass(frozen=True)
class Decision:
    """What :func:`mark` changed: one row of the queue.

    Attributes
    ----------
    pmid, treatment_id : str
        The record and the treatment it was screened for.
    before, after : str
        Its status before and after.
    line : int
        Its line in ``screening.csv``.
    title : str
        Its title, to show what was marked.
    """

    pmid: str
    treatment_id: str
    before: str
    after: str
    line: int
    title: str


def mark(path: str | Path, pmid: str, status: str, *, reason: str = "",
         treatment_id: str | None = None, today: date | None = None) -> Decision:
    """Record a screening decision in ``screening.csv`` (written atomically).

    The queue's folder is locked (:func:`crps_evidence._files.data_lock`) while the file is
    read, changed and written, so two decisions recorded at once are both kept; line
    endings and a byte-order mark stay as they were.

    Parameters
    ----------
    path : str or Path
        The queue file.
    pmid : str
        The record.
    status : str
        ``included``, ``excluded`` or ``to screen`` (to undo a decision).
    reason : str
        Why; required to exclude.
    treatment_id : str, optional
        Which treatment's row, needed when the record waits under several.
    today : datetime.date, optional
        The day recorded in ``screened``; defaults to today (UTC).

    Returns
    -------
    Decision

    Raises
    ------
    ValueError
        Unknown status, an exclusion without a reason, a record not in the queue (for that
        treatment), or one queued under several treatments without ``treatment_id``.
        Nothing is written.
    OSError
        The file could not be written (it is left as it was), or another command kept it
        locked for too long (nothing written).
    """
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    reason = " ".join(reason.split())
    if status == "excluded" and not reason:
        raise ValueError("an exclusion needs a reason (--reason \"...\"): say why the record "
                         "does not belong, e.g. 'not CRPS' or 'animal study'")
    path = Path(path)
    with data_lock(path):  # another run writing the queue: wait for it, then read its result
        remove_stale_temporaries(path, older_than=0)  # every writer holds the lock: all stale
        return _mark(path, pmid, status, reason, treatment_id, today)


def _mark(path: Path, pmid: str, status: str, reason: str, treatment_id: str | None,
          today: date | None) -> Decision:
    from datetime import UTC, datetime

    from ..evidence.tables import load_screening

    load_screening(path)  # a broken file is reported (file, line, field), not edited
    style = csv_style(path)
    header, rows = read_csv_rows(path)
    if list(header) != list(COLUMNS):
        raise DataError(path, f"expected the columns {', '.join(COLUMNS)}", line=1)
    pmid = pmid.strip()
    hits = [(i, row) for i, row in enumerate(rows) if row.get("pmid") == pmid]
    if treatment_id is not None:
        mine = [(i, row) for i, row in hits if row.get("treatment_id") == treatment_id]
        if not mine:
            where = (f"; it is there for {', '.join(r['treatment_id'] for _, r in hits)}"
                     if hits else "")
            raise ValueError(f"{path}: PMID {pmid} is not in the queue for treatment "
                             f"{treatment_id!r}{where}")
        hits = mine
    if not hits:
        raise ValueError(f"{path}: PMID {pmid} is not in the queue (see `crps-evidence "
                         "screen` for what waits)")
    if len(hits) > 1:
        names = ", ".join(r["treatment_id"] for _, r in hits)
        raise ValueError(f"{path}: PMID {pmid} is in the queue for {names}; say which with "
                         "--treatment")
    index, row = hits[0]
    before = row["status"]
    row.update({"status": status, "reason": reason,
                "screened": "" if status == "to screen"
                else (today or datetime.now(UTC).date()).isoformat()})
    atomic_write_text(path, csv_text(header, rows, style))
    return Decision(pmid, row["treatment_id"], before, status, index + 2, row.get("title", ""))


def check_screening(screening: pd.DataFrame, bib: Bibliography, studies: pd.DataFrame,
                    where: str = "screening.csv") -> list[str]:
    """Included records without a study row yet, and exclusions without a reason.

    An included record is done when ``references.bib`` holds it (same PMID or DOI) and a
    ``studies.csv`` row for the same treatment cites that entry.

    Returns
    -------
    list of str
        One line per problem, naming file, line, record and what to do next.

    Examples
    --------
    >>> from crps_evidence import load_references, load_screening, load_studies
    >>> check_screening(load_screening(), load_references(), load_studies())
    []
    """
    by_pmid = {ref.pmid.strip(): key for key, ref in bib.items() if ref.pmid.strip()}
    by_doi = {normalize_doi(ref.doi): key for key, ref in bib.items() if ref.doi.strip()}
    cited: dict[str, set[str]] = {}
    for key, treatment in zip(studies["bibkey"], studies["treatment_id"], strict=True):
        cited.setdefault(str(key), set()).add(str(treatment))
    problems = []
    for line, row in enumerate(screening.itertuples(index=False), start=2):
        at = f"{where}, line {line}, PMID {row.pmid} ({row.treatment_id})"
        if row.status == "excluded" and pd.isna(row.reason):
            problems.append(f"{at}: field 'reason': an excluded record needs a reason")
        if row.status != "included":
            continue
        doi = "" if pd.isna(row.doi) else normalize_doi(str(row.doi))
        key = by_pmid.get(str(row.pmid)) or (by_doi.get(doi) if doi else None)
        if key is None:
            add = f"`crps-evidence add-reference {doi} --pmid`" if doi else "an entry by hand"
            problems.append(f"{at}: included but not in {bib.path.name} and no study row yet: "
                            f"add {add}, then a studies.csv row for {row.treatment_id!r}")
        elif row.treatment_id not in cited.get(key, set()):
            elsewhere = cited.get(key, set())
            also = (f" (studies.csv cites it for {', '.join(sorted(elsewhere))})"
                    if elsewhere else "")
            problems.append(f"{at}: included as '{key}' but no studies.csv row for "
                            f"{row.treatment_id!r} cites it yet{also}")
    return problems
