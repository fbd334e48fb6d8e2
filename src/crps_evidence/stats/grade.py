"""Our own certainty-of-evidence assessment (the GRADE method), the mechanical part.

GRADE rates a body of evidence for one comparison and outcome as high, moderate, low or very
low certainty (Balshem et al. 2011). Randomised trials start at high and other designs at low;
five domains can each rate it down one level (serious) or two (very serious): risk of bias,
inconsistency, indirectness, imprecision and publication bias.

Where a rule can decide, this module decides, so that every rating of ours follows the same
written rules and a test can check the table against them:

* **Start**: high when every study the rating rests on is randomised (parallel or crossover
  RCT, or a follow-up of one), otherwise low.
* **Imprecision** (Guyatt et al. 2011, GRADE guidelines 6; Zeng et al. 2022, GRADE guidance 34):
  first the 95% confidence interval of the pooled effect, or of the single trial's effect: one
  that includes no effect is serious; one that also reaches an appreciable effect in the other
  direction (a risk ratio beyond 0.75 and 1.25, or a standardised difference beyond ±0.3) is
  very serious. Then the optimal information size (OIS), the participants a single adequately
  powered trial would need (two-sided alpha 0.05, power 80%): a standardised mean difference of
  0.3 for continuous outcomes, a 25% relative risk reduction at the control group's observed
  risk for binary ones. These two targets are **this collection's choice**, not values GRADE
  prescribes. For an outcome where more is better ("responders", people reaching a given
  relief), the target is a 25% relative *increase* over the control risk instead. A binary
  outcome needs a control risk: the trials' control arms where ``outcomes.csv`` holds them,
  else an assumed control risk of 20% (:data:`ASSUMED_CONTROL_RISK`, our assumption,
  named in the reason), never the continuous default. Fewer participants than the OIS is
  serious, fewer than a quarter of it ("far less"
  in GRADE 34's words; the fraction is our choice) very serious. Without any effect estimate,
  the trials' own primary results stand in for the interval: any trial reporting no difference
  counts as an interval that includes no effect. The worse of the two criteria applies.
* **Inconsistency**: a single trial is not rated down (consistency cannot be judged). Trials
  whose primary results point different ways (some favour the treatment, others find no
  difference or favour the control) are serious; so is an I² of 50% or more; conflicting
  directions together with an I² of 75% or more are very serious.
* **Indirectness**: trials that compare variants of the same treatment (not the treatment with
  none) answer a different question: serious. Anything else about population or outcome is a
  judgement recorded in the table with its reason.

* **Risk of bias** (our rule, following GRADE's advice to judge the body of evidence by where
  most of its weight lies; Guyatt et al. 2011, GRADE guidelines 4): each randomised trial's
  RoB 2 overall judgement from ``risk_of_bias.csv`` is weighted by its participants (randomised,
  else enrolled). **Very serious** when trials at *high* risk carry more than half of the
  weight; **serious** when trials at high risk, with *some concerns* or with *no information*
  together carry more than half; otherwise **no concern**. Trials whose size is not known are
  named and not weighted; if no trial's size is known each counts once. A rating that rests on
  no randomised trial (case series, case reports) is serious: without a comparison group,
  natural recovery and placebo effects cannot be told apart from the treatment. The reason
  names each trial, its size and overall judgement, and the domains that are not low. A row
  may depart from the rule only when its reason says why, with the words "departs from the
  rule".

Publication bias is a judgement: it is read from ``certainty.csv``, where it has its reason.
:func:`level` turns a start and the five judgements into the rating.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .._lazy import lazy_module
from ..errors import AnalysisError

stats = lazy_module("scipy.stats")  # imported on first use

__all__ = [
    "DOMAINS",
    "JUDGEMENTS",
    "LEVELS",
    "Judgement",
    "TrialRisk",
    "imprecision",
    "inconsistency",
    "indirectness",
    "level",
    "optimal_information_size",
    "risk_of_bias",
    "start_level",
]

LEVELS = ("high", "moderate", "low", "very low")
JUDGEMENTS = ("no concern", "serious", "very serious")
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
RANDOMISED = frozenset({"parallel RCT", "crossover RCT", "RCT follow-up"})

#: Standardised mean difference an adequately powered trial should detect (our choice).
OIS_SMD = 0.3
#: Relative risk reduction an adequately powered trial should detect (our choice).
OIS_RRR = 0.25
#: Effects beyond these count as appreciable (Guyatt 2011 suggests RR 0.75 / 1.25).
APPRECIABLE_RR = (0.75, 1.25)
APPRECIABLE_SMD = 0.3
#: Control risk assumed for the OIS of a binary outcome when no control-arm counts are held
#: (our assumption, stated in the reason; never the continuous default).
ASSUMED_CONTROL_RISK = 0.2
#: Outcome domains that are binary, and those where more events are better.
BINARY_DOMAINS = frozenset({"incidence", "responders"})
INCREASE_DOMAINS = frozenset({"responders"})


@dataclass(frozen=True)
class Judgement:
    """One GRADE domain: ``no concern``, ``serious`` or ``very serious``, with its reason."""

    judgement: str
    reason: str

    def __post_init__(self) -> None:
        if self.judgement not in JUDGEMENTS:
            raise AnalysisError(f"judgement must be one of {JUDGEMENTS}; got {self.judgement!r}")

    @property
    def steps(self) -> int:
        """Levels rated down: 0, 1 or 2."""
        return JUDGEMENTS.index(self.judgement)


def _worse(a: Judgement, b: Judgement) -> Judgement:
    return b if b.steps > a.steps else a


def start_level(designs: Iterable[str]) -> str:
    """``high`` when every design is randomised, else ``low``.

    Examples
    --------
    >>> start_level(["parallel RCT", "crossover RCT"]), start_level(["parallel RCT", "cohort"])
    ('high', 'low')
    """
    designs = list(designs)
    if not designs:
        raise AnalysisError("a rating needs at least one study")
    return "high" if all(d in RANDOMISED for d in designs) else "low"


def optimal_information_size(binary: bool = False, control_risk: float | None = None,
                             increase: bool = False) -> int:
    """Participants (both arms) a single trial needs: alpha 0.05 two-sided, power 80%.

    Continuous outcomes: ``2 × 2 (z_α + z_β)² / d²`` with ``d`` = :data:`OIS_SMD`. Binary
    outcomes: ``2 (z_α + z_β)² (p₀q₀ + p₁q₁) / (p₀ - p₁)²`` with ``p₁ = p₀ (1 - RRR)``, or
    ``p₁ = p₀ (1 + RRR)`` with ``increase=True`` (an outcome where more is better, such as
    responders).

    Examples
    --------
    >>> optimal_information_size()
    350
    >>> optimal_information_size(binary=True, control_risk=0.10)
    4004
    >>> optimal_information_size(binary=True, control_risk=0.10, increase=True)
    5008
    """
    z = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))
    if not binary:
        return 2 * math.ceil(2 * z**2 / OIS_SMD**2)
    if control_risk is None or not 0 < control_risk < 1:
        raise AnalysisError("a binary OIS needs the control group's risk, between 0 and 1")
    p0 = control_risk
    p1 = p0 * (1 + OIS_RRR) if increase else p0 * (1 - OIS_RRR)
    if p1 >= 1:
        raise AnalysisError(f"a {OIS_RRR:.0%} relative increase of a control risk of "
                            f"{p0:.0%} exceeds 100%")
    return 2 * math.ceil(z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p0 - p1) ** 2)


def imprecision(
    participants: int,
    ci: tuple[float, float] | None = None,
    *,
    measure: str = "SMD",
    results: Sequence[str] = (),
    control_risk: float | None = None,
    increase: bool = False,
    who: str = "",
) -> Judgement:
    """Imprecision from the confidence interval and the optimal information size.

    Parameters
    ----------
    participants : int
        Total participants in the trials the rating rests on.
    ci : tuple of float, optional
        95% CI of the pooled (or single) effect on the analysis scale: log for ratios, the
        raw difference for "MD" (then only whether it includes 0 is judged), else SMD.
    measure : {"SMD", "MD", "logRR", "logOR", "RD"}
        Scale of ``ci``; ratios and RD make the outcome binary for the OIS.
    results : sequence of str
        Primary results of the trials (``studies.primary_result``), used when ``ci`` is None.
    control_risk : float, optional
        Control-group risk for a binary OIS.
    increase : bool
        The binary outcome is one where more is better (responders): the OIS targets a
        relative increase.
    who : str
        The studies the participants come from, named in the reason (e.g. "Kiralp 2004").

    Examples
    --------
    >>> imprecision(40, (-1.2, -0.3)).judgement      # small trial, CI excludes no effect
    'very serious'
    >>> imprecision(900, (-0.5, -0.2)).judgement     # large enough, CI clear of no effect
    'no concern'
    >>> imprecision(900, (-0.5, 0.4)).judgement      # CI spans benefit and harm
    'very serious'
    """
    binary = measure in {"logRR", "logOR", "RD"}
    ois = optimal_information_size(binary=binary, control_risk=control_risk if binary else None,
                                   increase=increase)
    basis = ""
    if binary and control_risk is not None:
        basis = (f" (a {OIS_RRR:.0%} relative {'increase' if increase else 'reduction'} "
                 f"from a control risk of {100 * control_risk:.1f}%)")
    people = f"{participants} participants" + (f" ({who})" if who else "")
    if participants >= ois:
        size = Judgement("no concern", f"{people} reach the optimal information size of "
                                       f"{ois}{basis}")
    elif 4 * participants >= ois:
        size = Judgement("serious", f"{people}, fewer than the optimal information size of "
                                    f"{ois}{basis}")
    else:
        size = Judgement("very serious", f"{people}, fewer than a quarter of the optimal "
                                         f"information size of {ois}{basis}")
    if ci is not None:
        low, high = ci
        if measure in {"logRR", "logOR"}:
            shown = f"{measure[3:]} {math.exp(low):.2f} to {math.exp(high):.2f}"
        else:
            shown = f"{measure} {low:.2f} to {high:.2f}"
        if low <= 0 <= high:
            if measure in {"logRR", "logOR"}:
                both = low < math.log(APPRECIABLE_RR[0]) and high > math.log(APPRECIABLE_RR[1])
            elif measure == "SMD":
                both = low < -APPRECIABLE_SMD and high > APPRECIABLE_SMD
            else:
                both = False
            interval = (Judgement("very serious", f"the 95% CI ({shown}) includes appreciable "
                                                  "benefit and appreciable harm")
                        if both else Judgement("serious", f"the 95% CI ({shown}) includes no "
                                                          "effect"))
        else:
            interval = Judgement("no concern", f"the 95% CI ({shown}) excludes no effect")
    elif any(r == "no_difference" for r in results):
        nulls = sum(r == "no_difference" for r in results)
        interval = Judgement("serious", f"no effect estimate; {nulls} of {len(results)} "
                                        f"{'study' if len(results) == 1 else 'studies'} found "
                                        "no difference on the primary outcome")
    else:
        interval = Judgement("no concern", f"no effect estimate to judge; none of the "
                                           f"{len(results)} studies' primary results is a "
                                           "null finding")
    worse = _worse(size, interval)
    other = interval if worse is size else size
    return Judgement(worse.judgement, f"{worse.reason}; {other.reason}")


_RESULT_WORDS = {
    "favours_treatment": "favours the treatment",
    "no_difference": "no difference",
    "favours_control": "favours the control",
    "uncontrolled": "no control group",
    "not_reported": "no comparison reported in what we read",
}


def _by_result(results: Sequence[str], labels: Sequence[str]) -> str:
    groups: dict[str, list[str]] = {}
    for result, label in zip(results, labels, strict=True):
        groups.setdefault(_RESULT_WORDS.get(result, result), []).append(label)
    return "; ".join(f"{words}: {', '.join(names)}" for words, names in groups.items())


def inconsistency(results: Sequence[str], i2: float | None = None,
                  labels: Sequence[str] = ()) -> Judgement:
    """Inconsistency from the trials' primary results and, when pooled, I² (percent).

    ``labels`` (one per result, e.g. "Goebel 2017") name the studies in the reason, grouped
    by primary result.

    Examples
    --------
    >>> inconsistency(["favours_treatment"]).judgement
    'no concern'
    >>> inconsistency(["favours_treatment", "no_difference"]).judgement
    'serious'
    >>> inconsistency(["favours_treatment", "no_difference"], i2=80).judgement
    'very serious'
    """
    controlled = [r for r in results if r in {"favours_treatment", "no_difference",
                                               "favours_control"}]
    named = f" ({_by_result(results, labels)})" if labels else ""
    if len(controlled) <= 1 and i2 is None:
        if not controlled and all(r == "uncontrolled" for r in results):
            why = "no study compares with a control group"
        elif not controlled:
            why = "no study reports a comparison with its control group on its main outcome"
        elif len(results) == 1:
            why = "a single trial"
        else:
            why = "only one of the studies reports a comparison on its main outcome"
        return Judgement("no concern", f"{why}{named}: consistency cannot be judged, so it is "
                                       "not rated down")
    conflicting = len(set(controlled)) > 1
    high_i2 = i2 is not None and i2 >= 50
    described = f"I² = {i2:.0f}%" if i2 is not None else "not pooled"
    if labels:
        described = f"{described}; {_by_result(results, labels)}"
    if conflicting and i2 is not None and i2 >= 75:
        return Judgement("very serious", f"trials' results point different ways and "
                                         f"{described}")
    if conflicting:
        return Judgement("serious", f"trials' primary results point different ways "
                                    f"({described})")
    if high_i2:
        return Judgement("serious", f"substantial heterogeneity ({described})")
    return Judgement("no concern", f"trials agree in direction ({described})")


@dataclass(frozen=True)
class TrialRisk:
    """One randomised trial as the risk-of-bias rule sees it.

    ``concerns`` lists the RoB 2 domains that are not low, as ``(domain, judgement)``.
    """

    label: str
    participants: int | None
    overall: str
    concerns: tuple[tuple[str, str], ...] = ()


#: RoB 2 overall judgements that count towards "serious" under the rule (all but low).
NOT_LOW = frozenset({"some concerns", "high", "no information"})
#: The words a reason must hold for a recorded judgement that departs from the rule.
DEPARTS = "departs from the rule"


def _trial_text(trial: TrialRisk) -> str:
    size = (f"{trial.participants} people" if trial.participants is not None
            else "size not known")
    groups: dict[str, list[str]] = {}
    for domain, judged in trial.concerns:
        groups.setdefault(judged, []).append(domain)
    detail = "; ".join(f"{j}: {', '.join(d)}" for j, d in groups.items())
    return f"{trial.label} ({size}), {trial.overall}" + (f" [{detail}]" if detail else "")


def risk_of_bias(trials: Sequence[TrialRisk], others: Sequence[str] = ()) -> Judgement:
    """Risk of bias of a body of evidence from its trials' RoB 2 judgements (the rule above).

    ``others`` names the studies of the rating that are not randomised (e.g. "Sinis 2007,
    case series"); they have no RoB 2 judgement.

    Examples
    --------
    >>> big = TrialRisk("A 2001", 90, "low")
    >>> small = TrialRisk("B 2002", 30, "high", (("measurement of the outcome", "high"),))
    >>> risk_of_bias([big, small]).judgement
    'no concern'
    >>> risk_of_bias([TrialRisk("A 2001", 30, "low"), TrialRisk("B 2002", 90, "high")]
    ...              ).judgement
    'very serious'
    >>> risk_of_bias([TrialRisk("A 2001", 30, "high"), TrialRisk("B 2002", 90, "some concerns")]
    ...              ).judgement
    'serious'
    >>> risk_of_bias([], others=["C 2010, case series"]).judgement
    'serious'
    """
    if not trials:
        if not others:
            raise AnalysisError("a risk-of-bias judgement needs at least one study")
        return Judgement("serious", "no randomised trial (" + "; ".join(others) + "): "
                         "without a comparison group, natural recovery, placebo effects and "
                         "extra attention cannot be told apart from the treatment")
    sized = [t for t in trials if t.participants is not None]
    if sized:
        weights = [(t, float(t.participants)) for t in sized]  # type: ignore[arg-type]
        unit = "participants"
    else:
        weights = [(t, 1.0) for t in trials]
        unit = "trials (no trial's size is known, so each counts once)"
    total = sum(w for _, w in weights)
    high = sum(w for t, w in weights if t.overall == "high")
    not_low = sum(w for t, w in weights if t.overall in NOT_LOW)
    if total and high > total / 2:
        judgement = "very serious"
    elif total and not_low > total / 2:
        judgement = "serious"
    else:
        judgement = "no concern"
    shares = (f"{not_low:g} of {total:g} {unit} are in trials not at low risk of bias (RoB 2 "
              f"overall some concerns, high or no information), {high:g} of them in trials at "
              "high risk")
    listed = "; ".join(_trial_text(t) for t in trials)
    reason = f"{shares}: {listed}"
    if others:
        reason += "; not randomised, so not judged with RoB 2: " + "; ".join(others)
    return Judgement(judgement, reason)


def indirectness(comparison_type: str, judged: Judgement | None = None) -> Judgement:
    """Indirectness: variants of one treatment are serious; otherwise the recorded judgement.

    Examples
    --------
    >>> indirectness("variant of the same treatment").judgement
    'serious'
    >>> indirectness("placebo or sham").judgement
    'no concern'
    """
    rule = (Judgement("serious", "the trials compare variants of the treatment, not the "
                                 "treatment with none")
            if comparison_type == "variant of the same treatment"
            else Judgement("no concern", "the trials compare the treatment directly"))
    if judged is None:
        return rule
    return judged if judged.steps >= rule.steps else rule


def level(start: str, judgements: Mapping[str, Judgement]) -> str:
    """The GRADE level: the start rated down by the five domains, never below very low.

    Examples
    --------
    >>> serious = Judgement("serious", "why")
    >>> fine = Judgement("no concern", "why")
    >>> level("high", {"risk_of_bias": serious, "inconsistency": fine, "indirectness": fine,
    ...                "imprecision": serious, "publication_bias": fine})
    'low'
    """
    if start not in ("high", "low"):
        raise AnalysisError(f"start must be 'high' or 'low'; got {start!r}")
    missing = [d for d in DOMAINS if d not in judgements]
    if missing:
        raise AnalysisError(f"every GRADE domain needs a judgement; missing {missing}")
    down = sum(judgements[d].steps for d in DOMAINS)
    return LEVELS[min(LEVELS.index(start) + down, len(LEVELS) - 1)]
