"""Summary of findings: one bottom line per treatment, comparison and outcome, computed once.

:func:`summary_of_findings` turns the tables into rows in the layout of a GRADE summary of
findings table (outcome | studies (participants) | relative effect | anticipated absolute
effect | certainty | what it means). Every surface that states a bottom line should read these
rows, so no page can count or conclude differently from another. The function is pure: it
reads a loaded :class:`~crps_evidence.evidence.tables.Evidence` and writes nothing.

Which rows
    One row per rating of ``certainty.csv`` that names its studies (our own ratings, and any
    published rating that lists them); one row per published rating on an outcome domain no
    rating with studies covers (the review's own trials, not listed to us); one row for each
    treatment with studies and no rating at all.

Counts (field ``scope`` says which treatment ids are counted)
    The studies the rating rests on (``certainty.studies``), never the studies of the parent
    or sub-treatments unless the rating names them. Participants are summed over studies of
    known size (randomised, else enrolled); ``size_unknown`` counts the rest.

Relative effect, by the first rule that applies
    1. the pooled analysis the rating names (``certainty.analysis_id``, computed by
       :func:`~crps_evidence.stats.analyses.run_analysis`);
    2. for a rating that rests on one study, that study's effect from ``outcomes.csv`` (first
       time point; a mean difference when the arms share an instrument, a risk ratio for a
       binary outcome); arms with means but no SDs give a mean difference without a CI;
    3. a published pooled estimate read for the same treatment and outcome domain
       (``published_analyses.csv``) from a review whose certainty rating of that treatment
       and domain was read (``certainty.csv``) and may lead (no ``cannot_lead`` reason, e.g.
       a review of other conditions): the rating's own review first, else
       the most recent such review; within a review the row with a CI, preferring the time point the
       review calls primary; named with its bibkey. Pooled estimates of reviews without a
       rating are not used: several are of other populations or flagged as unusable;
    4. a pooled analysis of this collection for the same treatment and domain that the rating
       does not name (it covers only some of the rating's studies: said so);
    5. when exactly one of the rating's studies has an effect, that trial's effect, said to
       be one of several.
    Otherwise no size: ``effect_text`` says why in words.

Anticipated absolute effect
    Binary outcomes with a risk ratio: the risk with the control is the events over the
    participants in the control arms of ``outcomes.csv`` (of the studies the effect rests on,
    else of the rating's studies); the risk with the treatment is control risk × RR; the
    difference per 100 is ``100 × control risk × (RR - 1)``, its interval from the RR's.
    Continuous outcomes: the mean difference in points on the scale used (e.g. out of 10).
    A standardised mean difference has no points: said so.

Certainty
    The rating that leads for the treatment and outcome domain by the one rule of
    :mod:`crps_evidence.stats.certainty` (the most recent published rating for the same
    treatment and domain, if at least as recent as every study our rating rests on, else
    ours); the other rating is kept in ``other_rating`` with ``why_differ``.

What it means (GRADE guideline 26, Santesso et al. 2020), by certainty and effect
    ============  ===========================  ==========================================
    certainty     an important effect          little or no difference
    ============  ===========================  ==========================================
    high          X reduces (increases) Y      X results in little or no difference in Y
    moderate      X probably reduces Y         X probably makes little or no difference
                                               to Y
    low           X may reduce Y               X may make little or no difference to Y
    very low      The evidence is very uncertain about the effect of X on Y.
    ============  ===========================  ==========================================

    "Little or no difference" when the point estimate lies inside the band of unimportant
    effects. **The bands are this collection's choice**, taken from
    :mod:`crps_evidence.stats.grade` where it has them: a risk ratio between 0.75 and 1.25
    (``APPRECIABLE_RR``), a standardised mean difference within ±0.3 (``APPRECIABLE_SMD``),
    and for a mean difference a tenth of the scale's range (1 point out of 10, 10 out of 100:
    :data:`MD_IMPORTANT_FRACTION`, ours). A mean difference on a scale whose range is not
    known to us has no band: then "little or no difference" when its CI includes no effect.
    Without any size, the studies' primary results stand in when they agree (all favour the
    treatment: an effect; all find no difference: little or no difference); when they do not
    agree or none compares groups, a rating above very low says the size is unknown.
    Benefit is less pain, fewer adverse events, fewer cases of CRPS, more responders, better
    function (the direction of a function scale from ``outcomes.csv``, or from the review's
    note where it says "positive = improvement").
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import asdict, dataclass

import pandas as pd

from ..errors import AnalysisError
from ..evidence.counts import RANDOMISED, plural, study_size
from ..evidence.references import short_citation
from ..evidence.tables import Evidence
from . import grade
from ._memo import per_evidence
from .certainty import OURS, cannot_lead, lead_for
from .synthesis import effect_sizes

__all__ = ["MD_IMPORTANT_FRACTION", "Finding", "findings_table", "statement",
           "summary_of_findings"]

#: A mean difference counts as important from this fraction of the scale's range (ours).
MD_IMPORTANT_FRACTION = 0.1
_LOWER_IS_BETTER = {"pain": True, "adverse events": True, "incidence": True,
                    "responders": False}
_OUTCOME_WORDS = {
    "pain": "pain",
    "function": "function",
    "incidence": "the risk of developing CRPS",
    "responders": "how many people get good pain relief",
    "adverse events": "adverse events",
}


@dataclass(frozen=True)
class Finding:
    """One row of the summary of findings (see the module docstring for every rule)."""

    treatment_id: str
    treatment: str
    comparison: str
    comparison_type: str
    domain: str
    outcome: str
    scope: tuple[str, ...]
    study_ids: tuple[str, ...]
    studies: int
    randomised: int
    participants: int
    size_unknown: int
    measure: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    scale: str
    effect_source: str
    effect_text: str
    effect_covers: int | None
    control_per_100: float | None
    treatment_per_100: float | None
    difference_per_100: float | None
    difference_ci: tuple[float, float] | None
    absolute_text: str
    certainty: str
    certainty_by: str
    other_rating: str
    why_differ: str
    statement: str
    #: The statement without the comparison, for a table whose outcome column names it.
    brief_statement: str

    @property
    def has_size(self) -> bool:
        """Whether a relative effect could be read."""
        return self.estimate is not None

    @property
    def studies_text(self) -> str:
        """"2 studies (124 participants)" with the size caveat, as a table cell shows it."""
        if not self.studies:
            return "not listed to us (the review's own trials)"
        text = f"{self.studies} {'study' if self.studies == 1 else 'studies'}"
        if self.participants:
            text += f" ({self.participants} participants"
            if self.size_unknown:
                text += f"; size of {self.size_unknown} not known"
            text += ")"
        elif self.size_unknown:
            text += " (size not known)"
        return text


# ------------------------------------------------------------------------------ the rule


def _important(measure: str, estimate: float, scale_range: float | None) -> bool | None:
    """Whether an effect (natural scale) lies beyond our band of unimportant effects."""
    if measure in {"RR", "OR"}:
        low, high = grade.APPRECIABLE_RR
        return not low < estimate < high
    if measure == "SMD":
        return abs(estimate) >= grade.APPRECIABLE_SMD
    if measure == "MD" and scale_range:
        return abs(estimate) >= MD_IMPORTANT_FRACTION * scale_range
    return None


def statement(certainty: str, subject: str, outcome: str, *, effect: str | None,
              comparison: str = "") -> str:
    """The GRADE informative statement (Santesso et al. 2020) for a certainty and effect.

    ``effect`` is "reduces", "increases", "improves", "worsens", "little or no difference",
    or None when no size or direction can be read.

    Examples
    --------
    >>> statement("moderate", "Drug X", "pain", effect="reduces")
    'Drug X probably reduces pain.'
    >>> statement("low", "Drug X", "pain", effect="little or no difference",
    ...           comparison="versus placebo")
    'Drug X may make little or no difference to pain versus placebo.'
    >>> statement("very low", "Physical therapy", "pain", effect="reduces")
    'The evidence is very uncertain about the effect of physical therapy on pain.'
    >>> statement("very low", "IVIG", "pain", effect=None)
    'The evidence is very uncertain about the effect of IVIG on pain.'
    >>> statement("high", "Drug X", "pain", effect="reduces")
    'Drug X reduces pain.'
    """
    tail = f" {comparison}" if comparison else ""
    inside = mid_sentence(subject)
    if certainty == "very low":
        return f"The evidence is very uncertain about the effect of {inside} on {outcome}{tail}."
    if certainty not in grade.LEVELS:
        return f"No rating: nothing can be said about the effect of {inside} on {outcome}."
    if effect is None:
        return (f"The size of the effect of {inside} on {outcome}{tail} could not be read "
                f"({certainty} certainty rating).")
    if effect == "little or no difference":
        verb = {"high": "results in little or no difference in",
                "moderate": "probably makes little or no difference to",
                "low": "may make little or no difference to"}[certainty]
        return f"{subject} {verb} {outcome}{tail}."
    base = effect[:-1] if effect.endswith("s") else effect  # reduces -> reduce
    verb = {"high": effect, "moderate": f"probably {effect}", "low": f"may {base}"}[certainty]
    return f"{subject} {verb} {outcome}{tail}."


def mid_sentence(name: str) -> str:
    """A treatment's name inside a sentence: "Physical therapy" -> "physical therapy".

    Acronyms and names whose second letter is a capital (IVIG, TENS, DRG ...) stay as they are.
    """
    first = name.split(" ", 1)[0]
    if len(first) > 1 and first[1:].islower():
        return name[0].lower() + name[1:]
    return name


def _direction(domain: str, measure: str, estimate: float, lower_is_better: bool | None
               ) -> str | None:
    null = 1.0 if measure in {"RR", "OR"} else 0.0
    if estimate == null:
        return "little or no difference"
    below = estimate < null
    if lower_is_better is None:
        lower_is_better = _LOWER_IS_BETTER.get(domain)
    if lower_is_better is None:
        return None
    benefit = below == lower_is_better
    if domain == "function":
        return "improves" if benefit else "worsens"
    if domain == "responders":
        return "increases" if benefit else "reduces"
    return "reduces" if benefit else "increases"


# ------------------------------------------------------------------------------ effects


@dataclass(frozen=True)
class _Effect:
    measure: str
    estimate: float
    ci_low: float | None
    ci_high: float | None
    scale: str
    source: str
    study_ids: tuple[str, ...]
    lower_is_better: bool | None


def _scale_range(text: str) -> float | None:
    text = text.lower()
    if re.search(r"0\s*[-–]\s*100|\bmm\b|100 ?mm", text):
        return 100.0
    if re.search(r"0\s*[-–]\s*10\b|11-point|\b0-10 cm|out of 10", text):
        return 10.0
    return None


def _study_effect(evidence: Evidence, study_id: str, domain: str) -> _Effect | None:
    rows = evidence.outcomes[(evidence.outcomes["study_id"] == study_id)
                             & (evidence.outcomes["domain"] == domain)]
    if rows.empty:
        return None
    rows = rows[rows["timepoint"] == rows["timepoint"].iloc[0]]
    measures = ("RR",) if domain in grade.BINARY_DOMAINS else ("MD", "SMD")
    where = f"{rows['measure'].iloc[0]}, {rows['timepoint'].iloc[0]}"
    for measure in measures:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                table = effect_sizes(rows, measure, designs=dict(zip(
                    evidence.studies["id"], evidence.studies["design"], strict=True)))
            except AnalysisError:
                continue
        if not table.empty:
            first = table.iloc[0]
            shown = math.exp if measure == "RR" else (lambda v: v)
            return _Effect(measure, float(shown(first["effect"])), float(shown(first["ci_low"])),
                           float(shown(first["ci_high"])), where, "", (study_id,),
                           bool(first["lower_is_better"]))
    arms = rows[rows["role"].isin(["treatment", "control"])]
    if (domain not in grade.BINARY_DOMAINS and len(arms) == 2
            and arms["mean"].notna().all() and set(arms["role"]) == {"treatment", "control"}):
        t = float(arms.loc[arms["role"] == "treatment", "mean"].iloc[0])
        c = float(arms.loc[arms["role"] == "control", "mean"].iloc[0])
        lower = str(arms["lower_is_better"].iloc[0]).lower() in {"true", "1"}
        return _Effect("MD", t - c, None, None, f"{where}; means {t:g} vs {c:g}, no SDs so no "
                       "CI", "", (study_id,), lower)
    return None


def _published_effect(evidence: Evidence, treatment: str, domain: str, bibkey: str | None
                      ) -> _Effect | None:
    table = evidence.published_analyses
    ratings = evidence.certainty
    rated = set(ratings.loc[(ratings["treatment_id"] == treatment)
                            & (ratings["domain"] == domain)
                            & (ratings["rated_by"] != OURS)
                            & ~cannot_lead(ratings),
                            "rated_by"])
    rows = table[(table["treatment_id"] == treatment) & (table["domain"] == domain)
                 & table["estimate"].notna() & table["bibkey"].isin(rated)]
    if rows.empty:
        return None
    own = rows[rows["bibkey"] == bibkey] if bibkey else rows.iloc[0:0]
    if own.empty:
        years = rows["bibkey"].map(lambda k: int(evidence.references[k].year)
                                   if str(evidence.references[k].year).isdigit() else 0)
        own = rows[years == years.max()]
    with_ci = own[own["ci_low"].notna() & own["ci_high"].notna()]
    own = with_ci if len(with_ci) else own
    primary = own[own["outcome"].str.contains("primary", case=False, na=False)]
    row = (primary if len(primary) else own).iloc[0]
    measure = "" if pd.isna(row["effect_measure"]) else str(row["effect_measure"])
    note = "" if pd.isna(row["note"]) else str(row["note"])
    lower = None
    if re.search(r"positive\s*=\s*(an\s+)?improvement", note, re.I):
        lower = False
    elif re.search(r"negative\s*=\s*less", note, re.I) or domain in _LOWER_IS_BETTER:
        lower = True if domain != "responders" else False
    ci = (None if pd.isna(row["ci_low"]) else float(row["ci_low"]),
          None if pd.isna(row["ci_high"]) else float(row["ci_high"]))
    cite = short_citation(evidence.references[row["bibkey"]])
    return _Effect(measure or "effect", float(row["estimate"]), ci[0], ci[1],
                   str(row["outcome"]), f"published pooled estimate: {cite} "
                   f"(published_analyses.csv {row['id']})", (), lower)


def _analysis_effect(evidence: Evidence, analysis_id: str) -> _Effect:
    from .analyses import run_analysis

    result = run_analysis(evidence, analysis_id)
    s = result.summary()
    measure = {"logRR": "RR", "logOR": "OR"}.get(str(result.effects["effect_measure"].iloc[0]),
                                                  str(s["measure"]))
    names = ", ".join(result.labels.get(i, i) for i in result.effects["study_id"])
    return _Effect(measure, float(s["estimate"]), float(s["ci_low"]), float(s["ci_high"]),
                   str(result.effects["measure"].iloc[0]),
                   f"pooled in this collection: analysis {analysis_id} ({s['k']} trials: "
                   f"{names}; {s['method']})", tuple(result.effects["study_id"]),
                   bool(result.effects["lower_is_better"].iloc[0]))


def _choose_effect(evidence: Evidence, rating: pd.Series | None, treatment: str, domain: str,
                   study_ids: list[str], labels: dict[str, str]) -> tuple[_Effect | None, str]:
    """The effect by the rule of the module docstring, or None with the reason why."""
    if rating is not None and not pd.isna(rating.get("analysis_id")):
        return _analysis_effect(evidence, str(rating["analysis_id"])), ""
    if len(study_ids) == 1:
        found = _study_effect(evidence, study_ids[0], domain)
        if found is not None:
            return _Effect(**{**asdict(found), "source": f"single trial: "
                              f"{labels[study_ids[0]]}"}), ""
    published_by = (str(rating["rated_by"]) if rating is not None
                    and rating["rated_by"] != OURS else None)
    found = _published_effect(evidence, treatment, domain, published_by)
    if found is not None:
        return found, ""
    analyses = evidence.analyses
    same = analyses[(analyses["treatment_id"] == treatment) & (analyses["domain"] == domain)]
    if len(same):
        effect = _analysis_effect(evidence, str(same["id"].iloc[0]))
        covered = len(set(effect.study_ids) & set(study_ids))
        return _Effect(**{**asdict(effect), "source": effect.source + f"; covers {covered} of "
                          f"the {len(study_ids)} studies of the rating"}), ""
    effects = {s: e for s in study_ids if (e := _study_effect(evidence, s, domain)) is not None}
    if len(effects) == 1 and len(study_ids) > 1:
        (sid, effect), = effects.items()
        return _Effect(**{**asdict(effect), "source": f"one of {len(study_ids)} studies: "
                          f"{labels[sid]} (the others have no {domain} figures here)"}), ""
    if len(effects) > 1:
        listed = "; ".join(f"{labels[s]}: {_effect_words(e)}" for s, e in effects.items())
        return None, (f"no single size: the studies' effects are not pooled (different scales "
                      f"or time points): {listed}")
    studies = evidence.studies.set_index("id")
    results = [str(studies.loc[s, "primary_result"]) for s in study_ids if s in studies.index]
    if study_ids and all(r == "uncontrolled" for r in results):
        why = "no study has a control group, so no difference between groups exists to read"
    elif not study_ids:
        why = "the review's abstract as read gives no pooled figure for this outcome"
    else:
        held = evidence.outcomes[evidence.outcomes["study_id"].isin(study_ids)]
        parts = []
        for s in study_ids:
            result = str(studies.loc[s, "primary_result"]) if s in studies.index else ""
            domains = sorted(set(held.loc[held["study_id"] == s, "domain"]))
            if result == "uncontrolled":
                parts.append(f"{labels[s]} has no control group")
            elif domains:
                parts.append(f"{labels[s]}: figures held only for {', '.join(domains)}")
            elif result == "not_reported":
                parts.append(f"{labels[s]}: no comparison reported in what we read")
            else:
                parts.append(f"{labels[s]}: outcomes.csv holds no figures per group or "
                             "between-group contrast (the study row gives its result in words)")
        why = "no size could be read: " + "; ".join(parts)
    return None, why


def _covers(effect: _Effect | None, study_ids: list[str]) -> int | None:
    """How many of the row's studies the effect rests on; None for a review's pooled estimate.

    A published pooled estimate rests on the review's own trials (not listed to us), so it
    counts as covering the row; an effect of this collection covers the studies it pools.
    """
    if effect is None:
        return 0
    if not effect.study_ids:
        return None
    return len(set(effect.study_ids) & set(study_ids)) if study_ids else len(effect.study_ids)


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"


def _effect_words(effect: _Effect) -> str:
    ci = (f" (95% CI {_fmt(effect.ci_low)} to {_fmt(effect.ci_high)})"
          if effect.ci_low is not None and effect.ci_high is not None else " (no CI)")
    return f"{effect.measure} {_fmt(effect.estimate)}{ci}"


# ------------------------------------------------------------------------------ absolute


def _control_risk(evidence: Evidence, study_ids: list[str], domain: str) -> tuple[float, str
                                                                                  ] | None:
    out = evidence.outcomes
    rows = out[out["study_id"].isin(study_ids) & (out["domain"] == domain)
               & (out["role"] == "control") & out["events"].notna() & out["n"].notna()]
    if rows.empty:
        return None
    rows = rows.drop_duplicates("study_id")
    events, n = float(rows["events"].sum()), float(rows["n"].sum())
    return events / n, f"{events:g} of {n:g} in the control arms of {rows['study_id'].nunique()} "\
                       f"{'trial' if rows['study_id'].nunique() == 1 else 'trials'}"


def _absolute(evidence: Evidence, effect: _Effect, domain: str, study_ids: list[str]
              ) -> tuple[float | None, float | None, float | None, tuple[float, float] | None,
                         str]:
    if effect.measure == "RR":
        found = _control_risk(evidence, list(effect.study_ids) or study_ids, domain)
        if found is None:
            return None, None, None, None, ("no risk with the control could be read (no "
                                            "control-arm counts held), so no absolute effect")
        risk, where = found
        control, treated = 100 * risk, 100 * risk * effect.estimate
        diff = treated - control
        ci = None
        text = (f"{control:.0f} per 100 with the control ({where}); {treated:.0f} per 100 with "
                f"the treatment: {abs(diff):.0f} {'fewer' if diff < 0 else 'more'} per 100")
        if effect.ci_low is not None and effect.ci_high is not None:
            ci = (control * (effect.ci_low - 1), control * (effect.ci_high - 1))
            text += f" (95% CI of the difference {_signed(ci[0])} to {_signed(ci[1])} per 100)"
        return control, treated, diff, ci, text
    if effect.measure == "MD":
        rng = _scale_range(effect.scale)
        text = (f"{_signed(effect.estimate)} points out of {rng:g}" if rng else
                f"{_signed(effect.estimate)} in the units of the scale used (its range is not "
                "stated to us)")
        if effect.ci_low is not None and effect.ci_high is not None:
            text += f" (95% CI {_signed(effect.ci_low)} to {_signed(effect.ci_high)})"
        return None, None, None, None, text + f"; {effect.scale}"
    if effect.measure == "SMD":
        return None, None, None, None, ("a standardised mean difference: no points on a "
                                        "single scale to show")
    return None, None, None, None, "no absolute effect for this measure"


def _signed(value: float) -> str:
    return f"{value:+.1f}".replace("+-", "-")


# ------------------------------------------------------------------------------ the rows


def _name(evidence: Evidence, treatment: str) -> str:
    """A treatment's name in a sentence: without its bracket, or by its acronym when the
    name spelled out is four words or more ("TENS", not "transcutaneous electrical nerve
    stimulation")."""
    names = evidence.treatments.set_index("id")["name"]
    full = str(names.get(treatment, treatment))
    plain, _, rest = full.partition(" (")
    acronym = rest[:-1] if rest.endswith(")") else ""
    if acronym.isupper() and " " not in acronym and len(plain.split()) >= 4:
        return acronym
    return plain


def _finding(evidence: Evidence, treatment: str, rating: pd.Series | None,
             study_ids: list[str], domain: str, comparison: str, comparison_type: str,
             outcome: str) -> Finding:
    studies = evidence.studies.set_index("id")
    bib = evidence.references
    labels = {s: short_citation(bib[studies.loc[s, "bibkey"]]) for s in study_ids}
    own = studies.loc[study_ids] if study_ids else studies.iloc[0:0]
    sizes = study_size(own)
    effect, why_none = _choose_effect(evidence, rating, treatment, domain, study_ids, labels)
    lead = lead_for(evidence, treatment, domain, rating)
    certainty = lead["certainty"]
    subject = _name(evidence, treatment)
    words = _OUTCOME_WORDS.get(domain, domain)
    if effect is not None:
        rng = _scale_range(effect.scale) if effect.measure == "MD" else None
        important = _important(effect.measure, effect.estimate, rng)
        if important is None and effect.ci_low is not None and effect.ci_high is not None:
            null = 1.0 if effect.measure in {"RR", "OR"} else 0.0
            important = not effect.ci_low <= null <= effect.ci_high
        if important is False:
            direction: str | None = "little or no difference"
        elif important is None:
            direction = None
        else:
            direction = _direction(domain, effect.measure, effect.estimate,
                                   effect.lower_is_better)
        absolute = _absolute(evidence, effect, domain, study_ids)
        effect_text = f"{_effect_words(effect)}; {effect.source}"
    else:
        results = set(own["primary_result"]) if len(own) else set()
        direction = ("reduces" if domain != "function" else "improves") \
            if results == {"favours_treatment"} else \
            "little or no difference" if results == {"no_difference"} else None
        absolute = (None, None, None, None, "no absolute effect: no size could be read")
        effect_text = why_none
        if direction is not None and why_none and certainty != "very low":
            one = {"favours_treatment": "favours the treatment",
                   "no_difference": "finds no difference"}
            many = {"favours_treatment": "all favour the treatment",
                    "no_difference": "all find no difference"}
            (result,) = results
            effect_text += ("; the statement follows the primary result of the one study, "
                            f"which {one[result]}" if len(own) == 1 else
                            f"; the statement follows the primary results of the {len(own)} "
                            f"studies, which {many[result]}")
    said = statement(certainty, subject, words, effect=direction,
                     comparison=comparison if comparison.startswith("versus")
                     else f"({comparison})" if "versus" in comparison else "")
    return Finding(
        treatment_id=treatment, treatment=subject, comparison=comparison,
        comparison_type=comparison_type, domain=domain, outcome=outcome,
        scope=tuple(sorted(set(own["treatment_id"]))) if len(own) else (treatment,),
        study_ids=tuple(study_ids), studies=len(study_ids),
        randomised=int(own["design"].isin(RANDOMISED).sum()) if len(own) else 0,
        participants=int(sizes.fillna(0).sum()) if len(own) else 0,
        size_unknown=int(sizes.isna().sum()) if len(own) else 0,
        measure=effect.measure if effect else "",
        estimate=effect.estimate if effect else None,
        ci_low=effect.ci_low if effect else None, ci_high=effect.ci_high if effect else None,
        scale=effect.scale if effect else "", effect_source=effect.source if effect else "",
        effect_text=effect_text, effect_covers=_covers(effect, study_ids),
        control_per_100=absolute[0], treatment_per_100=absolute[1],
        difference_per_100=absolute[2], difference_ci=absolute[3], absolute_text=absolute[4],
        certainty=certainty, certainty_by=str(lead["rated_by"]),
        other_rating=str(lead["other"]), why_differ=str(lead["why_differ"]), statement=said,
        brief_statement=statement(certainty, subject, words, effect=direction),
    )


@per_evidence
def summary_of_findings(evidence: Evidence) -> list[Finding]:
    """Every summary-of-findings row, in ``treatments.csv`` order (rules: module docstring).

    Computed once per loaded :class:`Evidence` object (:mod:`crps_evidence.stats._memo`).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> rows = summary_of_findings(load_all())
    >>> all(r.statement for r in rows)
    True
    """
    return _summary_of_findings(evidence)


def _summary_of_findings(evidence: Evidence) -> list[Finding]:
    table = evidence.certainty
    with_studies = set(evidence.studies["treatment_id"])
    out: list[Finding] = []
    for treatment in evidence.treatments["id"]:
        rows = table[table["treatment_id"] == treatment]
        listed = rows[rows["studies"].notna()]
        covered = set(listed["domain"])
        for _, rating in listed.iterrows():
            if rating["rated_by"] != OURS and ((listed["rated_by"] == OURS)
                                               & (listed["domain"] == rating["domain"])).any():
                continue  # our rating of the same domain carries the row
            out.append(_finding(evidence, treatment, rating, str(rating["studies"]).split(),
                                str(rating["domain"]), str(rating["comparison"]),
                                str(rating["comparison_type"]), str(rating["outcome"])))
        for domain, group in rows[rows["studies"].isna()].groupby("domain", sort=False):
            if domain in covered:
                continue
            rating = group.iloc[0]
            out.append(_finding(evidence, treatment, rating, [], str(domain),
                                str(rating["comparison"]), str(rating["comparison_type"]),
                                str(rating["outcome"])))
            covered.add(domain)
        if rows.empty and treatment in with_studies:
            own = evidence.studies[evidence.studies["treatment_id"] == treatment]
            out.append(_finding(evidence, treatment, None, list(own["id"]), "pain",
                                "as studied", "not rated", "pain (no rating held)"))
    return out


def findings_table(findings: list[Finding]) -> pd.DataFrame:
    """The rows as a DataFrame (one column per field, plus ``studies_text``).

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> "statement" in findings_table(summary_of_findings(load_all())).columns
    True
    """
    frame = pd.DataFrame([asdict(f) for f in findings])
    if frame.empty:
        return frame
    frame["studies_text"] = [f.studies_text for f in findings]
    frame["scope"] = frame["scope"].map(" ".join)
    frame["study_ids"] = frame["study_ids"].map(" ".join)
    return frame


# ------------------------------------------------------------------- for readers' pages

#: What "an event" is for a binary outcome, in a patient's words.
_EVENT_WORDS = {"incidence": "developed CRPS", "responders": "had good pain relief",
                "adverse events": "had side effects"}

#: Rough size words for a standardised mean difference (the usual rule of thumb, Cohen 1988,
#: as the Cochrane Handbook, section 15.5.3.1, restates it): ours to use, labelled as such.
_SMD_WORDS = ((0.8, "large"), (0.5, "moderate"), (0.2, "small"))


def _includes_none(low: float | None, high: float | None, null: float) -> bool:
    return low is not None and high is not None and low <= null <= high


def plain_effect(finding: Finding) -> str:
    """How big the effect is, in numbers a patient can use, or why no size is given.

    Only a size that speaks for the whole row is shown: a pooled estimate (ours or a
    review's) or the one study of a one-study row. When figures exist for some of the row's
    studies only, no size is given and the sentence says so.

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> rows = summary_of_findings(load_all())
    >>> all(plain_effect(row).endswith(".") for row in rows)
    True
    """
    f = finding
    they = "The study" if f.studies == 1 else "The studies"
    if f.estimate is None:
        if f.effect_text.startswith("no study has a control group"):
            return ("No study compared it with a group that did not have it. So we cannot "
                    "give a size.")
        return f"{they} give no figures that show how big the effect is."
    if f.effect_covers is not None and f.effect_covers < f.studies:
        verb = "gives" if f.effect_covers == 1 else "give"
        return (f"Only {f.effect_covers} of the {f.studies} studies {verb} figures we can use. "
                "So we give no overall size.")
    if f.control_per_100 is not None and f.treatment_per_100 is not None:
        event = _EVENT_WORDS.get(f.domain, "had the outcome")
        text = (f"About {f.control_per_100:.0f} in 100 people {event} without it, and about "
                f"{f.treatment_per_100:.0f} in 100 with it")
        if f.difference_ci is not None and f.difference_ci[0] < 0 < f.difference_ci[1]:
            text += ". But the likely range includes no difference"
        return text + "."
    wide = _includes_none(f.ci_low, f.ci_high, 1.0 if f.measure in {"RR", "OR"} else 0.0)
    tail = (". But the likely range includes no difference." if wide else
            ". No range of likely values was reported." if f.ci_low is None else ".")
    if f.measure == "MD":
        scale = _scale_range(f.scale)
        if scale is None:
            return ("The size was reported on a scale whose range we could not read, so we "
                    "cannot put it in points.")
        lower = f.estimate < 0
        outcome = "Pain" if f.domain == "pain" else f.outcome[:1].upper() + f.outcome[1:]
        points = _fmt(round(abs(f.estimate), 1))
        return (f"{outcome} was on average {points} point{'' if points == '1' else 's'} "
                f"{'lower' if lower else 'higher'} out of {scale:g} with it than in the "
                f"comparison group{tail}")
    if f.measure == "SMD":
        size = next((word for bound, word in _SMD_WORDS if abs(f.estimate) >= bound), "very small")
        return (f"The studies used different scales, so there are no points to show. By a "
                f"common rule of thumb, the effect is {size}{tail}")
    return "The size was reported in a form we cannot put in plain numbers."


def lead_findings(evidence: Evidence, findings: list[Finding] | None = None
                  ) -> dict[str, Finding]:
    """Each treatment's leading row: the one on the outcome of its headline rating.

    The first of its own rows when none is on that outcome; treatments without rows are left
    out.
    """
    from .certainty import headline

    rows = findings if findings is not None else summary_of_findings(evidence)
    outcome = headline(evidence).set_index("treatment_id")["outcome"]
    lead: dict[str, Finding] = {}
    for row in rows:
        first = lead.get(row.treatment_id)
        if first is None or (first.outcome != outcome.get(row.treatment_id)
                             and row.outcome == outcome.get(row.treatment_id)):
            lead[row.treatment_id] = row
    return lead


def basis_words(finding: Finding) -> str:
    """What a row rests on, in words: "It rests on 2 studies with 124 people."

    Examples
    --------
    >>> from crps_evidence import load_all
    >>> rows = summary_of_findings(load_all())
    >>> all(basis_words(row).startswith(("It rests on", "The size comes from a review"))
    ...     for row in rows)
    True
    """
    f = finding
    if not f.studies:
        return "It rests on the trials of a published review, which are not listed to us."
    from_review = f.estimate is not None and f.effect_covers is None
    text = ("The size comes from a review that pooled trials. In this collection, the "
            "comparison has " if from_review else "It rests on ")
    text += plural(f.studies, "study", "studies")
    if f.participants:  # "at least" when a study's size is unknown, as counts.count_words
        text += f" with {'at least ' if f.size_unknown else ''}" \
                f"{plural(f.participants, 'person', 'people')}"
    elif f.size_unknown:
        text += " of a size not known to us"
    return text + "."


def what_it_means(finding: Finding) -> str:
    """The statement, the size in plain numbers and what it rests on: one reader's sentence set.

    What the key points, the home page and the handouts say about a treatment's leading row.
    """
    return f"{finding.statement} {plain_effect(finding)} {basis_words(finding)}"
