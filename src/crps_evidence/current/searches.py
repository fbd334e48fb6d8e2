"""Recorded searches per treatment (``data/searches.csv``) and how up to date each one is.

Every treatment has one row: a PubMed query and a ClinicalTrials.gov query, written to be
read by a reviewer, and the day they were last run (empty until someone runs
``crps-evidence update`` on a machine that can reach the services). Each PubMed query is
built the same way::

    <CRPS terms> AND (<intervention terms>) [AND <trials-and-reviews filter>]
        NOT (animals[mh] NOT humans[mh])

PubMed combines left to right, so the final ``NOT`` removes records indexed as animal-only
from the whole search (records not yet indexed are kept). :func:`check_searches` holds every
row to that shape and the registry queries to
:data:`crps_evidence.current.trials.INTERVENTION_TERMS`.

What the pages show comes from :func:`search_status`: per treatment the day its search was
last run (``None``: not yet searched by this collection) and how many records found by it
wait in the screening queue (``data/screening.csv``).

Examples
--------
>>> from crps_evidence.current.searches import SearchStatus, describe_status, search_status
>>> status = search_status()
>>> status["ketamine"].last_run is None or hasattr(status["ketamine"].last_run, "year")
True
>>> describe_status(SearchStatus(None, 0))
'Not yet searched by this collection.'
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote_plus

import pandas as pd

from ..evidence.paths import data_dir
from ..evidence.tables import load_screening, load_search_log, load_searches, load_treatments

__all__ = [
    "HUMANS_ONLY",
    "PUBMED_CONDITION",
    "TRIALS_AND_REVIEWS",
    "SearchStatus",
    "check_searches",
    "describe_status",
    "intervention_block",
    "pubmed_query",
    "pubmed_url",
    "search_status",
    "status_frame",
]

PUBMED_CONDITION = (
    '("complex regional pain syndromes"[mh] OR "complex regional pain syndrome"[tiab] OR '
    '"complex regional pain syndromes"[tiab] OR "reflex sympathetic dystrophy"[tiab] OR '
    'causalgia[tiab] OR algodystrophy[tiab] OR sudeck*[tiab] OR "shoulder-hand syndrome"[tiab])'
)
"""The CRPS terms every PubMed query starts with: the MeSH heading (exploded, so it includes
causalgia and reflex sympathetic dystrophy) and the condition's current and older names in
title or abstract. ``CRPS[tiab]`` is left out on purpose: PubMed ignores case, so it also
finds "CRPs" (C-reactive proteins)."""

TRIALS_AND_REVIEWS = (
    '("randomized controlled trial"[pt] OR "controlled clinical trial"[pt] OR '
    'randomized[tiab] OR randomised[tiab] OR randomly[tiab] OR placebo[tiab] OR '
    '"clinical trials as topic"[mh:noexp] OR trial[ti] OR "systematic review"[pt] OR '
    '"meta-analysis"[pt])'
)
"""Publication-type filter for treatments with a large literature: trials (terms in the
manner of the Cochrane Highly Sensitive Search Strategy, sensitivity- and precision-maximizing
version, with the British spelling added) and systematic reviews and meta-analyses."""

HUMANS_ONLY = "NOT (animals[mh] NOT humans[mh])"
"""Removes records indexed as about animals only."""

FILTERS = {"none": "", "trials and reviews": TRIALS_AND_REVIEWS}
"""``pubmed_filter`` value to the block it adds."""


class SearchStatus(NamedTuple):
    """How up to date one treatment's search is.

    Attributes
    ----------
    last_run : datetime.date or None
        The day the treatment was last searched (by hand, recorded in ``search_log.csv``,
        or by ``crps-evidence update``); ``None`` when it never was.
    waiting : int
        Records its searches found that wait in the screening queue (``to screen``).
    how : str or None
        How that last search was run: ``by hand`` or ``crps-evidence update``.
    """

    last_run: date | None
    waiting: int
    how: str | None = None


def pubmed_query(intervention: str, pubmed_filter: str = "none") -> str:
    """The PubMed query of a treatment, from its intervention block.

    Parameters
    ----------
    intervention : str
        The intervention terms in one pair of parentheses, e.g. ``(ketamine[tiab])``.
    pubmed_filter : str
        ``none`` or ``trials and reviews`` (:data:`TRIALS_AND_REVIEWS`).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Unknown filter, or a block that is not one parenthesised group.

    Examples
    --------
    >>> pubmed_query("(tadalafil[tiab])").endswith('AND (tadalafil[tiab]) ' + HUMANS_ONLY)
    True
    """
    if pubmed_filter not in FILTERS:
        raise ValueError(f"pubmed_filter {pubmed_filter!r}: expected one of "
                         f"{', '.join(map(repr, FILTERS))}")
    if not _one_group(intervention):
        raise ValueError(f"intervention block {intervention!r}: expected one group in "
                         "parentheses")
    parts = [PUBMED_CONDITION, intervention]
    if FILTERS[pubmed_filter]:
        parts.append(FILTERS[pubmed_filter])
    return " AND ".join(parts) + " " + HUMANS_ONLY


def intervention_block(query: str, pubmed_filter: str = "none") -> str | None:
    """The intervention block of a query built by :func:`pubmed_query`, else ``None``.

    >>> intervention_block(pubmed_query("(memantine[tiab])"))
    '(memantine[tiab])'
    >>> intervention_block("memantine AND crps") is None
    True
    """
    head = PUBMED_CONDITION + " AND "
    tail = (" AND " + FILTERS[pubmed_filter] if FILTERS.get(pubmed_filter) else "")
    tail += " " + HUMANS_ONLY
    if not (query.startswith(head) and query.endswith(tail)):
        return None
    block = query[len(head):len(query) - len(tail)]
    return block if _one_group(block) else None


def _one_group(text: str) -> bool:
    """Whether ``text`` is one balanced ``( ... )`` group, quotes paired."""
    if not (text.startswith("(") and text.endswith(")")) or text.count('"') % 2:
        return False
    depth = 0
    unquoted = re.sub(r'"[^"]*"', '""', text)
    for i, char in enumerate(unquoted):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or (depth == 0 and i < len(unquoted) - 1):
            return False
    return depth == 0


def pubmed_url(query: str) -> str:
    """The PubMed web page that runs ``query``, for a reviewer to click.

    >>> pubmed_url('"vitamin C"[tiab]')
    'https://pubmed.ncbi.nlm.nih.gov/?term=%22vitamin+C%22%5Btiab%5D'
    """
    return "https://pubmed.ncbi.nlm.nih.gov/?term=" + quote_plus(query)


def check_searches(searches: pd.DataFrame, treatments: pd.DataFrame,
                   where: str = "searches.csv") -> list[str]:
    """Every treatment has a recorded search, in the shape the update relies on.

    Checks that each treatment of ``treatments`` has a row; that each PubMed query is
    :func:`pubmed_query` of its own intervention block with the filter its
    ``pubmed_filter`` names; and that the ClinicalTrials.gov query is the one
    :func:`crps_evidence.current.trials.trial_query` makes for the treatment (for treatments
    :data:`~crps_evidence.current.trials.INTERVENTION_TERMS` knows, which are all of the project's).

    Returns
    -------
    list of str
        Problems, naming file, line (the frame's index + 2, as the loaders number rows),
        field and what was expected; empty when all is well.

    Examples
    --------
    >>> from crps_evidence.evidence.tables import load_searches, load_treatments
    >>> check_searches(load_searches(), load_treatments())
    []
    """
    from .trials import CRPS_CONDITION, INTERVENTION_TERMS, trial_query

    problems = []
    for missing in sorted(set(treatments["id"]) - set(searches["treatment_id"])):
        problems.append(f"{where}: no row for treatment {missing!r}: every treatment needs a "
                        "recorded search")
    for index, row in zip(searches.index, searches.itertuples(index=False), strict=True):
        at = f"{where}, line {int(index) + 2}, treatment {row.treatment_id!r}"
        if intervention_block(row.pubmed_query, row.pubmed_filter) is None:
            shape = "CONDITION AND (INTERVENTION)" + (
                " AND TRIALS_AND_REVIEWS" if FILTERS.get(row.pubmed_filter) else "")
            problems.append(
                f"{at}: field 'pubmed_query': expected {shape} {HUMANS_ONLY} with the blocks "
                "of crps_evidence.current.searches "
                f"(pubmed_filter is {row.pubmed_filter!r}); build it "
                "with crps_evidence.current.searches.pubmed_query")
        if row.treatment_id not in INTERVENTION_TERMS:
            continue  # a treatment of other data: its recorded registry query stands alone
        expected = trial_query(row.treatment_id)
        if row.ctgov_condition != CRPS_CONDITION:
            problems.append(f"{at}: field 'ctgov_condition': value {row.ctgov_condition!r}: "
                            f"expected {CRPS_CONDITION!r} (trials.CRPS_CONDITION)")
        if row.ctgov_intervention != expected["query.intr"]:
            problems.append(f"{at}: field 'ctgov_intervention': value "
                            f"{row.ctgov_intervention!r}: expected {expected['query.intr']!r} "
                            "(trials.INTERVENTION_TERMS)")
    return problems


def status_frame(searches: pd.DataFrame, screening: pd.DataFrame) -> pd.DataFrame:
    """Per treatment: the last run of its search and the records waiting in the queue.

    Parameters
    ----------
    searches : pandas.DataFrame
        ``searches.csv`` as :func:`~crps_evidence.evidence.tables.load_searches` returns it.
    screening : pandas.DataFrame
        ``screening.csv`` as :func:`~crps_evidence.evidence.tables.load_screening` returns it.

    Returns
    -------
    pandas.DataFrame
        Columns ``treatment_id``, ``last_run`` (:class:`datetime.date` or ``None``) and
        ``waiting`` (int), in the order of ``searches``.

    Examples
    --------
    >>> searches = pd.DataFrame({"treatment_id": ["a", "b"], "last_run": ["2027-01-05", None]})
    >>> screening = pd.DataFrame({"treatment_id": ["a", "a", "b"],
    ...                           "status": ["to screen", "excluded", "to screen"]})
    >>> status_frame(searches, screening).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'treatment_id': 'a', 'last_run': datetime.date(2027, 1, 5), 'waiting': 1},
     {'treatment_id': 'b', 'last_run': None, 'waiting': 1}]
    """
    queued = screening[screening["status"] == "to screen"]
    waiting = queued.groupby("treatment_id").size()
    rows = []
    for treatment, last in zip(searches["treatment_id"], searches["last_run"], strict=True):
        rows.append({
            "treatment_id": str(treatment),
            "last_run": None if pd.isna(last) else date.fromisoformat(str(last)),
            "waiting": int(waiting.get(treatment, 0)),
        })
    return pd.DataFrame(rows, columns=["treatment_id", "last_run", "waiting"])


def search_status(root: str | Path | None = None) -> dict[str, SearchStatus]:
    """How up to date each treatment's search is: what the pages show.

    Parameters
    ----------
    root : str or Path, optional
        A project root (the folder holding ``data/``) or its ``data/`` folder; defaults to
        the project's.

    Returns
    -------
    dict of str to SearchStatus
        Treatment id (every treatment of ``treatments.csv``, in its order) to
        ``SearchStatus(last_run, waiting)``: ``last_run`` is a :class:`datetime.date`, or
        ``None`` when the search was never run ("not yet searched by this collection");
        ``waiting`` is the number of records of that treatment with status ``to screen``.

    Raises
    ------
    DataError
        ``searches.csv``, ``screening.csv`` or ``treatments.csv`` fails its schema.

    Examples
    --------
    >>> status = search_status()
    >>> sorted(status) == sorted(load_treatments()["id"])
    True
    >>> all(s.waiting >= 0 for s in status.values())
    True
    """
    folder = _data_folder(root)
    treatments = load_treatments(folder / "treatments.csv") if folder else load_treatments()
    searches = load_searches(folder / "searches.csv") if folder else load_searches()
    screening = load_screening(folder / "screening.csv") if folder else load_screening()
    log_path = (folder or data_dir()) / "search_log.csv"
    by_hand = _last_logged(load_search_log(log_path)) if log_path.is_file() else {}
    frame = status_frame(searches, screening).set_index("treatment_id")
    status = {}
    for treatment in treatments["id"]:
        last, waiting = None, 0
        if treatment in frame.index:  # else check_searches reports the missing row
            last, waiting = frame.loc[treatment, "last_run"], int(frame.loc[treatment, "waiting"])
        how = UPDATE if last is not None else None
        logged = by_hand.get(treatment)
        if logged is not None and (last is None or logged[0] > last):
            last, how = logged
        status[treatment] = SearchStatus(last, waiting, how)
    return status


UPDATE = "crps-evidence update"


def _last_logged(log: pd.DataFrame) -> dict[str, tuple[date, str]]:
    """Per treatment, the day and the way of its latest search in ``search_log.csv``."""
    latest: dict[str, tuple[date, str]] = {}
    for treatment, day, how in zip(log["treatment_id"], log["searched_on"], log["searched_by"],
                                   strict=True):
        day = date.fromisoformat(str(day)[:10])
        if treatment not in latest or day > latest[treatment][0]:
            latest[treatment] = (day, str(how))
    return latest


def describe_status(status: SearchStatus) -> str:
    """One sentence for a page: when the search was last run and what waits.

    >>> describe_status(SearchStatus(date(2027, 1, 5), 3, "crps-evidence update"))
    'Last searched on 5 January 2027, with crps-evidence update; 3 records wait to be screened.'
    >>> describe_status(SearchStatus(date(2026, 12, 7), 0, "by hand"))
    'Last searched on 7 December 2026, by hand; no records wait to be screened.'
    >>> describe_status(SearchStatus(None, 0))
    'Not yet searched by this collection.'
    """
    if status.last_run is None:
        sentence = "Not yet searched by this collection."
        if status.waiting:
            sentence += f" {_records(status.waiting)} to be screened."
        return sentence
    day = f"{status.last_run.day} {status.last_run:%B %Y}"
    how = "by hand" if status.how == "by hand" else f"with {status.how or UPDATE}"
    waiting = _records(status.waiting)
    return f"Last searched on {day}, {how}; {waiting[0].lower()}{waiting[1:]} to be screened."


def _records(count: int) -> str:
    if count == 0:
        return "No records wait"
    return f"{count} record{'s' if count != 1 else ''} wait{'s' if count == 1 else ''}"


def _data_folder(root: str | Path | None) -> Path | None:
    if root is None:
        return None
    path = Path(root)
    return path / "data" if (path / "data" / "searches.csv").is_file() else path
