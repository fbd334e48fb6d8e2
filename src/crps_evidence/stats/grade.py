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
  prescribes. Fewer participants than the OIS is serious, fewer than a quarter of it ("far less"
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

Risk of bias and publication bias are judgements: they are read from ``certainty.csv``, where
each has its reason. :func:`level` turns a start and the five judgements into the rating.
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
    "imprecision",
    "inconsistency",
    "indirectness",
    "level",
    "optimal_information_size",
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


def optimal_information_size(binary: bool = False, control_risk: float | None = None) -> int:
    """Participants (both arms) a single trial needs: alpha 0.05 two-sided, power 80%.

    Continuous outcomes: ``2 × 2 (z_α + z_β)² / d²`` with ``d`` = :data:`OIS_SMD`. Binary
    outcomes: ``2 (z_α + z_β)² (p₀q₀ + p₁q₁) / (p₀ - p₁)²`` with ``p₁ = p₀ (1 - RRR)``.

    Examples
    --------
    >>> optimal_information_size()
    350
    >>> optimal_information_size(binary=True, control_risk=0.10)
    4004
    """
    z = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))
    if not binary:
        return 2 * math.ceil(2 * z**2 / OIS_SMD**2)
    if control_risk is None or not 0 < control_risk < 1:
        raise AnalysisError("a binary OIS needs the control group's risk, between 0 and 1")
    p0 = control_risk
    p1 = p0 * (1 - OIS_RRR)
    return 2 * math.ceil(z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p0 - p1) ** 2)


def imprecision(
    participants: int,
    ci: tuple[float, float] | None = None,
    *,
    measure: str = "SMD",
    results: Sequence[str] = (),
    control_risk: float | None = None,
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
    ois = optimal_information_size(binary=binary, control_risk=control_risk if binary else None)
    if participants >= ois:
        size = Judgement("no concern", f"{participants} participants reach the optimal "
                                       f"information size of {ois}")
    elif 4 * participants >= ois:
        size = Judgement("serious", f"{participants} participants, fewer than the optimal "
                                    f"information size of {ois}")
    else:
        size = Judgement("very serious", f"{participants} participants, fewer than a quarter "
                                         f"of the optimal information size of {ois}")
    if ci is not None:
        low, high = ci
        if low <= 0 <= high:
            if measure in {"logRR", "logOR"}:
                both = low < math.log(APPRECIABLE_RR[0]) and high > math.log(APPRECIABLE_RR[1])
            elif measure == "SMD":
                both = low < -APPRECIABLE_SMD and high > APPRECIABLE_SMD
            else:
                both = False
            interval = (Judgement("very serious", "the 95% CI includes appreciable benefit and "
                                                  "appreciable harm")
                        if both else Judgement("serious", "the 95% CI includes no effect"))
        else:
            interval = Judgement("no concern", "the 95% CI excludes no effect")
    elif any(r == "no_difference" for r in results):
        interval = Judgement("serious", "no effect estimate; at least one trial found no "
                                        "difference on its primary outcome")
    else:
        interval = Judgement("no concern", "no effect estimate to judge; trials' primary "
                                           "results do not include a null finding")
    worse = _worse(size, interval)
    other = interval if worse is size else size
    return Judgement(worse.judgement, f"{worse.reason}; {other.reason}")


def inconsistency(results: Sequence[str], i2: float | None = None) -> Judgement:
    """Inconsistency from the trials' primary results and, when pooled, I² (percent).

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
    if len(controlled) <= 1 and i2 is None:
        if not controlled:
            why = "no study compares with a control group"
        elif len(results) == 1:
            why = "a single trial"
        else:
            why = "only one of the studies reports a comparison on its main outcome"
        return Judgement("no concern", f"{why}: consistency cannot be judged, so it is not "
                                       "rated down")
    conflicting = len(set(controlled)) > 1
    high_i2 = i2 is not None and i2 >= 50
    described = f"I² = {i2:.0f}%" if i2 is not None else "not pooled"
    if conflicting and i2 is not None and i2 >= 75:
        return Judgement("very serious", f"trials' results point different ways and "
                                         f"{described}")
    if conflicting:
        return Judgement("serious", f"trials' primary results point different ways "
                                    f"({described})")
    if high_i2:
        return Judgement("serious", f"substantial heterogeneity ({described})")
    return Judgement("no concern", f"trials agree in direction ({described})")


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
