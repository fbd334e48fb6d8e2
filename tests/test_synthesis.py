"""Tests of crps_evidence.stats.synthesis: effect sizes, pooling, refusals, and metafor's results.

Reference values were read (not recalled) in these sources, via the project's search tool:

[README]  github.com/wviechtb/metafor, README.md at commit
          0014f62b7481cf6c29a19898babb1f5993a9dbc7: dat.bcg counts, escalc("RR") yi/vi,
          and ``rma(yi, vi, data=dat, test="knha")`` output plus ``predict(..., transf=exp)``.
[BCGDOC]  github.com/wviechtb/metafor, docs/reference/dat.bcg.html (pkgdown page of
          metafor 2.5-15) at commit 1110afed1c9d254282c10a6dcd1b22de7a68e8fe: the same
          counts and yi/vi, ``rma(yi, vi, data=dat)`` (REML, z test) output and
          ``predict(res, transf=exp)``.
[METAN]   github.com/wviechtb/metafor, tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
          at commit 0e54b316e8c58fe0f0ab5890017193728a305ad1: FE and DL results for
          measures RR, OR and RD (metafor's own test, checked there against Stata metan).
[RMAUNI]  github.com/wviechtb/metafor, tests/testthat/test_misc_rma_uni.r at commit
          191d2cb2232543df06887643c4483996cc9b614f: tau2 = 0.3181 for method="DLIT" and
          "SJIT" on the BCG log risk ratios.

Printed values carry 4 decimals, so they are compared with an absolute tolerance of 1e-4
(rounding error at most 5e-5); values printed with 2 decimals use 5e-3.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from crps_evidence.errors import AnalysisError, CRPSEvidenceError
from crps_evidence.stats.synthesis import (
    FewStudiesWarning,
    PoolResult,
    effect_sizes,
    pool,
    pool_effects,
    reml_tau2,
)
from crps_evidence.stats.synthesis import _restricted_loglik as restricted_loglik

# dat.bcg (Colditz et al. 1994), read in [README] and [BCGDOC]: tpos, tneg, cpos, cneg.
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]
# escalc(measure="RR") yi and vi as printed in [README] and [BCGDOC].
BCG_YI = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209,
          0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173]  # fmt: skip
BCG_VI = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230,
          0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714]  # fmt: skip

TOL = 1e-4


def bcg_outcomes() -> pd.DataFrame:
    """dat.bcg as rows of outcomes.csv (TB cases; fewer is better)."""
    rows = []
    for i, (tpos, tneg, cpos, cneg) in enumerate(BCG, start=1):
        for arm, events, n in (("vaccine", tpos, tpos + tneg), ("control", cpos, cpos + cneg)):
            rows.append(
                {
                    "study_id": f"trial{i}",
                    "domain": "responders",
                    "measure": "TB cases",
                    "timepoint": "end of follow-up",
                    "timepoint_weeks": None,
                    "arm": arm,
                    "role": "treatment" if arm == "vaccine" else "control",
                    "data_type": "dichotomous",
                    "n": n,
                    "events": events,
                    "effect_measure": None,
                    "lower_is_better": "true",
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def bcg_rr() -> pd.DataFrame:
    return effect_sizes(bcg_outcomes(), "RR")


# ------------------------------------------------------------------ metafor reproduction


def test_bcg_log_risk_ratios_match_escalc(bcg_rr):
    assert list(bcg_rr["effect_measure"].unique()) == ["logRR"]
    np.testing.assert_allclose(bcg_rr["effect"], BCG_YI, atol=TOL)
    np.testing.assert_allclose(bcg_rr["variance"], BCG_VI, atol=TOL)
    assert (bcg_rr["source"] == "arms").all()
    assert bcg_rr["lower_is_better"].all()


def test_reml_matches_metafor(bcg_rr):
    res = pool_effects(bcg_rr, method="REML")
    # [BCGDOC]: estimate -0.7145, se 0.1798, zval -3.9744, ci -1.0669 .. -0.3622,
    # tau^2 0.3132, I^2 92.22%, H^2 12.86, Q(df = 12) = 152.2330.
    assert res.estimate == pytest.approx(-0.7145, abs=TOL)
    assert res.se == pytest.approx(0.1798, abs=TOL)
    assert res.statistic == pytest.approx(-3.9744, abs=TOL)
    assert res.ci_low == pytest.approx(-1.0669, abs=TOL)
    assert res.ci_high == pytest.approx(-0.3622, abs=TOL)
    assert res.tau2 == pytest.approx(0.3132, abs=TOL)
    assert res.tau == pytest.approx(0.5597, abs=TOL)
    assert res.i2 == pytest.approx(92.22, abs=5e-3)
    assert res.h2 == pytest.approx(12.86, abs=5e-3)
    assert res.q == pytest.approx(152.2330, abs=TOL)
    assert res.q_df == 12
    assert res.k == 13
    # [BCGDOC] predict(res, transf=exp): pred 0.4894, ci 0.3441 .. 0.6962,
    # cr (prediction interval) 0.1546 .. 1.5490.
    assert math.exp(res.estimate) == pytest.approx(0.4894, abs=TOL)
    assert math.exp(res.ci_low) == pytest.approx(0.3441, abs=TOL)
    assert math.exp(res.ci_high) == pytest.approx(0.6962, abs=TOL)
    assert math.exp(res.pi_low) == pytest.approx(0.1546, abs=TOL)
    assert math.exp(res.pi_high) == pytest.approx(1.5490, abs=TOL)


def test_reml_knapp_hartung_matches_metafor(bcg_rr):
    res = pool_effects(bcg_rr, method="REML", knapp_hartung=True)
    # [README] rma(yi, vi, data=dat, test="knha"): estimate -0.7145, se 0.1808,
    # tval -3.9522, df 12, pval 0.0019, ci -1.1084 .. -0.3206; tau^2 0.3132.
    assert res.estimate == pytest.approx(-0.7145, abs=TOL)
    assert res.se == pytest.approx(0.1808, abs=TOL)
    assert res.statistic == pytest.approx(-3.9522, abs=TOL)
    assert res.df == 12
    assert res.pvalue == pytest.approx(0.0019, abs=TOL)
    assert res.ci_low == pytest.approx(-1.1084, abs=TOL)
    assert res.ci_high == pytest.approx(-0.3206, abs=TOL)
    assert res.tau2 == pytest.approx(0.3132, abs=TOL)
    # [README] predict(res, transf=exp, digits=2): 0.49 [0.33, 0.73], PI 0.14 .. 1.76.
    assert math.exp(res.ci_low) == pytest.approx(0.33, abs=5e-3)
    assert math.exp(res.ci_high) == pytest.approx(0.73, abs=5e-3)
    assert math.exp(res.pi_low) == pytest.approx(0.14, abs=5e-3)
    assert math.exp(res.pi_high) == pytest.approx(1.76, abs=5e-3)


def test_dersimonian_laird_matches_metafor(bcg_rr):
    res = pool_effects(bcg_rr, method="DL")
    # [METAN] RE model w/ DL estimator, measure='RR'.
    assert res.estimate == pytest.approx(-0.7141, abs=TOL)
    assert res.ci_low == pytest.approx(-1.0644, abs=TOL)
    assert res.ci_high == pytest.approx(-0.3638, abs=TOL)
    assert res.statistic == pytest.approx(-3.9952, abs=TOL)
    assert res.tau2 == pytest.approx(0.3088, abs=TOL)
    assert res.i2 == pytest.approx(92.1173, abs=TOL)
    assert math.exp(res.estimate) == pytest.approx(0.4896, abs=TOL)
    assert math.exp(res.ci_low) == pytest.approx(0.3449, abs=TOL)
    assert math.exp(res.ci_high) == pytest.approx(0.6950, abs=TOL)
    # For DL the tau²-based I² equals Higgins and Thompson's (Q - df) / Q.
    assert res.i2 == pytest.approx(100 * (res.q - res.q_df) / res.q, rel=1e-12)


def test_fixed_effect_matches_metafor(bcg_rr):
    res = pool_effects(bcg_rr, method="FE")
    # [METAN] FE model, measure='RR'.
    assert res.estimate == pytest.approx(-0.4303, abs=TOL)
    assert res.ci_low == pytest.approx(-0.5097, abs=TOL)
    assert res.ci_high == pytest.approx(-0.3509, abs=TOL)
    assert res.statistic == pytest.approx(-10.6247, abs=TOL)
    assert res.q == pytest.approx(152.2330, abs=TOL)
    assert math.exp(res.estimate) == pytest.approx(0.6503, abs=TOL)
    assert math.exp(res.ci_low) == pytest.approx(0.6007, abs=TOL)
    assert math.exp(res.ci_high) == pytest.approx(0.7040, abs=TOL)
    assert res.tau2 == 0.0


@pytest.mark.parametrize(
    ("measure", "method", "expected"),
    [
        # [METAN] measure='OR': FE beta, ci.lb, ci.ub, zval, QE; DL beta, ci, zval, tau2, I2.
        ("OR", "FE", {"estimate": -0.4361, "ci_low": -0.5190, "ci_high": -0.3533,
                      "statistic": -10.3190, "q": 163.1649}),
        ("OR", "DL", {"estimate": -0.7474, "ci_low": -1.1242, "ci_high": -0.3706,
                      "statistic": -3.8873, "tau2": 0.3663, "i2": 92.6455}),
        # [METAN] measure='RD'.
        ("RD", "FE", {"estimate": -0.0009, "ci_low": -0.0014, "ci_high": -0.0005,
                      "statistic": -4.0448, "q": 276.4737}),
        ("RD", "DL", {"estimate": -0.0071, "ci_low": -0.0101, "ci_high": -0.0040,
                      "statistic": -4.5128, "tau2": 0.0000, "i2": 95.6596}),
    ],
)  # fmt: skip
def test_odds_ratio_and_risk_difference_match_metafor(measure, method, expected):
    res = pool_effects(effect_sizes(bcg_outcomes(), measure), method=method)
    for name, value in expected.items():
        assert getattr(res, name) == pytest.approx(value, abs=TOL), name


def test_paule_mandel_solves_its_estimating_equation(bcg_rr):
    res = pool_effects(bcg_rr, method="PM")
    # [RMAUNI]: DLIT and SJIT give tau2 = 0.3181; both iterate to the root of the
    # generalised Q statistic = k - 1, which is the Paule-Mandel estimating equation.
    assert res.tau2 == pytest.approx(0.3181, abs=TOL)
    y, v = bcg_rr["effect"].to_numpy(), bcg_rr["variance"].to_numpy()
    w = 1 / (v + res.tau2)
    generalised_q = w @ (y - w @ y / w.sum()) ** 2
    assert generalised_q == pytest.approx(len(y) - 1, abs=1e-8)


# ------------------------------------------------------------------------- REML, proven


@pytest.mark.parametrize("seed", range(8))
def test_reml_maximises_the_restricted_likelihood(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 40))
    v = rng.uniform(0.01, 0.5, k)
    y = rng.normal(0.3, math.sqrt(rng.choice([0.0, 0.05, 0.5])), k) + rng.normal(0, np.sqrt(v))
    tau2 = reml_tau2(y, v)
    grid = optimize.minimize_scalar(
        lambda t: -restricted_loglik(t, y, v),
        bounds=(0, 20),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert restricted_loglik(tau2, y, v) >= -grid.fun - 1e-9
    if tau2 > 0:  # interior maximum: the REML score vanishes
        w = 1 / (v + tau2)
        r = y - w @ y / w.sum()
        score = (w**2) @ r**2 - (w.sum() - (w**2).sum() / w.sum())
        assert abs(score) < 1e-6 * (w**2).sum()
    # The optimiser fallback (used when scoring does not converge) agrees.
    assert reml_tau2(y, v, max_iter=0) == pytest.approx(tau2, abs=1e-6)


def test_reml_is_zero_for_homogeneous_effects():
    y = np.array([0.2, 0.2, 0.2, 0.2, 0.2])
    assert reml_tau2(y, np.array([0.1, 0.2, 0.3, 0.1, 0.2])) == 0.0


# ------------------------------------------------------------------------- effect sizes


def continuous_rows(study="s1", sd=(2.0, 2.5), se=(None, None), n=(20, 25), lower=True):
    return pd.DataFrame(
        {
            "study_id": study,
            "domain": "pain",
            "measure": "NRS 0-10",
            "timepoint": "12 weeks",
            "timepoint_weeks": 12.0,
            "arm": ["drug", "placebo"],
            "role": ["treatment", "control"],
            "data_type": "continuous",
            "n": list(n),
            "mean": [4.0, 5.5],
            "sd": list(sd),
            "se": list(se),
            "events": None,
            "effect_measure": None,
            "effect": None,
            "ci_low": None,
            "ci_high": None,
            "lower_is_better": lower,
        }
    )


def test_mean_difference_is_treatment_minus_control():
    row = effect_sizes(continuous_rows(), "MD").iloc[0]
    assert row["effect"] == pytest.approx(-1.5)
    assert row["variance"] == pytest.approx(2.0**2 / 20 + 2.5**2 / 25)
    assert row["ci_low"] == pytest.approx(-1.5 - 1.959964 * math.sqrt(row["variance"]))
    assert (row["n_treatment"], row["n_control"], row["source"]) == (20, 25, "arms")


def test_standard_errors_convert_to_standard_deviations():
    from_se = continuous_rows(sd=(None, None), se=(2.0 / math.sqrt(20), 2.5 / math.sqrt(25)))
    a = effect_sizes(from_se, "SMD").iloc[0]
    b = effect_sizes(continuous_rows(), "SMD").iloc[0]
    assert a["effect"] == pytest.approx(b["effect"])
    assert a["variance"] == pytest.approx(b["variance"])


def test_cochrane_smd_variant_is_revman_hedges_g():
    row = effect_sizes(continuous_rows(), "SMD", smd_variant="cochrane").iloc[0]
    n1, n2 = 20, 25
    sp = math.sqrt((19 * 2.0**2 + 24 * 2.5**2) / (n1 + n2 - 2))
    g = (1 - 3 / (4 * (n1 + n2) - 9)) * (-1.5 / sp)
    assert row["effect"] == pytest.approx(g)
    assert row["variance"] == pytest.approx((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2 - 3.94)))
    assert row["effect_measure"] == "SMD"


def test_zero_cell_gets_metafor_continuity_correction():
    rows = bcg_outcomes().iloc[:2].copy()
    rows["events"] = [0, 5]
    rows["n"] = [50, 50]
    row = effect_sizes(rows, "RR").iloc[0]
    a, b, c, d = 0.5, 50.5, 5.5, 45.5  # every cell + 1/2 (escalc add=1/2, to="only0")
    assert row["effect"] == pytest.approx(math.log((a / (a + b)) / (c / (c + d))))
    assert row["variance"] == pytest.approx(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))


def reported_row(study="r1", measure="RR", effect=0.5, lo=0.25, hi=1.0):
    return pd.DataFrame(
        {
            "study_id": [study],
            "domain": ["responders"],
            "measure": ["50% pain relief"],
            "timepoint": ["12 weeks"],
            "timepoint_weeks": [12.0],
            "arm": ["contrast"],
            "role": ["contrast"],
            "data_type": ["reported_effect"],
            "effect_measure": [measure],
            "effect": [effect],
            "ci_low": [lo],
            "ci_high": [hi],
            "lower_is_better": [False],
        }
    )


def test_reported_ratio_uses_logs_and_ci_width():
    row = effect_sizes(reported_row(), "RR").iloc[0]
    assert row["effect"] == pytest.approx(math.log(0.5))
    assert row["variance"] == pytest.approx((math.log(4) / (2 * 1.959964)) ** 2, rel=1e-6)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((math.log(0.25), 0.0))
    assert row["source"] == "reported"
    assert not row["lower_is_better"]


def test_reported_effect_of_another_measure_is_skipped_and_listed():
    table = effect_sizes(reported_row(measure="OR"), "RR")
    assert table.empty
    assert table.attrs["skipped"][0]["study_id"] == "r1"
    assert "no reported RR" in table.attrs["skipped"][0]["reason"]


def test_arms_are_preferred_over_a_reported_contrast():
    arms = continuous_rows()
    contrast = reported_row(study="s1", measure="MD", effect=-1.4, lo=-2.5, hi=-0.3)
    contrast[["domain", "measure"]] = ["pain", "NRS 0-10"]
    contrast["lower_is_better"] = True
    row = effect_sizes(pd.concat([arms, contrast]), "MD").iloc[0]
    assert row["source"] == "arms"
    assert row["effect"] == pytest.approx(-1.5)


def test_impossible_reported_values_are_refused():
    with pytest.raises(AnalysisError, match="outside its CI"):
        effect_sizes(reported_row(effect=2.0), "RR")


def test_multi_arm_study_is_refused_unless_arms_are_chosen():
    rows = continuous_rows()
    third = rows.iloc[[0]].assign(arm="high dose", mean=3.0)
    rows = pd.concat([rows, third], ignore_index=True)
    with pytest.raises(AnalysisError, match="2 treatment and 1 control arms"):
        effect_sizes(rows, "MD")
    chosen = effect_sizes(rows, "MD", arms={"s1": ("high dose", "placebo")})
    assert chosen["effect"].iloc[0] == pytest.approx(3.0 - 5.5)


def test_unknown_measure_is_refused():
    with pytest.raises(AnalysisError, match="unknown measure"):
        effect_sizes(continuous_rows(), "HR")


# ------------------------------------------------------------------ honesty in pooling


def effect_table(k=5, **overrides):
    table = pd.DataFrame(
        {
            "study_id": [f"s{i}" for i in range(k)],
            "domain": "pain",
            "measure": "NRS 0-10",
            "timepoint": "12 weeks",
            "timepoint_weeks": 12.0,
            "effect_measure": "SMD",
            "effect": np.linspace(-0.6, 0.1, k),
            "variance": np.linspace(0.03, 0.09, k),
            "lower_is_better": True,
        }
    )
    for column, value in overrides.items():
        table.loc[0, column] = value
    return table


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"domain": "function"}, "outcome domains"),
        ({"effect_measure": "MD"}, "effect measures"),
        ({"timepoint_weeks": 26.0}, "time points"),
        ({"lower_is_better": False}, "outcome directions"),
        ({"study_id": "s1"}, "more than once"),
    ],
)
def test_pool_effects_refuses_mixtures(override, message):
    with pytest.raises(AnalysisError, match=message):
        pool_effects(effect_table(**override))


def test_timepoint_text_is_compared_when_weeks_are_missing():
    table = effect_table(timepoint="6 months")
    table["timepoint_weeks"] = np.nan
    with pytest.raises(AnalysisError, match="time points"):
        pool_effects(table)


def test_mean_differences_on_different_instruments_are_refused():
    table = effect_table(measure="VAS 0-100")
    table["effect_measure"] = "MD"
    with pytest.raises(AnalysisError, match="instruments"):
        pool_effects(table)


def test_fewer_than_two_studies_are_refused():
    with pytest.raises(AnalysisError, match="at least two"):
        pool_effects(effect_table(k=1))
    with pytest.raises(CRPSEvidenceError):
        pool([0.1], [0.01])


def test_few_studies_warn_that_tau2_is_unreliable():
    assert issubclass(FewStudiesWarning, UserWarning)
    with pytest.warns(FewStudiesWarning, match="only 4 studies"):
        pool_effects(effect_table(k=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pool_effects(effect_table(k=5))


def test_bad_variances_and_methods_are_refused():
    with pytest.raises(AnalysisError, match="variances"):
        pool([0.1, 0.2], [0.01, 0.0])
    with pytest.raises(AnalysisError, match="unknown method"):
        pool([0.1, 0.2], [0.01, 0.02], method="ML")


def test_pool_result_is_frozen_and_summarised(bcg_rr):
    res = pool_effects(bcg_rr)
    assert isinstance(res, PoolResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0  # type: ignore[misc]
    frame = res.summary_frame()
    assert list(frame.index) == ["REML"]
    assert frame.loc["REML", "estimate"] == res.estimate
    assert frame.loc["REML", "effect_measure"] == "logRR"
    assert {"pi_low", "pi_high", "tau2", "i2", "q_pvalue", "k"} <= set(frame.columns)
    assert sum(res.weights) == pytest.approx(100)
    assert len(res.weights) == res.k


def test_study_without_a_control_arm_is_skipped_not_refused():
    rows = continuous_rows(study="cohort1")
    rows["role"] = "treatment"  # e.g. two centres of an uncontrolled cohort
    table = effect_sizes(rows, "MD")
    assert table.empty
    assert "2 treatment and 0 control arms" in table.attrs["skipped"][0]["reason"]


def test_nullable_dtypes_as_loaded_from_csv_are_handled():
    rows = pd.concat([continuous_rows(), reported_row(study="r1", measure="MD")])
    rows = rows.convert_dtypes()  # StringDtype / BooleanDtype / Int64 with <NA>
    table = effect_sizes(rows, "MD")
    assert list(table["study_id"]) == ["s1", "r1"]
    assert list(table["source"]) == ["arms", "reported"]
