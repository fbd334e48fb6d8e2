"""Turning what trial reports print into what a meta-analysis needs.

Abstracts rarely give each arm's mean and standard deviation. They give a standard error, a
confidence interval, a p-value with the group sizes, or a median with its interquartile range
or range. These functions recover a standard deviation, a standard error or an approximate mean
by the standard methods:

* Cochrane Handbook for Systematic Reviews of Interventions (Higgins et al., editors; chapter 6,
  "Choosing effect measures and computing estimates of effect", formerly section 7.7.3 of
  version 5.1): a standard error from a confidence interval, from a t or exact p-value; a
  standard deviation from a standard error. Its worked examples are the unit tests.
* Wan, Wang, Liu and Tong (2014), BMC Medical Research Methodology 14:135: the mean and
  standard deviation from the median with the range (their scenario C1), with the quartiles
  (C3), or with both (C2). These are **approximations** that assume roughly normal data;
  a median reported instead of a mean often signals skewed data, so every figure made this way
  is labelled as approximate where it is used.

Each function states its formula. :func:`crps_evidence.stats.synthesis.effect_sizes` records, per
effect, which conversion made it (column ``conversion``).
"""

from __future__ import annotations

import math

from .._lazy import lazy_module
from ..errors import AnalysisError

stats = lazy_module("scipy.stats")  # imported on first use

__all__ = [
    "SMALL_GROUP",
    "critical_value",
    "degrees_of_freedom",
    "mean_sd_from_median_iqr",
    "mean_sd_from_median_range",
    "mean_sd_from_quartiles_and_range",
    "sd_from_se",
    "se_from_ci",
    "se_from_p",
    "se_from_t",
]


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise AnalysisError(f"{name} must be a positive number; got {value!r}")
    return float(value)


def critical_value(level: float = 0.95, df: float | None = None) -> float:
    """Two-sided critical value: normal, or t with ``df`` degrees of freedom.

    Examples
    --------
    >>> round(critical_value(0.95), 4)          # 3.92 = 2 x 1.96 is the Handbook's divisor
    1.96
    >>> round(critical_value(0.95, df=24), 4)   # Handbook: =tinv(1-0.95, 25-1) is 2.0639
    2.0639
    """
    if not 0 < level < 1:
        raise AnalysisError(f"confidence level must lie between 0 and 1; got {level!r}")
    upper = 0.5 + level / 2
    if df is None:
        return float(stats.norm.ppf(upper))
    return float(stats.t.ppf(upper, _positive("degrees of freedom", df)))


#: The Handbook's "small" group (6.5.2.3: "say fewer than 60 participants in each group"):
#: below it a reported CI is read with the t distribution.
SMALL_GROUP = 60


def degrees_of_freedom(design: str | None, n: float | None) -> float | None:
    """Degrees of freedom of a trial's between-arm contrast, or None to use the normal.

    ``n`` is the number analysed (both arms of a parallel trial; the participants of a
    crossover trial, each measured under both conditions). By design (Cochrane Handbook
    6.3.1 and 6.5.2.3; 23.2.6 for crossover trials): ``n - 2`` for a parallel trial
    (``n1 + n2 - 2``), ``n - 1`` for a crossover trial (a paired comparison). Only a *small*
    trial gets t: fewer than :data:`SMALL_GROUP` per group (parallel: n < 120; crossover:
    n < 60). Otherwise, or when the design or size is not known, None (normal).

    Examples
    --------
    >>> degrees_of_freedom("parallel RCT", 40), degrees_of_freedom("crossover RCT", 12)
    (38.0, 11.0)
    >>> degrees_of_freedom("parallel RCT", 300) is None, degrees_of_freedom(None, 40) is None
    (True, True)
    """
    if n is None or design is None or not (isinstance(n, int | float) and math.isfinite(n)):
        return None
    if design == "crossover RCT":
        return float(n - 1) if 2 <= n < SMALL_GROUP else None
    if design in {"parallel RCT", "RCT follow-up"}:
        return float(n - 2) if 3 <= n < 2 * SMALL_GROUP else None
    return None


def sd_from_se(se: float, n: float) -> float:
    """Standard deviation of a group from the standard error of its mean: ``SE √n``.

    Examples
    --------
    >>> sd_from_se(0.5, 100)
    5.0
    """
    return _positive("standard error", se) * math.sqrt(_positive("group size", n))


def se_from_ci(low: float, high: float, level: float = 0.95, df: float | None = None) -> float:
    """Standard error from a symmetric confidence interval: ``(high - low) / (2 crit)``.

    For a ratio (risk or odds ratio) pass the logarithms of the limits. ``df`` switches from
    the normal critical value (the Handbook's 3.92 = 2 x 1.96 for a large sample) to t, which
    the Handbook advises for small groups (say under 60 each).

    Examples
    --------
    >>> round(se_from_ci(1.0, 4.92), 3)
    1.0
    """
    if not high > low:
        raise AnalysisError(f"confidence interval [{low}, {high}] has no width")
    return (high - low) / (2 * critical_value(level, df))


def se_from_t(effect: float, t: float) -> float:
    """Standard error of an effect from its t (or z) statistic: ``|effect| / |t|``.

    Examples
    --------
    >>> round(se_from_t(3.8, 2.78), 2)   # Handbook: 3.8 / 2.78 = 1.37
    1.37
    """
    if not math.isfinite(t) or t == 0:
        raise AnalysisError(f"a t statistic must be finite and non-zero; got {t!r}")
    return abs(effect) / abs(t)


def se_from_p(effect: float, p: float, df: float | None = None) -> float:
    """Standard error of an effect from its exact two-sided p-value: ``|effect| / crit``.

    ``crit`` is the normal quantile of ``1 - p/2`` (the Handbook's Z), or the t quantile with
    ``df`` degrees of freedom for a t-test (``n1 + n2 - 2`` for two groups). Only an exact
    p-value works: "p < 0.05" is a bound, not a value, and is refused by the callers.

    Examples
    --------
    >>> round(critical_value(1 - 0.008), 3)             # Handbook: Z for P = 0.008 is 2.652
    2.652
    >>> round(se_from_p(3.8, 0.008, df=25 + 22 - 2), 2)  # Handbook: 3.8 / 2.78 = 1.37
    1.37
    """
    if not 0 < p < 1:
        raise AnalysisError(f"an exact p-value must lie strictly between 0 and 1; got {p!r}")
    if effect == 0:
        raise AnalysisError("a standard error cannot be recovered from a p-value for effect 0")
    return abs(effect) / critical_value(1 - p, df)


def _xi(n: float) -> float:
    """Wan et al. (2014) eq. 9 divisor for the range: ``2 Φ⁻¹((n - 0.375)/(n + 0.25))``."""
    return 2 * float(stats.norm.ppf((n - 0.375) / (n + 0.25)))


def _eta(n: float) -> float:
    """Wan et al. (2014) eq. 16 divisor for the IQR: ``2 Φ⁻¹((0.75n - 0.125)/(n + 0.25))``."""
    return 2 * float(stats.norm.ppf((0.75 * n - 0.125) / (n + 0.25)))


def _ordered(*values: float) -> None:
    if any(not math.isfinite(v) for v in values) or list(values) != sorted(values):
        raise AnalysisError(f"summary values must be finite and in order; got {values}")


def mean_sd_from_median_range(median: float, low: float, high: float, n: float
                              ) -> tuple[float, float]:
    """Approximate mean and SD from median, minimum and maximum (Wan 2014, scenario C1).

    Mean ``(low + 2 median + high) / 4``; SD ``(high - low) / ξ(n)``.

    Examples
    --------
    >>> mean, sd = mean_sd_from_median_range(5.0, 1.0, 9.0, 50)
    >>> mean, round(sd, 3)
    (5.0, 1.783)
    """
    _ordered(low, median, high)
    n = _positive("group size", n)
    if n < 2 or high == low:
        raise AnalysisError("a range needs at least two people and distinct minimum and maximum")
    return (low + 2 * median + high) / 4, (high - low) / _xi(n)


def mean_sd_from_median_iqr(median: float, q1: float, q3: float, n: float
                            ) -> tuple[float, float]:
    """Approximate mean and SD from median and quartiles (Wan 2014, scenario C3).

    Mean ``(q1 + median + q3) / 3``; SD ``(q3 - q1) / η(n)``. For large ``n``, ``η(n)``
    approaches ``2 Φ⁻¹(0.75) ≈ 1.35``, the Handbook's "IQR / 1.35".

    Examples
    --------
    >>> mean, sd = mean_sd_from_median_iqr(4.0, 3.0, 6.0, 30)
    >>> round(mean, 3), round(sd, 3)
    (4.333, 2.335)
    """
    _ordered(q1, median, q3)
    n = _positive("group size", n)
    if n < 3 or q3 == q1:
        raise AnalysisError("quartiles need at least three people and distinct q1 and q3")
    return (q1 + median + q3) / 3, (q3 - q1) / _eta(n)


def mean_sd_from_quartiles_and_range(low: float, q1: float, median: float, q3: float,
                                     high: float, n: float) -> tuple[float, float]:
    """Approximate mean and SD from all five numbers (Wan 2014, scenario C2).

    Mean ``(low + 2 q1 + 2 median + 2 q3 + high) / 8``; SD
    ``(high - low) / (2 ξ(n)) + (q3 - q1) / (2 η(n))``.

    Examples
    --------
    >>> mean, sd = mean_sd_from_quartiles_and_range(1.0, 3.0, 4.0, 6.0, 9.0, 30)
    >>> round(mean, 3), round(sd, 3)
    (4.5, 2.148)
    """
    _ordered(low, q1, median, q3, high)
    n = _positive("group size", n)
    if n < 3 or q3 == q1 or high == low:
        raise AnalysisError("five-number summaries need n >= 3 and distinct quartiles and range")
    mean = (low + 2 * q1 + 2 * median + 2 * q3 + high) / 8
    return mean, (high - low) / (2 * _xi(n)) + (q3 - q1) / (2 * _eta(n))
