"""Effect sizes from outcome rows, and inverse-variance pooling checked against metafor.

Two steps, kept apart so each can be checked on its own:

1. :func:`effect_sizes` turns rows of ``outcomes.csv`` (one row per arm, or one reported
   between-arm contrast) into one effect size with its sampling variance per
   (study_id, domain, timepoint). Effects are always *treatment minus control*.
2. :func:`pool` combines effects and variances (fixed effect, or random effects with the
   REML, DerSimonian-Laird or Paule-Mandel estimator of tau², optionally with the
   Knapp-Hartung adjustment). :func:`pool_effects` does the same from rows of
   :func:`effect_sizes` and refuses requests that would mix outcomes or time points.

The numbers follow metafor's ``escalc``/``rma`` conventions; ``tests/test_synthesis.py``
reproduces metafor's published results on the BCG vaccine data set.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from .._lazy import lazy_module
from ..errors import AnalysisError
from . import conversions

# scipy is imported on first use: a notebook's first import stays light.
optimize = lazy_module("scipy.optimize")
special = lazy_module("scipy.special")
stats = lazy_module("scipy.stats")

__all__ = [
    "FewStudiesWarning",
    "PoolResult",
    "dl_tau2",
    "effect_sizes",
    "generalised_q",
    "pm_tau2",
    "pool",
    "pool_effects",
    "reml_tau2",
    "smd",
    "two_by_two",
]

#: Effect measures :func:`effect_sizes` can produce, with the name used in its output.
MEASURES: dict[str, str] = {
    "MD": "MD",
    "SMD": "SMD",
    "RR": "logRR",
    "OR": "logOR",
    "RD": "RD",
}
_CONTINUOUS = {"MD", "SMD"}
_RATIO = {"RR", "OR"}
_Z95 = 1.959963984540054  # float(scipy.stats.norm.ppf(0.975)); tested
_KEY = ["study_id", "domain", "timepoint"]
METHODS = ("REML", "DL", "PM", "FE")

COLUMNS = [
    "study_id",
    "domain",
    "measure",
    "timepoint",
    "timepoint_weeks",
    "effect_measure",
    "effect",
    "variance",
    "ci_low",
    "ci_high",
    "n_treatment",
    "n_control",
    "lower_is_better",
    "source",
    "conversion",
]


class FewStudiesWarning(UserWarning):
    """Fewer than five studies were pooled: tau² and its consequences are unreliable."""


# --------------------------------------------------------------------------- effect sizes


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    return None


def _num(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def _pick_arms(
    rows: pd.DataFrame, key: tuple[str, str, str], arms: Mapping[str, tuple[str, str]] | None
) -> tuple[pd.Series, pd.Series]:
    """Return the single treatment and control row, or refuse when there is a choice."""
    study = key[0]
    if arms is not None and study in arms:
        t_arm, c_arm = arms[study]
        rows = rows[rows["arm"].isin([t_arm, c_arm])]
    treat = rows[rows["role"] == "treatment"]
    ctrl = rows[rows["role"] == "control"]
    if treat.empty or ctrl.empty:
        raise LookupError(f"{len(treat)} treatment and {len(ctrl)} control arms (need one each)")
    if len(treat) > 1 or len(ctrl) > 1:
        raise AnalysisError(
            f"study {study!r} ({key[1]}, {key[2]}) has {len(treat)} treatment and "
            f"{len(ctrl)} control arms ({', '.join(map(str, rows['arm']))}); choose one pair "
            f"with arms={{{study!r}: (treatment_arm, control_arm)}}"
        )
    return treat.iloc[0], ctrl.iloc[0]


def _arm_mean_sd(row: pd.Series) -> tuple[float, float, str]:
    """Mean and SD of one arm, converted where the report gave something else.

    Order of preference: mean and SD; mean and SE (``SE √n``); median with quartiles and/or
    range (Wan et al. 2014, approximate). Returns ``(mean, sd, how)``.
    """
    n, mean, sd = _num(row["n"]), _num(row["mean"]), _num(row.get("sd"))
    if math.isnan(n):
        raise LookupError("continuous arms need n")
    if not math.isnan(mean) and not math.isnan(sd):
        return mean, sd, "mean and SD"
    se = _num(row.get("se"))
    if not math.isnan(mean) and not math.isnan(se):
        return mean, conversions.sd_from_se(se, n), "SD from SE"
    median = _num(row.get("median"))
    q1, q3 = _num(row.get("iqr_low")), _num(row.get("iqr_high"))
    low, high = _num(row.get("range_low")), _num(row.get("range_high"))
    has_iqr = not (math.isnan(q1) or math.isnan(q3))
    has_range = not (math.isnan(low) or math.isnan(high))
    if not math.isnan(median) and (has_iqr or has_range):
        if has_iqr and has_range:
            m, s = conversions.mean_sd_from_quartiles_and_range(low, q1, median, q3, high, n)
            return m, s, "mean and SD from median, IQR and range (Wan 2014, approximate)"
        if has_iqr:
            m, s = conversions.mean_sd_from_median_iqr(median, q1, q3, n)
            return m, s, "mean and SD from median and IQR (Wan 2014, approximate)"
        m, s = conversions.mean_sd_from_median_range(median, low, high, n)
        return m, s, "mean and SD from median and range (Wan 2014, approximate)"
    raise LookupError("continuous arms need n and mean with sd or se, or a median with its "
                      "quartiles or range")


def _from_arms(t: pd.Series, c: pd.Series, measure: str, smd_variant: str = "metafor"
               ) -> tuple[float, float, str]:
    """Effect (treatment minus control), its variance and how the arms were read."""
    n1, n2 = _num(t["n"]), _num(c["n"])
    if measure in _CONTINUOUS:
        m1, sd1, how1 = _arm_mean_sd(t)
        m2, sd2, how2 = _arm_mean_sd(c)
        how = how1 if how1 == how2 else f"treatment: {how1}; control: {how2}"
        if measure == "MD":
            return m1 - m2, sd1**2 / n1 + sd2**2 / n2, how
        g, v = smd(m1, sd1, n1, m2, sd2, n2, variant=smd_variant)
        return g, v, how
    e1, e2 = _num(t["events"]), _num(c["events"])
    if any(math.isnan(x) for x in (n1, n2, e1, e2)):
        raise LookupError("dichotomous arms need events and n")
    e, v = two_by_two(e1, n1, e2, n2, measure)
    zero = 0 in (e1, n1 - e1, e2, n2 - e2)
    return e, v, "events per arm" + (" (1/2 added to each cell: a zero cell)" if zero else "")


def smd(
    m1: float, sd1: float, n1: float, m2: float, sd2: float, n2: float,
    variant: str = "metafor",
) -> tuple[float, float]:
    """Hedges' g (group 1 minus group 2) and its sampling variance.

    Parameters
    ----------
    m1, sd1, n1, m2, sd2, n2 : float
        Mean, standard deviation and size of each group.
    variant : {"metafor", "cochrane"}
        ``"metafor"`` (the default, as ``escalc(measure="SMD")``): the exact small-sample
        correction ``J = Γ(m/2) / (√(m/2) Γ((m-1)/2))`` with ``m = n1+n2-2`` and the
        variance ``1/n1 + 1/n2 + g²/(2N)``. ``"cochrane"`` (RevMan, the Cochrane Handbook):
        ``J = 1 - 3/(4N-9)`` and ``N/(n1 n2) + g²/(2(N-3.94))``. The two differ by about 1%
        in the variance of a 70-person trial.

    Returns
    -------
    tuple of float
        ``(g, variance)``.

    Examples
    --------
    >>> g, v = smd(3.72, 1.42, 37, 5.61, 1.37, 34)   # metafor: yi -1.3388, vi 0.0691
    >>> round(g, 4), round(v, 4)
    (-1.3388, 0.0691)
    """
    big_n = n1 + n2
    m = big_n - 2
    pooled = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / m)
    if not pooled > 0:
        raise AnalysisError("a standardised mean difference needs a positive pooled SD")
    d = (m1 - m2) / pooled
    if variant == "metafor":
        j = math.exp(special.gammaln(m / 2) - special.gammaln((m - 1) / 2)) / math.sqrt(m / 2)
        g = j * d
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * big_n)
    if variant == "cochrane":
        g = (1 - 3 / (4 * big_n - 9)) * d
        return g, big_n / (n1 * n2) + g**2 / (2 * (big_n - 3.94))
    raise AnalysisError(f"unknown SMD variant {variant!r}; choose 'metafor' or 'cochrane'")


def two_by_two(e1: float, n1: float, e2: float, n2: float, measure: str
               ) -> tuple[float, float]:
    """Log risk ratio, log odds ratio or risk difference (group 1 vs 2) and its variance.

    As metafor's ``escalc`` default (``add=1/2, to="only0"``): when any cell of the 2x2 table
    is zero (no events, or only events, in an arm), 1/2 is added to every cell of that table,
    for the risk difference as for the ratios.

    Examples
    --------
    >>> rd, v = two_by_two(0, 20, 5, 20, "RD")   # metafor: yi -0.2381, vi 0.0103
    >>> round(rd, 4), round(v, 4)
    (-0.2381, 0.0103)
    """
    if measure not in {"RR", "OR", "RD"}:
        raise AnalysisError(f"unknown binary measure {measure!r}")
    if not (0 <= e1 <= n1 and 0 <= e2 <= n2 and n1 > 0 and n2 > 0):
        raise AnalysisError(f"impossible counts: {e1}/{n1} vs {e2}/{n2}")
    a, b, c, d = e1, n1 - e1, e2, n2 - e2
    if 0 in (a, b, c, d):
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    n1, n2 = a + b, c + d
    if measure == "RR":
        return math.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2
    if measure == "OR":
        return math.log((a * d) / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d
    p1, p2 = a / n1, c / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def _from_reported(row: pd.Series, measure: str, key: tuple[str, str, str],
                   design: str | None = None) -> tuple[float, float, float, float, str]:
    """Effect, variance, CI (log scale for ratios) and the conversion, from a reported effect.

    With a 95% CI of a difference (MD, SMD) the standard error is ``width / (2 crit)``: crit
    from t when the trial is small and its design and size are known
    (:func:`~crps_evidence.stats.conversions.degrees_of_freedom`: ``n - 2`` parallel,
    ``n - 1`` crossover; Cochrane Handbook 6.3.1 and 6.5.2.3), else the normal 1.96 (the
    Handbook's large-sample 3.92). Ratios always use the normal on the log scale. Without a
    CI, an exact ``p_value`` gives ``|effect| / crit`` the same way; without a known design,
    a mean difference with ``n`` uses ``n - 2``.
    """
    est, lo, hi = _num(row["effect"]), _num(row["ci_low"]), _num(row["ci_high"])
    p = _num(row.get("p_value"))
    if math.isnan(est):
        raise LookupError("reported effect needs a value")
    if math.isnan(lo) or math.isnan(hi):
        if math.isnan(p):
            raise LookupError("reported effect needs ci_low and ci_high, or an exact p_value")
        if measure in _RATIO:
            if est <= 0:
                raise AnalysisError(f"{key}: a {measure} must be positive")
            est = math.log(est)
        n = _num(row.get("n"))
        df = None
        if measure in {"MD", "SMD"} and not math.isnan(n):
            df = (conversions.degrees_of_freedom(design, n) if design is not None
                  else (n - 2 if n > 2 else None))
        se = conversions.se_from_p(est, p, df)
        half = _Z95 * se
        how = f"SE from exact p = {p:g} ({f't, {df:g} df' if df else 'normal'})"
        return est, se**2, est - half, est + half, how
    if not lo <= est <= hi:
        raise AnalysisError(f"{key}: reported {measure} {est} lies outside its CI [{lo}, {hi}]")
    if measure in _RATIO:
        if lo <= 0:
            raise AnalysisError(f"{key}: a {measure} and its CI must be positive")
        est, lo, hi = math.log(est), math.log(lo), math.log(hi)
    if hi == lo:
        raise AnalysisError(f"{key}: reported CI has zero width")
    n = _num(row.get("n"))
    df = (conversions.degrees_of_freedom(design, None if math.isnan(n) else n)
          if measure in {"MD", "SMD"} else None)
    how = f"SE from 95% CI (t, {df:g} df)" if df else "SE from 95% CI (normal)"
    return est, conversions.se_from_ci(lo, hi, df=df) ** 2, lo, hi, how


def _first(rows: pd.DataFrame, column: str) -> object:
    values = rows[column].dropna() if column in rows else pd.Series(dtype=object)
    return values.iloc[0] if len(values) else math.nan


def _direction(rows: pd.DataFrame, key: tuple[str, str, str]) -> bool:
    values = {_as_bool(v) for v in rows["lower_is_better"]}
    if len(values) != 1 or None in values:
        raise AnalysisError(f"{key}: lower_is_better is missing or differs between rows")
    return bool(values.pop())


def effect_sizes(
    outcomes: pd.DataFrame,
    measure: str = "SMD",
    *,
    arms: Mapping[str, tuple[str, str]] | None = None,
    smd_variant: str = "metafor",
    designs: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Compute one effect size (treatment minus control) per study, domain and time point.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Rows in the ``outcomes.csv`` long format (see ``data/datapackage.json``).
    measure : {"SMD", "MD", "RR", "OR", "RD"}
        Effect measure. ``SMD`` is Hedges' g as metafor's ``escalc`` computes it (see
        :func:`smd`). ``MD`` uses ``sd1²/n1 + sd2²/n2``. ``RR`` and ``OR`` are returned as
        natural logs (``effect_measure`` "logRR" / "logOR"); a table with a zero cell gets
        1/2 added to every cell, for ``RD`` too, as metafor's ``escalc`` does
        (:func:`two_by_two`). A reported effect is used
        only when its ``effect_measure`` equals ``measure``; its variance is recovered
        from the 95% CI width (on the log scale for ratios).
    arms : mapping, optional
        ``{study_id: (treatment_arm, control_arm)}`` choosing two arms of a study with
        more than one treatment (or control) arm. Without a choice such studies are
        refused, because using every arm would count the shared control group twice.
    smd_variant : {"metafor", "cochrane"}
        Formula for ``SMD`` (see :func:`smd`); metafor's by default.
    designs : mapping, optional
        ``{study_id: design}`` (``studies.design``). A reported difference of a small trial
        whose design and size are known has its standard error read from the CI with the t
        distribution (``n - 2`` df parallel, ``n - 1`` crossover), as the Cochrane Handbook
        advises; without a design the normal is used.

    Returns
    -------
    pandas.DataFrame
        The columns in :data:`COLUMNS`, ``source`` being "arms" or "reported" and
        ``conversion`` saying how the figures were read or converted (e.g. "SD from SE",
        "mean and SD from median and IQR (Wan 2014, approximate)", "SE from 95% CI
        (normal)"; see :mod:`crps_evidence.stats.conversions`). When a
        group has both usable arm data and a reported contrast, the arms are used. Groups
        without usable data are listed, with the reason, in ``result.attrs["skipped"]``.

    Raises
    ------
    AnalysisError
        For an unknown measure, an unresolved multi-arm study, or impossible values.

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "study_id": ["a", "a"], "domain": "pain", "measure": "NRS 0-10",
    ...     "timepoint": "12 weeks", "timepoint_weeks": 12.0, "arm": ["drug", "placebo"],
    ...     "role": ["treatment", "control"], "data_type": "continuous",
    ...     "n": [20, 20], "mean": [4.0, 5.0], "sd": [2.0, 2.0], "lower_is_better": True})
    >>> float(effect_sizes(rows, "MD")["effect"].iloc[0])
    -1.0
    """
    if measure not in MEASURES:
        raise AnalysisError(f"unknown measure {measure!r}; choose one of {sorted(MEASURES)}")
    required = {*_KEY, "role", "data_type", "lower_is_better"}
    if missing := sorted(required - set(outcomes)):
        raise AnalysisError(f"outcome rows lack required columns {missing}")
    optional = ["measure", "timepoint_weeks", "arm", "n", "mean", "sd", "se", "events"]
    optional += ["median", "iqr_low", "iqr_high", "range_low", "range_high"]
    optional += ["effect_measure", "effect", "ci_low", "ci_high", "p_value"]
    outcomes = outcomes.assign(**{c: math.nan for c in optional if c not in outcomes})
    wanted_type = "continuous" if measure in _CONTINUOUS else "dichotomous"
    records: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    for key, rows in outcomes.groupby(_KEY, sort=False, dropna=False):
        key = tuple(str(k) for k in key)
        arm_rows = rows[rows["role"].isin(["treatment", "control"])]
        typed = arm_rows[(arm_rows["data_type"] == wanted_type).fillna(False).astype(bool)]
        is_contrast = (rows["role"] == "contrast") & (rows["effect_measure"] == measure)
        contrast = rows[is_contrast.fillna(False).astype(bool)]
        record: dict[str, object] = {
            "study_id": key[0],
            "domain": key[1],
            "timepoint": key[2],
            "measure": _first(rows, "measure"),
            "timepoint_weeks": _num(_first(rows, "timepoint_weeks")),
            "effect_measure": MEASURES[measure],
            "n_treatment": _num(_first(arm_rows[arm_rows["role"] == "treatment"], "n")),
            "n_control": _num(_first(arm_rows[arm_rows["role"] == "control"], "n")),
            "lower_is_better": _direction(rows, key),
        }
        reasons = []
        try:
            t, c = _pick_arms(typed, key, arms)
            effect, variance, how = _from_arms(t, c, measure, smd_variant)
            half = _Z95 * math.sqrt(variance)
            record.update(n_treatment=_num(t["n"]), n_control=_num(c["n"]), source="arms",
                          conversion=how)
            record.update(effect=effect, variance=variance)
            record.update(ci_low=effect - half, ci_high=effect + half)
        except LookupError as exc:
            reasons.append(f"arms: {exc}")
            if contrast.empty:
                reasons.append(f"no reported {measure}")
                skipped.append(
                    {
                        "study_id": key[0],
                        "domain": key[1],
                        "timepoint": key[2],
                        "reason": "; ".join(reasons),
                    }
                )
                continue
            try:
                design = designs.get(key[0]) if designs is not None else None
                effect, variance, lo, hi, how = _from_reported(contrast.iloc[0], measure, key,
                                                               design)
            except LookupError as exc2:
                skipped.append(
                    {
                        "study_id": key[0],
                        "domain": key[1],
                        "timepoint": key[2],
                        "reason": f"{reasons[0]}; reported: {exc2}",
                    }
                )
                continue
            record.update(effect=effect, variance=variance, ci_low=lo, ci_high=hi)
            record.update(source="reported", conversion=how)
        if not (math.isfinite(record["variance"]) and record["variance"] > 0):  # type: ignore[arg-type]
            raise AnalysisError(f"{key}: the {measure} variance is not positive and finite")
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    table.attrs["skipped"] = skipped
    return table


# --------------------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class PoolResult:
    """Result of an inverse-variance meta-analysis (all effects on the analysis scale).

    ``i2`` is a percentage. For "REML" and "PM" it is metafor's tau²-based
    ``100 * tau2 / (tau2 + s2)`` with the typical within-study variance
    ``s2 = (k-1) Σw / ((Σw)² - Σw²)``, ``w = 1/v``; for "DL" the same formula equals
    Higgins and Thompson's ``(Q - (k-1)) / Q`` truncated at 0; for "FE" it is that
    Q-based value. ``pi_low``/``pi_high`` are the prediction interval
    ``estimate ± crit * sqrt(se² + tau2)`` (crit from the normal, or from t with k-1
    df under Knapp-Hartung), as metafor's ``predict``. ``weights`` are percentages in
    the order the effects were given.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    pvalue: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    k: int
    method: str
    knapp_hartung: bool
    level: float
    pi_low: float
    pi_high: float
    df: float | None
    weights: tuple[float, ...]
    effect_measure: str | None = None

    @property
    def tau(self) -> float:
        """Estimated between-study standard deviation."""
        return math.sqrt(self.tau2)

    def summary_frame(self) -> pd.DataFrame:
        """One-row table of the pooled estimate and heterogeneity statistics.

        Examples
        --------
        >>> frame = pool([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="FE").summary_frame()
        >>> int(frame.loc["FE", "k"])
        3
        """
        row = {k: v for k, v in asdict(self).items() if k != "weights"}
        row["tau"] = self.tau
        return pd.DataFrame([row], index=[self.method])


def _restricted_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    mu = w @ y / w.sum()
    return -0.5 * (np.log(v + tau2).sum() + math.log(w.sum()) + w @ (y - mu) ** 2)


def reml_tau2(
    effects: np.ndarray, variances: np.ndarray, tol: float = 1e-10, max_iter: int = 200
) -> float:
    """REML estimate of tau² by Fisher scoring, truncated at zero.

    The score of the restricted log-likelihood is ``½(Σw²r² - tr P)`` and the expected
    information ``½ tr(P²)``, with ``w = 1/(v + tau²)``, ``r = y - μ̂`` and
    ``P = W - w wᵀ/Σw``; each step adds score/information (halved while it would leave
    [0, ∞) above a zero start). If scoring does not converge, a bounded 1-D optimiser of
    the restricted likelihood gives the answer.

    Examples
    --------
    >>> round(reml_tau2(np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.1, 0.1])), 6)
    0.9
    """
    y, v = np.asarray(effects, float), np.asarray(variances, float)
    w0 = 1.0 / v
    c = w0.sum() - (w0**2).sum() / w0.sum()
    mu0 = w0 @ y / w0.sum()
    tau2 = max(0.0, (w0 @ (y - mu0) ** 2 - (len(y) - 1)) / c)  # DL start
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        sw, sw2 = w.sum(), (w**2).sum()
        r = y - w @ y / sw
        trp = sw - sw2 / sw
        trpp = sw2 - 2 * (w**3).sum() / sw + (sw2 / sw) ** 2
        step = ((w**2) @ r**2 - trp) / trpp
        new = max(0.0, tau2 + step)
        if abs(new - tau2) <= tol * max(1.0, tau2):
            return float(new)
        tau2 = new
    upper = 10 * max(float(np.var(y)), float(v.max()))
    found = optimize.minimize_scalar(
        lambda t: -_restricted_loglik(t, y, v),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(found.x)


def generalised_q(tau2: float, effects: np.ndarray, variances: np.ndarray) -> float:
    """Generalised Cochran's Q: ``Σ w (y - μ̂)²`` with ``w = 1/(v + tau²)``.

    At ``tau2 = 0`` it is Cochran's Q; it decreases as ``tau2`` grows.

    Examples
    --------
    >>> generalised_q(0.0, np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    1.0
    """
    w = 1.0 / (np.asarray(variances, float) + tau2)
    y = np.asarray(effects, float)
    return float(w @ (y - w @ y / w.sum()) ** 2)


def dl_tau2(effects: np.ndarray, variances: np.ndarray) -> float:
    """DerSimonian-Laird estimate of tau²: ``max(0, (Q - (k-1)) / (Σw - Σw²/Σw))``.

    Examples
    --------
    >>> dl_tau2(np.array([0.5, 0.5, 0.5]), np.array([0.1, 0.2, 0.3]))
    0.0
    """
    v = np.asarray(variances, float)
    w = 1.0 / v
    c = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (generalised_q(0.0, effects, v) - (len(v) - 1)) / c)


def pm_tau2(effects: np.ndarray, variances: np.ndarray, xtol: float = 1e-14) -> float:
    """Paule-Mandel estimate of tau²: the root of ``Q(tau²) = k - 1`` (generalised Q).

    Zero when ``Q(0) <= k - 1``. Otherwise the root is bracketed (the upper end doubled until
    ``Q`` falls below ``k - 1``; ``Q`` decreases in tau²) and found by Brent's method, so a
    positive root is never lost to rounding near zero.

    Examples
    --------
    >>> y, v = np.array([0.0, 1.0, 2.0]), np.array([0.1, 0.1, 0.1])
    >>> round(pm_tau2(y, v), 6)   # Q(tau²) = 2 / (0.1 + tau²) = 2
    0.9
    """
    y, v = np.asarray(effects, float), np.asarray(variances, float)
    target = len(y) - 1

    def excess(tau2: float) -> float:
        return generalised_q(tau2, y, v) - target

    if excess(0.0) <= 0:
        return 0.0
    upper = max(float(np.var(y)), float(v.max()), 1e-8)
    while excess(upper) > 0:
        upper *= 2
    return float(optimize.brentq(excess, 0.0, upper, xtol=xtol, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def _tau2(method: str, y: np.ndarray, v: np.ndarray) -> float:
    if method == "FE":
        return 0.0
    if method == "REML":
        return reml_tau2(y, v)
    if method == "DL":
        return dl_tau2(y, v)
    return pm_tau2(y, v)


def pool(
    effects: np.ndarray | pd.Series | list[float],
    variances: np.ndarray | pd.Series | list[float],
    method: str = "REML",
    knapp_hartung: bool = False,
    level: float = 0.95,
) -> PoolResult:
    """Pool effects by inverse-variance weighting (fixed or random effects).

    Parameters
    ----------
    effects, variances : array_like
        Effect sizes and their sampling variances (all positive and finite).
    method : {"REML", "DL", "PM", "FE"}
        tau² estimator (restricted maximum likelihood, DerSimonian-Laird, Paule-Mandel),
        or "FE" for the fixed-effect (equal-effects) estimate.
    knapp_hartung : bool
        Use the Knapp-Hartung standard error ``sqrt(Σw r² / ((k-1) Σw))`` with a t
        distribution on k-1 df (metafor's ``test="knha"``, without truncation). When every
        effect is identical this standard error is 0: the CI collapses to the estimate, the
        statistic is ±inf and the p-value 0 (NaN when the estimate is 0), as in metafor.
    level : float
        Confidence level of the CI and the prediction interval.

    Returns
    -------
    PoolResult

    Raises
    ------
    AnalysisError
        Fewer than two effects, bad variances or an unknown method.

    Warns
    -----
    FewStudiesWarning
        A random-effects method with fewer than five studies.

    Examples
    --------
    >>> res = pool([0.1, 0.3, 0.2, 0.4, 0.0], [0.01, 0.02, 0.015, 0.03, 0.02], method="DL")
    >>> res.k, round(res.estimate, 4)
    (5, 0.1756)
    """
    if method not in METHODS:
        raise AnalysisError(f"unknown method {method!r}; choose one of {METHODS}")
    y = np.asarray(effects, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    k = y.size
    if k < 2:
        raise AnalysisError(f"pooling needs at least two studies; got {k}")
    if v.size != k or not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise AnalysisError("effects and variances must be finite, equally long, variances > 0")
    if method != "FE" and k < 5:
        warnings.warn(
            f"only {k} studies: the between-study variance (tau²) cannot be estimated "
            "reliably, and neither can the random-effects CI and prediction interval",
            FewStudiesWarning,
            stacklevel=2,
        )
    w0 = 1.0 / v
    q = float(w0 @ (y - w0 @ y / w0.sum()) ** 2)
    tau2 = _tau2(method, y, v)
    w = 1.0 / (v + tau2)
    estimate = float(w @ y / w.sum())
    if knapp_hartung:
        se = math.sqrt(float(w @ (y - estimate) ** 2) / ((k - 1) * w.sum()))
        df: float | None = k - 1
        crit = float(stats.t.ppf(0.5 + level / 2, k - 1))
        distribution = stats.t(k - 1)
    else:
        se = math.sqrt(1.0 / w.sum())
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2))
        distribution = stats.norm()
    if se > 0:
        statistic = estimate / se
        pvalue = float(2 * distribution.sf(abs(statistic)))
    else:  # Knapp-Hartung on identical effects: se 0, as metafor (z = ±inf, p = 0)
        statistic = math.copysign(math.inf, estimate) if estimate else math.nan
        pvalue = 0.0 if estimate else math.nan
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    else:
        s2 = (k - 1) * w0.sum() / (w0.sum() ** 2 - (w0**2).sum())
        i2 = 100 * tau2 / (tau2 + s2)
        h2 = (tau2 + s2) / s2
    half_pi = crit * math.sqrt(se**2 + tau2)
    return PoolResult(
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        statistic=statistic,
        pvalue=pvalue,
        tau2=tau2,
        i2=i2,
        h2=h2,
        q=q,
        q_df=k - 1,
        q_pvalue=float(stats.chi2.sf(q, k - 1)),
        k=k,
        method=method,
        knapp_hartung=knapp_hartung,
        level=level,
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
        df=df,
        weights=tuple(float(x) for x in 100 * w / w.sum()),
    )


def _refuse_mixture(table: pd.DataFrame, column: str, what: str) -> None:
    values = table[column].astype(str).unique()
    if len(values) > 1:
        raise AnalysisError(f"refusing to pool across {what}: {sorted(values)}; select one first")


def pool_effects(
    table: pd.DataFrame,
    method: str = "REML",
    knapp_hartung: bool = False,
    level: float = 0.95,
) -> PoolResult:
    """Pool rows of :func:`effect_sizes` that answer one question.

    Refuses (``AnalysisError``) fewer than two rows, a study listed twice, and rows that
    mix domains, effect measures, time points (``timepoint_weeks`` when every row has
    it, else the ``timepoint`` text) or outcome direction (``lower_is_better``); for
    mean differences also rows that mix instruments (``measure``). Weights in the
    result follow the row order of ``table``.

    Examples
    --------
    >>> rows = pd.DataFrame({"study_id": list("abcde"), "domain": "pain",
    ...     "measure": "NRS", "timepoint": "12 weeks", "timepoint_weeks": 12.0,
    ...     "effect_measure": "SMD", "effect": [-0.5, -0.2, -0.4, 0.0, -0.3],
    ...     "variance": [0.05, 0.04, 0.1, 0.06, 0.08], "lower_is_better": True})
    >>> pool_effects(rows, method="DL").k
    5
    """
    if len(table) < 2:
        raise AnalysisError(f"pooling needs at least two studies; got {len(table)}")
    missing = {"study_id", "domain", "effect_measure", "effect", "variance"} - set(table)
    if missing:
        raise AnalysisError(f"table lacks columns {sorted(missing)}; use effect_sizes()")
    duplicated = table["study_id"][table["study_id"].duplicated()].unique()
    if len(duplicated):
        raise AnalysisError(f"studies listed more than once: {sorted(map(str, duplicated))}")
    _refuse_mixture(table, "domain", "outcome domains")
    _refuse_mixture(table, "effect_measure", "effect measures")
    if "timepoint_weeks" in table and table["timepoint_weeks"].notna().all():
        _refuse_mixture(table, "timepoint_weeks", "time points (weeks)")
    elif "timepoint" in table:
        _refuse_mixture(table, "timepoint", "time points")
    if "lower_is_better" in table:
        _refuse_mixture(table, "lower_is_better", "outcome directions (lower_is_better)")
    if table["effect_measure"].iloc[0] == "MD" and "measure" in table:
        _refuse_mixture(table, "measure", "instruments (use SMD)")
    result = pool(table["effect"], table["variance"], method, knapp_hartung, level)
    return replace(result, effect_measure=str(table["effect_measure"].iloc[0]))
