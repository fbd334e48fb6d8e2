"""Certainty of evidence per treatment: ``certainty.csv`` read, checked and summarised.

A row rated by a review (its bibkey in ``rated_by``) records a published rating someone read.
A row rated by ``this collection`` is our own assessment with the GRADE method: the mechanical
domains (start, inconsistency, indirectness, imprecision) must agree with the rules in
:mod:`crps_evidence.stats.grade` applied to the studies the row names, and the level must follow
from the five judgements. :func:`check_certainty` reports every disagreement, so a rating of
ours cannot drift from its evidence. :func:`headline` gives the one rating a reader meets first
for each treatment: a published rating where one was read, else ours, else *no studies found*.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..errors import AnalysisError
from ..evidence.tables import Evidence
from . import grade
from .synthesis import effect_sizes

__all__ = ["NO_STUDIES", "OURS", "assess", "check_certainty", "fill_rows", "headline"]

OURS = "this collection"
#: Shown for a treatment without any study: a state, not a GRADE level.
NO_STUDIES = "no studies found"
_CONTROLLED = {"favours_treatment", "no_difference", "favours_control"}


def _studies(evidence: Evidence, row: pd.Series) -> pd.DataFrame:
    ids = str(row["studies"]).split() if not pd.isna(row["studies"]) else []
    studies = evidence.studies.set_index("id")
    missing = [i for i in ids if i not in studies.index]
    if missing:
        raise AnalysisError(f"certainty row {row['treatment_id']}/{row['domain']}: unknown "
                            f"studies {missing}")
    return studies.loc[ids].reset_index()


def _single_effect(evidence: Evidence, study_id: str, domain: str
                   ) -> tuple[tuple[float, float], str, float | None] | None:
    rows = evidence.outcomes[(evidence.outcomes["study_id"] == study_id)
                             & (evidence.outcomes["domain"] == domain)]
    if rows.empty:
        return None
    rows = rows[rows["timepoint"] == rows["timepoint"].iloc[0]]
    binary = domain in {"incidence", "responders"}
    for measure in (("RR",) if binary else ("SMD", "MD")):
        table = effect_sizes(rows, measure)
        if not table.empty:
            first = table.iloc[0]
            risk = None
            if binary:
                control = rows[rows["role"] == "control"]
                if len(control) == 1 and not control["events"].isna().any():
                    risk = float(control["events"].iloc[0]) / float(control["n"].iloc[0])
            return (float(first["ci_low"]), float(first["ci_high"])), str(
                first["effect_measure"]), risk
    return None


def assess(evidence: Evidence, row: pd.Series) -> dict[str, object]:
    """The mechanical part of our GRADE assessment for one ``certainty.csv`` row.

    Returns
    -------
    dict
        ``start`` ("high" or "low"), ``participants`` and a
        :class:`~crps_evidence.stats.grade.Judgement` for ``inconsistency``,
        ``indirectness`` (the rule's floor) and ``imprecision``.
    """
    studies = _studies(evidence, row)
    if studies.empty:
        raise AnalysisError(f"certainty row {row['treatment_id']}/{row['domain']} names no study")
    participants = int(studies["n_randomized"].fillna(studies["n_enrolled"]).fillna(0).sum())
    results = list(studies["primary_result"])
    ci, measure, risk, i2 = None, "SMD", None, None
    if not pd.isna(row.get("analysis_id")):
        from .analyses import run_analysis

        result = run_analysis(evidence, str(row["analysis_id"]))
        ci = (result.pooled.ci_low, result.pooled.ci_high)
        measure = str(result.effects["effect_measure"].iloc[0])
        i2 = result.pooled.i2
        if measure in {"logRR", "logOR", "RD"}:
            control = evidence.outcomes[evidence.outcomes["study_id"].isin(result.effects[
                "study_id"]) & (evidence.outcomes["domain"] == row["domain"])
                & (evidence.outcomes["role"] == "control")]
            risk = float(control["events"].sum()) / float(control["n"].sum())
    elif len(studies) == 1:
        found = _single_effect(evidence, str(studies["id"].iloc[0]), str(row["domain"]))
        if found is not None:
            ci, measure, risk = found
    if ci is None and row["domain"] in {"incidence", "responders"}:
        control = evidence.outcomes[evidence.outcomes["study_id"].isin(studies["id"])
                                    & (evidence.outcomes["domain"] == row["domain"])
                                    & (evidence.outcomes["role"] == "control")
                                    & evidence.outcomes["events"].notna()]
        control = control.drop_duplicates("study_id")
        if len(control):  # the OIS of a binary outcome needs the control group's risk
            measure = "logRR"
            risk = float(control["events"].sum()) / float(control["n"].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        judged_precision = grade.imprecision(participants, ci, measure=measure,
                                             results=results, control_risk=risk)
    return {
        "start": grade.start_level(studies["design"]),
        "participants": participants,
        "inconsistency": grade.inconsistency(results, i2),
        "indirectness": grade.indirectness(str(row["comparison_type"])),
        "imprecision": judged_precision,
    }


def fill_rows(evidence: Evidence, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Our rows of ``certainty.csv`` with the mechanical columns and the level recomputed.

    ``rows`` are the table's rows as strings (``csv.DictReader``), in the order of
    ``evidence.certainty``. Judgements (risk of bias, publication bias, indirectness above the
    rule's floor) are kept; inconsistency and imprecision with their reasons, indirectness
    below the floor, and ``certainty`` are replaced. Published rows are returned unchanged.
    """
    out = []
    for row, (_, loaded) in zip(rows, evidence.certainty.iterrows(), strict=True):
        row = dict(row)
        if row["rated_by"] == OURS:
            computed = assess(evidence, loaded)
            for domain in ("inconsistency", "imprecision"):
                judged = computed[domain]
                row[domain] = judged.judgement  # type: ignore[union-attr]
                row[f"{domain}_reason"] = judged.reason  # type: ignore[union-attr]
            floor = computed["indirectness"]
            if grade.JUDGEMENTS.index(row.get("indirectness") or "no concern") < floor.steps:  # type: ignore[union-attr]
                row["indirectness"] = floor.judgement  # type: ignore[union-attr]
                row["indirectness_reason"] = floor.reason  # type: ignore[union-attr]
            judgements = {d: grade.Judgement(row.get(d) or "no concern",
                                             row.get(f"{d}_reason") or "")
                          for d in grade.DOMAINS}
            row["certainty"] = grade.level(str(computed["start"]), judgements)
        out.append(row)
    return out


def _recorded(row: pd.Series, domain: str) -> grade.Judgement | None:
    value, reason = row.get(domain), row.get(f"{domain}_reason")
    if pd.isna(value):
        return None
    return grade.Judgement(str(value), "" if pd.isna(reason) else str(reason))


def check_certainty(evidence: Evidence) -> list[str]:
    """Problems with ``certainty.csv``; empty when every rating is complete and consistent.

    Checks: every treatment with a study has exactly one ``main`` row; published ratings name
    a bibliography entry and the page read; our own rows have all five domains with reasons,
    mechanical domains that match :func:`assess`, and the level that :func:`grade.level` gives.
    """
    table, problems = evidence.certainty, []
    bib = evidence.references
    with_studies = set(evidence.studies["treatment_id"])
    mains = table[table["main"].fillna(False).astype(bool)]["treatment_id"].value_counts()
    for treatment in sorted(with_studies):
        if mains.get(treatment, 0) != 1:
            problems.append(f"certainty.csv: treatment {treatment!r} has studies and needs "
                            f"exactly one main row (has {mains.get(treatment, 0)})")
    for line, row in zip(range(2, len(table) + 2), (r for _, r in table.iterrows()),
                         strict=True):
        where = f"certainty.csv, line {line}"
        if row["rated_by"] != OURS:
            if row["rated_by"] not in bib:
                problems.append(f"{where}: field 'rated_by': {row['rated_by']!r} is neither "
                                f"{OURS!r} nor a references.bib key")
            if pd.isna(row["source_url"]):
                problems.append(f"{where}: a published rating needs the source_url it was "
                                "read on")
            continue
        judged = {d: _recorded(row, d) for d in grade.DOMAINS}
        for domain, value in judged.items():
            if value is None or not value.reason.strip():
                problems.append(f"{where}: field {domain!r}: our rating needs a judgement and "
                                "a reason for every domain")
        if any(v is None for v in judged.values()):
            continue
        try:
            computed = assess(evidence, row)
        except AnalysisError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for domain in ("inconsistency", "imprecision"):
            want = computed[domain].judgement  # type: ignore[union-attr]
            if judged[domain].judgement != want:  # type: ignore[union-attr]
                problems.append(f"{where}: field {domain!r}: recorded "
                                f"{judged[domain].judgement!r} but the rule gives {want!r} "
                                f"({computed[domain].reason})")  # type: ignore[union-attr]
        floor = computed["indirectness"]
        if judged["indirectness"].steps < floor.steps:  # type: ignore[union-attr]
            problems.append(f"{where}: field 'indirectness': at least {floor.judgement!r} "
                            f"by rule ({floor.reason})")  # type: ignore[union-attr]
        expected = grade.level(str(computed["start"]), judged)  # type: ignore[arg-type]
        if row["certainty"] != expected:
            problems.append(f"{where}: field 'certainty': {row['certainty']!r} but the start "
                            f"({computed['start']}) and the five domains give {expected!r}")
    return problems


def headline(evidence: Evidence) -> pd.DataFrame:
    """The rating a reader meets first for every treatment, in ``treatments.csv`` order.

    Returns
    -------
    pandas.DataFrame
        Columns ``treatment_id, certainty`` (a GRADE level, or :data:`NO_STUDIES`),
        ``rated_by`` (bibkey or :data:`OURS`; empty without studies), ``published`` (bool),
        ``comparison``, ``outcome``, ``ours`` (our own level for the treatment, preferring the
        same outcome domain, when a published rating leads) and ``note``.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> h = headline(load_all())
    >>> set(h["certainty"]) <= {"high", "moderate", "low", "very low", NO_STUDIES}
    True
    """
    table = evidence.certainty
    mains = table[table["main"].fillna(False).astype(bool)]
    records = []
    for treatment in evidence.treatments["id"]:
        rows = table[table["treatment_id"] == treatment]
        main = mains[mains["treatment_id"] == treatment]
        if main.empty:
            records.append({"treatment_id": treatment, "certainty": NO_STUDIES, "rated_by": "",
                            "published": False, "comparison": "", "outcome": "", "ours": "",
                            "note": ""})
            continue
        lead = main.iloc[0]
        ours = rows[rows["rated_by"] == OURS]
        same = ours[ours["domain"] == lead["domain"]]
        ours = same if len(same) else ours
        records.append({
            "treatment_id": treatment,
            "certainty": lead["certainty"],
            "rated_by": lead["rated_by"],
            "published": lead["rated_by"] != OURS,
            "comparison": lead["comparison"],
            "outcome": lead["outcome"],
            "ours": ours["certainty"].iloc[0] if lead["rated_by"] != OURS and len(ours) else "",
            "note": "" if pd.isna(lead["note"]) else lead["note"],
        })
    return pd.DataFrame(records)
