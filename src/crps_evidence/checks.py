"""Every check of the collection at once: what ``crps-evidence check`` and ``check_integrity`` run.

The checks of each part live with it (tables and bibliography in
:mod:`crps_evidence.evidence.integrity`, ratings in :mod:`crps_evidence.stats.certainty`,
searches and screening in :mod:`crps_evidence.current`); this module runs them together.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import AnalysisError
from .evidence.integrity import (
    check_citations,
    check_identifiers,
    check_markup,
    check_reference_sources,
    check_rows,
    check_search_log,
    notebook_citations,
)
from .evidence.paths import data_dir, notebooks_dir
from .evidence.risk_of_bias import check_risk_of_bias
from .evidence.tables import (
    Evidence,
    load_all,
    load_reference_sources,
    load_screening,
    load_search_log,
    load_searches,
)
from .stats.certainty import check_certainty

__all__ = ["check_analyses", "check_integrity"]


def check_integrity(evidence: Evidence | None = None,
                    notebooks: str | Path | None = None,
                    sources: pd.DataFrame | None = None,
                    searches: pd.DataFrame | None = None,
                    screening: pd.DataFrame | None = None,
                    search_log: pd.DataFrame | None = None) -> list[str]:
    """Run every cross-file check; an empty list means the collection is consistent.

    With no ``evidence``, the repository's data is loaded and ``reference_sources.csv``,
    ``searches.csv``, ``screening.csv`` and ``search_log.csv`` are checked with it
    (:func:`~crps_evidence.current.searches.check_searches`,
    :func:`~crps_evidence.current.screening.check_screening`: included records without a study row
    are reported); for other data, pass those tables to check them too.

    Loading the data also validates each table against its schema, so a schema problem is
    raised as :class:`~crps_evidence.errors.DataError` before these checks run.

    Examples
    --------
    >>> check_integrity()
    []
    """
    if evidence is None:
        evidence = load_all()
        sources = load_reference_sources() if sources is None else sources
        searches = load_searches() if searches is None else searches
        screening = load_screening() if screening is None else screening
        search_log = load_search_log() if search_log is None else search_log
    folder = Path(notebooks) if notebooks is not None else notebooks_dir()
    problems = (check_identifiers(evidence.references)
                + check_citations(evidence, notebook_citations(folder))
                + check_rows(evidence, folder))
    if sources is not None:
        problems += check_reference_sources(evidence.references, sources)
    if searches is not None:
        from .current.searches import check_searches

        problems += check_searches(searches, evidence.treatments)
    if screening is not None:
        from .current.screening import check_screening

        problems += check_screening(screening, evidence.references, evidence.studies)
    if search_log is not None:
        problems += check_search_log(search_log, evidence.references)
    problems += check_risk_of_bias(evidence.studies, evidence.risk_of_bias, evidence.references)
    problems += check_markup(_all_tables(evidence), evidence.references)
    return problems + check_analyses(evidence) + check_certainty(evidence)


def _all_tables(evidence: Evidence) -> dict[str, pd.DataFrame]:
    """Every table of the data folder, loaded (each validated), for the markup check."""
    from .evidence.tables import TABLES, load_table

    folder = evidence.folder if evidence.folder is not None else data_dir()
    return {f"{name}.csv": load_table(name, folder / f"{name}.csv") for name in TABLES
            if (folder / f"{name}.csv").is_file()}


def check_analyses(evidence: Evidence) -> list[str]:
    """Every analysis of ``analyses.csv`` runs, and names published results that exist."""
    from .stats.analyses import run_analysis


    problems = []
    known = set(evidence.published_analyses["id"])
    for line, row in zip(range(2, len(evidence.analyses) + 2),
                         evidence.analyses.itertuples(), strict=True):
        where = f"analyses.csv, line {line}, analysis {row.id!r}"
        for pub in ("" if pd.isna(row.published) else row.published).split():
            if pub not in known:
                problems.append(f"{where}: field 'published': {pub!r} is not in "
                                "published_analyses.csv")
        try:
            run_analysis(evidence, row.id)
        except AnalysisError as exc:  # its message names the analysis too: say it once
            problems.append(f"{where}: {str(exc).removeprefix(f'analysis {row.id!r}: ')}")
    return problems
