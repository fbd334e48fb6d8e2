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

from ._lazy import lazy_function, lazy_module
from .errors import AnalysisError

# scipy and statsmodels are imported on first use: a notebook's first import stays light.
optimize = lazy_module("scipy.optimize")
stats = lazy_module("scipy.stats")
_META = "statsmodels.stats.meta_analysis"
combine_effects = lazy_function(_META, "combine_effects")
effectsize_2proportions = lazy_function(_META, "effectsize_2proportions")
effectsize_smd = lazy_function(_META, "effectsize_smd")

__all__ = [
    "FewStudiesWarning",
    "PoolResult",
    "effect_sizes",
    "pool",
    "pool_effects",
    "reml_tau2",
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


def _from_arms(t: pd.Series, c: pd.Series, measure: str) -> tuple[float, float]:
    """Effect (treatment minus control) and its variance from two arm rows."""
    n1, n2 = _num(t["n"]), _num(c["n"])
    if measure in _CONTINUOUS:
        m1, m2 = _num(t["mean"]), _num(c["mean"])
        sd1 = _num(t.get("sd"))
        sd2 = _num(c.get("sd"))
        # A standard error converts to a standard deviation as se * sqrt(n).
        if math.isnan(sd1):
            sd1 = _num(t.get("se")) * math.sqrt(n1)
        if math.isnan(sd2):
            sd2 = _num(c.get("se")) * math.sqrt(n2)
        if any(math.isnan(x) for x in (n1, n2, m1, m2, sd1, sd2)):
            raise LookupError("continuous arms need n, mean and sd (or se)")
        if measure == "MD":
            return m1 - m2, sd1**2 / n1 + sd2**2 / n2
        g, var = effectsize_smd(m1, sd1, n1, m2, sd2, n2)
        return float(g), float(var)
    e1, e2 = _num(t["events"]), _num(c["events"])
    if any(math.isnan(x) for x in (n1, n2, e1, e2)):
        raise LookupError("dichotomous arms need events and n")
    statistic = {"RR": "risk-ratio", "OR": "odds-ratio", "RD": "diff"}[measure]
    zero = e1 in (0, n1) or e2 in (0, n2)
    # metafor's escalc default (add=1/2, to="only0"): add 1/2 to every cell of a table with
    # a zero cell. A risk difference needs no correction unless its variance would be zero.
    correct = zero and (measure in _RATIO or (e1 in (0, n1) and e2 in (0, n2)))
    eff, var = effectsize_2proportions(
        np.array([e1]),
        np.array([n1]),
        np.array([e2]),
        np.array([n2]),
        statistic=statistic,
        zero_correction=0.5 if correct else None,
    )
    return float(eff[0]), float(var[0])


def _from_reported(row: pd.Series, measure: str, key: tuple[str, str, str]) -> tuple[float, ...]:
    """Effect, variance and CI (log scale for ratios) from a reported effect and 95% CI."""
    est, lo, hi = _num(row["effect"]), _num(row["ci_low"]), _num(row["ci_high"])
    if any(math.isnan(x) for x in (est, lo, hi)):
        raise LookupError("reported effect needs effect, ci_low and ci_high")
    if not lo <= est <= hi:
        raise AnalysisError(f"{key}: reported {measure} {est} lies outside its CI [{lo}, {hi}]")
    if measure in _RATIO:
        if lo <= 0:
            raise AnalysisError(f"{key}: a {measure} and its CI must be positive")
        est, lo, hi = math.log(est), math.log(lo), math.log(hi)
    if hi == lo:
        raise AnalysisError(f"{key}: reported CI has zero width")
    return est, ((hi - lo) / (2 * _Z95)) ** 2, lo, hi


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
) -> pd.DataFrame:
    """Compute one effect size (treatment minus control) per study, domain and time point.

    Parameters
    ----------
    outcomes : pandas.DataFrame
        Rows in the ``outcomes.csv`` long format (see ``data/datapackage.json``).
    measure : {"SMD", "MD", "RR", "OR", "RD"}
        Effect measure. ``SMD`` is Hedges' g with the approximate small-sample correction
        and the variance ``(n1+n2)/(n1 n2) + g²/(2(n1+n2-3.94))`` (statsmodels; Cochrane's
        formula). ``MD`` uses ``sd1²/n1 + sd2²/n2``. ``RR`` and ``OR`` are returned as
        natural logs (``effect_measure`` "logRR" / "logOR"); a table with a zero cell gets
        1/2 added to every cell, as metafor's ``escalc`` does. A reported effect is used
        only when its ``effect_measure`` equals ``measure``; its variance is recovered
        from the 95% CI width (on the log scale for ratios).
    arms : mapping, optional
        ``{study_id: (treatment_arm, control_arm)}`` choosing two arms of a study with
        more than one treatment (or control) arm. Without a choice such studies are
        refused, because using every arm would count the shared control group twice.

    Returns
    -------
    pandas.DataFrame
        The columns in :data:`COLUMNS`, ``source`` being "arms" or "reported". When a
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
    optional += ["effect_measure", "effect", "ci_low", "ci_high"]
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
            effect, variance = _from_arms(t, c, measure)
            half = _Z95 * math.sqrt(variance)
            record.update(n_treatment=_num(t["n"]), n_control=_num(c["n"]), source="arms")
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
                effect, variance, lo, hi = _from_reported(contrast.iloc[0], measure, key)
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
            record["source"] = "reported"
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


def _tau2(method: str, y: np.ndarray, v: np.ndarray) -> float:
    if method == "FE":
        return 0.0
    if method == "REML":
        return reml_tau2(y, v)
    if method == "DL":
        return max(0.0, float(combine_effects(y, v, method_re="dl").tau2))
    found = combine_effects(y, v, method_re="pm", atol=1e-12, maxiter=10_000)
    return max(0.0, float(found.tau2))


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
        distribution on k-1 df (metafor's ``test="knha"``, without truncation).
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
        pvalue = float(2 * stats.t.sf(abs(estimate / se), k - 1))
    else:
        se = math.sqrt(1.0 / w.sum())
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2))
        pvalue = float(2 * stats.norm.sf(abs(estimate / se)))
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
        statistic=estimate / se,
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
