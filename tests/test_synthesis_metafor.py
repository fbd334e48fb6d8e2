"""The synthesis against R's metafor, on values metafor itself computed.

``tests/fixtures/metafor/*.json`` were written by ``scripts/metafor_fixtures.R`` (metafor
3.8-1, tight convergence settings; run by hand, not by CI). They hold random data sets over
k = 3 ... 100 with true tau² from 0 to 0.3 (several with a small positive Paule-Mandel
estimate), identical effects, and ``escalc`` defaults for SMD and zero-cell 2x2 tables.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crps_evidence.stats.synthesis import (
    effect_sizes,
    generalised_q,
    pm_tau2,
    pool,
    smd,
    two_by_two,
)

FIXTURES = Path(__file__).parent / "fixtures" / "metafor"
POOLING = json.loads((FIXTURES / "pooling.json").read_text(encoding="utf-8"))
ESCALC = json.loads((FIXTURES / "escalc.json").read_text(encoding="utf-8"))
CASES = [(s["id"], method) for s in POOLING["sets"] for method in s["results"]]
FIELDS = ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "pi_low", "pi_high")


def _set(set_id: str) -> dict:
    return next(s for s in POOLING["sets"] if s["id"] == set_id)


@pytest.mark.parametrize(("set_id", "variant"), CASES)
def test_pooling_matches_metafor(set_id, variant):
    data = _set(set_id)
    expected = data["results"][variant]
    method, _, knha = variant.partition("_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FewStudiesWarning for k = 3
        res = pool(data["yi"], data["vi"], method=method, knapp_hartung=bool(knha))
    for name in FIELDS:
        assert getattr(res, name) == pytest.approx(expected[name], rel=1e-6, abs=1e-8), name
    assert res.pvalue == pytest.approx(expected["pvalue"], rel=1e-5, abs=1e-12)


def test_fixtures_include_small_positive_paule_mandel_estimates():
    small = [s["id"] for s in POOLING["sets"] if 0 < s["results"]["PM"]["tau2"] < 0.02]
    assert len(small) >= 3, small


def test_paule_mandel_no_longer_collapses_to_zero_at_k_100():
    """The reported defect: statsmodels' loop returned 0 where metafor's tau² is positive."""
    positive = [s for s in POOLING["sets"] if s["id"].startswith("k100")
                and s["results"]["PM"]["tau2"] > 0.01]
    assert positive
    for data in positive:
        assert pm_tau2(np.array(data["yi"]), np.array(data["vi"])) == pytest.approx(
            data["results"]["PM"]["tau2"], rel=1e-6)


@pytest.mark.parametrize("seed", range(300))
def test_paule_mandel_solves_its_equation_or_is_zero_only_when_allowed(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 120))
    v = rng.uniform(0.005, 0.3, k)
    y = rng.normal(0.2, np.sqrt(v + rng.choice([0.0, 0.002, 0.02, 0.2])))
    tau2 = pm_tau2(y, v)
    if tau2 > 0:
        assert generalised_q(tau2, y, v) == pytest.approx(k - 1, abs=1e-8)
    else:
        assert generalised_q(0.0, y, v) <= k - 1


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
def test_identical_effects_under_knapp_hartung_are_defined_not_a_crash(method):
    data = _set("identical")
    expected = data["results"][f"{method}_knha"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak
        warnings.filterwarnings("ignore", message="only 4 studies")
        res = pool(data["yi"], data["vi"], method=method, knapp_hartung=True)
    assert res.se == expected["se"] == 0
    assert res.ci_low == res.ci_high == res.estimate == pytest.approx(0.5)
    assert res.statistic == math.inf
    assert res.pvalue == expected["pvalue"] == 0


def test_identical_zero_effects_give_nan_statistic():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = pool([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], method="DL", knapp_hartung=True)
    assert res.se == 0 and math.isnan(res.statistic) and math.isnan(res.pvalue)


@pytest.mark.parametrize("case", ESCALC["smd"], ids=lambda c: c["id"])
def test_smd_default_is_metafors_escalc(case):
    g, v = smd(case["m1"], case["sd1"], case["n1"], case["m2"], case["sd2"], case["n2"])
    assert (g, v) == pytest.approx((case["yi"], case["vi"]), rel=1e-9)


def test_smd_variants_differ_as_the_issue_measured_on_the_hbot_trial():
    args = (3.72, 1.42, 37, 5.61, 1.37, 34)
    _, metafor = smd(*args)
    _, cochrane = smd(*args, variant="cochrane")
    assert round(metafor, 5) == 0.06906
    assert round(cochrane, 5) == 0.06980


@pytest.mark.parametrize("measure", ["RD", "RR", "OR"])
def test_two_by_two_matches_escalc_zero_cell_convention(measure):
    for case in ESCALC["binary"][measure]:
        yi, vi = two_by_two(case["ai"], case["n1"], case["ci"], case["n2"], measure)
        assert (yi, vi) == pytest.approx((case["yi"], case["vi"]), rel=1e-9, abs=1e-12), case


def test_effect_sizes_apply_the_rd_zero_cell_correction():
    rows = pd.DataFrame({
        "study_id": "z", "domain": "incidence", "measure": "CRPS", "timepoint": "1 year",
        "arm": ["drug", "placebo"], "role": ["treatment", "control"],
        "data_type": "dichotomous", "n": [20, 20], "events": [0, 5], "lower_is_better": True})
    assert effect_sizes(rows, "RD")["effect"].iloc[0] == pytest.approx(-0.2380952, abs=1e-7)
