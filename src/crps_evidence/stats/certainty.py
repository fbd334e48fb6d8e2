"""Certainty of evidence per treatment: ``certainty.csv`` read, checked and summarised.

A row rated by a review (its bibkey in ``rated_by``) records a published rating someone read.
A row rated by ``this collection`` is our own assessment with the GRADE method: the mechanical
domains (start, inconsistency, indirectness, imprecision) must agree with the rules in
:mod:`crps_evidence.stats.grade` applied to the studies the row names, and the level must follow
from the five judgements. :func:`check_certainty` reports every disagreement, so a rating of
ours cannot drift from its evidence. :func:`headline` gives the one rating a reader meets first
for each treatment, by one rule (:func:`lead_row`):

    **The headline rating is the most recent published rating read for the treatment on the
    same outcome domain as our own main rating of it, provided the review is at least as
    recent as every study our rating rests on (a review published before a trial cannot have
    weighed it); otherwise our own rating.** A review whose year is not known to us cannot be
    shown to be recent enough, so it does not lead; studies whose year is not known are left
    out of the comparison (if none has a known year, ours leads). A published rating whose
    ``cannot_lead`` column gives a reason (read only in a translation, a range for a whole
    review, not CRPS trials) never leads. Without our own rating, the most recent published
    rating that may lead leads.

The other rating stays in the detail, with why the two differ. ``certainty.csv``'s ``main``
column records the rule's choice and :func:`check_certainty` reports a ``main`` flag that
disagrees with it.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..errors import AnalysisError
from ..evidence.references import short_citation
from ..evidence.tables import Evidence
from . import grade
from ._memo import per_evidence
from .synthesis import effect_sizes

__all__ = ["NO_STUDIES", "OURS", "assess", "check_certainty", "fill_rows", "headline",
           "headline_rating", "lead_for", "lead_row", "rob_rule", "shared_reasons"]

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
        table = effect_sizes(rows, measure, designs=dict(zip(
            evidence.studies["id"], evidence.studies["design"], strict=True)))
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


def _label(evidence: Evidence, bibkey: str) -> str:
    """"Goebel 2017" style: first author and year, as the reasons name trials."""
    entry = evidence.references.get(bibkey)
    return bibkey if entry is None else short_citation(entry).replace(" et al.", "")


def _size(study: pd.Series) -> int | None:
    for column in ("n_randomized", "n_enrolled"):
        if not pd.isna(study[column]):
            return int(study[column])
    return None


def rob_rule(evidence: Evidence, studies: pd.DataFrame) -> grade.Judgement:
    """:func:`grade.risk_of_bias` for the studies of a rating, from ``risk_of_bias.csv``.

    Only RoB 2 judgements by this collection or a review are read; a randomised trial without
    an overall judgement counts as *no information*.
    """
    from ..evidence.risk_of_bias import DOMAINS as ROB_DOMAINS

    table = evidence.risk_of_bias
    trials, others = [], []
    for study in studies.itertuples(index=False):
        label = _label(evidence, str(study.bibkey))
        if study.design not in grade.RANDOMISED or study.design == "RCT follow-up":
            others.append(f"{label}, {study.design}")
            continue
        rows = table[(table["study_id"] == study.id) & (table["tool"] == "RoB 2")]
        judged = dict(zip(rows["domain"], rows["judgement"], strict=True))
        concerns = tuple((d, judged[d]) for d in ROB_DOMAINS["RoB 2"][:-1]
                         if d in judged and judged[d] != "low")
        trials.append(grade.TrialRisk(label, _size(pd.Series(study._asdict())),
                                      judged.get("overall", "no information"), concerns))
    return grade.risk_of_bias(trials, others)


def assess(evidence: Evidence, row: pd.Series) -> dict[str, object]:
    """The mechanical part of our GRADE assessment for one ``certainty.csv`` row.

    Returns
    -------
    dict
        ``start`` ("high" or "low"), ``participants`` and a
        :class:`~crps_evidence.stats.grade.Judgement` for ``risk_of_bias`` (the rule on
        ``risk_of_bias.csv``), ``inconsistency``, ``indirectness`` (the rule's floor) and
        ``imprecision``. Reasons name the studies they rest on, with their numbers.
    """
    studies = _studies(evidence, row)
    if studies.empty:
        raise AnalysisError(f"certainty row {row['treatment_id']}/{row['domain']} names no study")
    participants = int(studies["n_randomized"].fillna(studies["n_enrolled"]).fillna(0).sum())
    results = list(studies["primary_result"])
    labels = [_label(evidence, str(k)) for k in studies["bibkey"]]
    unknown = [lab for lab, (_, st) in zip(labels, studies.iterrows(), strict=True)
               if _size(st) is None]
    who = ", ".join(labels) + (f"; size not known for {', '.join(unknown)}" if unknown else "")
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
    assumed = False
    binary = row["domain"] in grade.BINARY_DOMAINS
    if ci is None and binary:
        control = evidence.outcomes[evidence.outcomes["study_id"].isin(studies["id"])
                                    & (evidence.outcomes["domain"] == row["domain"])
                                    & (evidence.outcomes["role"] == "control")
                                    & evidence.outcomes["events"].notna()]
        control = control.drop_duplicates("study_id")
        measure = "logRR"  # the OIS of a binary outcome needs the control group's risk
        if len(control):
            risk = float(control["events"].sum()) / float(control["n"].sum())
        else:
            risk, assumed = grade.ASSUMED_CONTROL_RISK, True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        judged_precision = grade.imprecision(
            participants, ci, measure=measure, results=results, control_risk=risk,
            increase=row["domain"] in grade.INCREASE_DOMAINS, who=who)
    if assumed:
        judged_precision = grade.Judgement(judged_precision.judgement, judged_precision.reason
                                           .replace("from a control risk of", "from an assumed "
                                                    "control risk of")
                                           + " (the control risk is our assumption: no "
                                           "control-arm counts are held)")
    return {
        "start": grade.start_level(studies["design"]),
        "participants": participants,
        "risk_of_bias": rob_rule(evidence, studies),
        "inconsistency": grade.inconsistency(results, i2, labels),
        "indirectness": grade.indirectness(str(row["comparison_type"])),
        "imprecision": judged_precision,
    }


def fill_rows(evidence: Evidence, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Our rows of ``certainty.csv`` with the mechanical columns and the level recomputed.

    ``rows`` are the table's rows as strings (``csv.DictReader``), in the order of
    ``evidence.certainty``. Judgements (publication bias, indirectness above the rule's floor,
    and a risk of bias whose reason says it :data:`~crps_evidence.stats.grade.DEPARTS`) are
    kept; risk of bias (from ``risk_of_bias.csv``), inconsistency and imprecision with their
    reasons, indirectness below the floor, and ``certainty`` are replaced. Published rows are
    returned unchanged.
    """
    out = []
    for row, (_, loaded) in zip(rows, evidence.certainty.iterrows(), strict=True):
        row = dict(row)
        if row["rated_by"] == OURS:
            computed = assess(evidence, loaded)
            if grade.DEPARTS not in (row.get("risk_of_bias_reason") or ""):
                rule = computed["risk_of_bias"]
                row["risk_of_bias"] = rule.judgement  # type: ignore[union-attr]
                row["risk_of_bias_reason"] = "by the rule: " + rule.reason  # type: ignore[union-attr]
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
    mechanical domains that match :func:`assess`, a risk of bias that follows the rule on
    ``risk_of_bias.csv`` unless its reason says why it departs from it, an empty
    ``cannot_lead``, and the level that
    :func:`grade.level` gives; no two of our rows resting on different studies share a reason
    in a domain (a reason that fits every row cannot be audited).
    """
    table, problems = evidence.certainty, []
    bib = evidence.references
    with_studies = set(evidence.studies["treatment_id"])
    mains = table[table["main"].fillna(False).astype(bool)]["treatment_id"].value_counts()
    for treatment in sorted(with_studies):
        if mains.get(treatment, 0) != 1:
            problems.append(f"certainty.csv: treatment {treatment!r} has studies and needs "
                            f"exactly one main row (has {mains.get(treatment, 0)})")
            continue
        lead = lead_row(evidence, treatment)
        if lead is not None and not bool(lead["main"]):
            problems.append(f"certainty.csv: treatment {treatment!r}: field 'main': the "
                            f"headline rule chooses the rating by {lead['rated_by']!r} "
                            f"({lead['domain']}); move main=true to that row")
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
        if cannot_lead(table.loc[[row.name]]).iloc[0]:
            problems.append(f"{where}: field 'cannot_lead': only a published rating can be "
                            "kept from leading; ours must leave it empty")
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
        rule = computed["risk_of_bias"]
        if (judged["risk_of_bias"].judgement != rule.judgement  # type: ignore[union-attr]
                and grade.DEPARTS not in judged["risk_of_bias"].reason):  # type: ignore[union-attr]
            problems.append(f"{where}: field 'risk_of_bias': recorded "
                            f"{judged['risk_of_bias'].judgement!r} but the rule on "  # type: ignore[union-attr]
                            f"risk_of_bias.csv gives {rule.judgement!r} ({rule.reason}); "  # type: ignore[union-attr]
                            f"say why in the reason ('{grade.DEPARTS}: ...') or follow it")
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
    problems.extend(shared_reasons(table))
    return problems


def shared_reasons(table: pd.DataFrame) -> list[str]:
    """Our rows that rest on different studies but give the same reason in a domain.

    Examples
    --------
    >>> rows = pd.DataFrame({"rated_by": [OURS, OURS], "studies": ["a", "b"],
    ...                      "indirectness_reason": ["same words", "Same words."]})
    >>> [p.split(":")[0] for p in shared_reasons(rows)]
    ['certainty.csv, lines 2 and 3']
    """
    problems = []
    for domain in grade.DOMAINS:
        column = f"{domain}_reason"
        if column not in table:
            continue
        seen: dict[str, tuple[int, frozenset[str]]] = {}
        for line, row in zip(range(2, len(table) + 2), (r for _, r in table.iterrows()),
                             strict=True):
            if row["rated_by"] != OURS or pd.isna(row[column]):
                continue
            text = " ".join(str(row[column]).lower().split()).rstrip(".")
            studies = frozenset(str(row["studies"]).split())
            if text in seen and seen[text][1] != studies:
                problems.append(f"certainty.csv, lines {seen[text][0]} and {line}: field "
                                f"{column!r}: the same reason stands for ratings resting on "
                                f"different studies: {text[:80]!r}; write what each rests on")
            seen.setdefault(text, (line, studies))
    return problems


def _year(evidence: Evidence, bibkey: str) -> int | None:
    entry = evidence.references.get(bibkey)
    year = entry.year if entry is not None else ""
    return int(year) if str(year).isdigit() else None


def cannot_lead(ratings: pd.DataFrame) -> pd.Series:
    """Which rows of ``certainty.csv`` may never be the headline (a ``cannot_lead`` reason)."""
    if "cannot_lead" not in ratings.columns:
        return pd.Series(False, index=ratings.index)
    return ratings["cannot_lead"].fillna("").astype(str).str.strip() != ""


def _lead(evidence: Evidence, own: pd.Series | None, published: pd.DataFrame
          ) -> pd.Series | None:
    """The rule between our rating ``own`` and published ratings of the same domain."""
    published = published[~cannot_lead(published)]
    newest = None
    if own is not None:
        ids = str(own["studies"]).split() if not pd.isna(own["studies"]) else []
        studies = evidence.studies.set_index("id")
        known = [y for i in ids if i in studies.index
                 if (y := _year(evidence, str(studies.loc[i, "bibkey"]))) is not None]
        newest = max(known) if known else None
    candidates = [(y, i) for i, key in enumerate(published["rated_by"])
                  if (y := _year(evidence, str(key))) is not None]
    if own is not None:
        if newest is None:
            return own
        candidates = [(y, i) for y, i in candidates if y >= newest]
    if not candidates:
        return own if own is not None else (published.iloc[0] if len(published) else None)
    _, index = max(candidates, key=lambda c: (c[0], -c[1]))
    return published.iloc[index]


def lead_row(evidence: Evidence, treatment_id: str) -> pd.Series | None:
    """The ``certainty.csv`` row that leads for a treatment by the one rule (module docstring).

    ``None`` when the treatment has no rating at all.
    """
    table = evidence.certainty
    rows = table[table["treatment_id"] == treatment_id]
    if rows.empty:
        return None
    ours = rows[rows["rated_by"] == OURS]
    own = None
    if len(ours):
        flagged = ours[ours["main"].fillna(False).astype(bool)]
        pain = ours[ours["domain"] == "pain"]
        own = (flagged if len(flagged) else pain if len(pain) else ours).iloc[0]
    published = rows[rows["rated_by"] != OURS]
    if own is not None:
        published = published[published["domain"] == own["domain"]]
    return _lead(evidence, own, published)


def lead_for(evidence: Evidence, treatment_id: str, domain: str,
             rating: pd.Series | None = None) -> dict[str, object]:
    """The rule applied to one treatment and outcome domain (a summary-of-findings row).

    ``rating`` is the row the finding rests on (ours, or a published one). Returns
    ``certainty`` (or :data:`NO_STUDIES` without any rating), ``rated_by``, ``other`` (the
    other rating, "level (who)", the review named by its short citation) and ``why_differ``.
    """
    table = evidence.certainty
    rows = table[(table["treatment_id"] == treatment_id) & (table["domain"] == domain)]
    ours = rows[rows["rated_by"] == OURS]
    own = (rating if rating is not None and rating["rated_by"] == OURS
           else ours.iloc[0] if len(ours) else None)
    published = rows[rows["rated_by"] != OURS]
    lead = _lead(evidence, own, published)
    if lead is None:
        return {"certainty": NO_STUDIES, "rated_by": "", "other": "", "why_differ": ""}
    if lead["rated_by"] == OURS:
        others = published
        why = ("the published rating is older than a study our rating rests on, or its year "
               "is not known to us, so ours leads")
    else:
        others = ours
        why = ("ours rests on the trials held in this collection, rated by the written rules "
               "of crps_evidence.stats.grade (risk of bias from risk_of_bias.csv); the review "
               "rated the trials it included, with its own judgements")
    other = ""
    if len(others):
        first = others.iloc[0]
        entry = evidence.references.get(str(first["rated_by"]))
        who = ("ours" if first["rated_by"] == OURS
               else short_citation(entry) if entry is not None else str(first["rated_by"]))
        other = f"{first['certainty']} ({who})"
        reason = "" if pd.isna(first.get("cannot_lead")) else str(first["cannot_lead"]).strip()
        if first["certainty"] == lead["certainty"]:
            why = "both ratings give the same level"
        elif reason:
            why = f"the published rating cannot lead: {reason}"
    else:
        why = ""
    return {"certainty": lead["certainty"], "rated_by": lead["rated_by"], "other": other,
            "why_differ": why}


def headline_rating(evidence: Evidence, treatment_id: str) -> dict[str, object]:
    """The headline rating of one treatment by the one rule, with the other beside it.

    Returns
    -------
    dict
        ``certainty`` (a GRADE level or :data:`NO_STUDIES`), ``rated_by``, ``published``,
        ``comparison``, ``outcome``, ``domain``, ``ours`` (our level when a published rating
        leads), ``other`` (the published level and its bibkey when ours leads, else ""),
        ``why_differ`` and ``note``.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> headline_rating(load_all(), "pregabalin")["certainty"]
    'no studies found'
    """
    lead = lead_row(evidence, treatment_id)
    if lead is None:
        return {"treatment_id": treatment_id, "certainty": NO_STUDIES, "rated_by": "",
                "published": False, "comparison": "", "outcome": "", "domain": "", "ours": "",
                "other": "", "why_differ": "", "note": ""}
    table = evidence.certainty
    rows = table[table["treatment_id"] == treatment_id]
    published = lead["rated_by"] != OURS
    ours_rows = rows[rows["rated_by"] == OURS]
    same = ours_rows[ours_rows["domain"] == lead["domain"]]
    ours_rows = same if len(same) else ours_rows
    ours = ours_rows["certainty"].iloc[0] if published and len(ours_rows) else ""
    others = rows[(rows["rated_by"] != OURS) & (rows["domain"] == lead["domain"])]
    other = ""
    if not published and len(others):
        first = others.iloc[0]
        other = f"{first['certainty']} ({first['rated_by']})"
    note = "" if pd.isna(lead["note"]) else str(lead["note"])
    differ = (published and ours and ours != lead["certainty"]) or (
        not published and other and not other.startswith(str(lead["certainty"]) + " "))
    why = str(lead_for(evidence, treatment_id, str(lead["domain"]))["why_differ"]) \
        if differ else ""
    return {"treatment_id": treatment_id, "certainty": lead["certainty"],
            "rated_by": lead["rated_by"], "published": published,
            "comparison": lead["comparison"], "outcome": lead["outcome"],
            "domain": lead["domain"], "ours": ours, "other": other, "why_differ": why,
            "note": note}


@per_evidence
def headline(evidence: Evidence) -> pd.DataFrame:
    """The rating a reader meets first for every treatment, in ``treatments.csv`` order.

    Returns
    -------
    pandas.DataFrame
        Columns ``treatment_id, certainty`` (a GRADE level, or :data:`NO_STUDIES`),
        ``rated_by`` (bibkey or :data:`OURS`; empty without studies), ``published`` (bool),
        ``comparison``, ``outcome``, ``ours`` (our own level for the treatment, preferring the
        same outcome domain, when a published rating leads) and ``note``.

    One row per treatment of :func:`headline_rating` (the one rule).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> h = headline(load_all())
    >>> set(h["certainty"]) <= {"high", "moderate", "low", "very low", NO_STUDIES}
    True
    """
    keys = ("treatment_id", "certainty", "rated_by", "published", "comparison", "outcome",
            "ours", "note")
    records = []
    for treatment in evidence.treatments["id"]:
        rating = headline_rating(evidence, treatment)
        records.append({k: rating[k] for k in keys})
    return pd.DataFrame(records)
