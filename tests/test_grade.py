"""The mechanical GRADE rules on made-up bodies of evidence (grade.py states each rule)."""

from __future__ import annotations

import pytest

from crps_evidence.errors import AnalysisError
from crps_evidence.stats.grade import (
    Judgement,
    imprecision,
    inconsistency,
    indirectness,
    level,
    optimal_information_size,
    start_level,
)

FINE = Judgement("no concern", "nothing found")
SERIOUS = Judgement("serious", "unblinded trials")


def rate(designs, participants, results, ci=None, measure="SMD", comparison="placebo or sham",
         risk_of_bias=FINE, i2=None, control_risk=None):
    judgements = {
        "risk_of_bias": risk_of_bias,
        "inconsistency": inconsistency(results, i2),
        "indirectness": indirectness(comparison),
        "imprecision": imprecision(participants, ci, measure=measure, results=results,
                                   control_risk=control_risk),
        "publication_bias": FINE,
    }
    return level(start_level(designs), judgements), judgements


def test_one_small_positive_rct_is_very_low():
    rating, why = rate(["parallel RCT"], 40, ["favours_treatment"], ci=(-1.2, -0.3),
                       risk_of_bias=SERIOUS)
    assert why["imprecision"].judgement == "very serious"  # 40 < 350 / 4
    assert why["inconsistency"].judgement == "no concern"  # one trial
    assert rating == "very low"


def test_two_conflicting_rcts_are_rated_down_for_inconsistency_and_imprecision():
    rating, why = rate(["parallel RCT", "crossover RCT"], 500,
                       ["favours_treatment", "no_difference"], ci=(-0.4, 0.1))
    assert why["inconsistency"].judgement == "serious"
    assert why["imprecision"].judgement == "serious"  # CI includes 0, OIS reached
    assert rating == "low"


def test_only_case_series_start_low_and_end_very_low():
    rating, _ = rate(["case series", "case series"], 30, ["uncontrolled", "uncontrolled"])
    assert start_level(["case series"]) == "low"
    assert rating == "very low"


def test_a_large_null_rct_is_moderate_certainty_of_little_effect():
    rating, why = rate(["parallel RCT"], 1000, ["no_difference"], ci=(-0.1, 0.1))
    assert why["imprecision"].judgement == "serious"
    assert rating == "moderate"


def test_a_wide_interval_across_benefit_and_harm_is_very_serious():
    assert imprecision(5000, (-0.6, 0.5)).judgement == "very serious"
    assert imprecision(5000, (-0.6, 0.1)).judgement == "serious"


def test_binary_ois_uses_the_control_risk_and_ratio_thresholds():
    ois = optimal_information_size(binary=True, control_risk=0.10)
    assert 3900 < ois < 4100
    judged = imprecision(1200, (-1.6, -0.2), measure="logRR", control_risk=0.10)
    assert judged.judgement == "serious"  # CI clear of RR 1; OIS / 4 <= 1200 < OIS
    assert "fewer than the optimal information size" in judged.reason
    assert imprecision(900, (-1.6, -0.2), measure="logRR",
                       control_risk=0.10).judgement == "very serious"  # 900 < OIS / 4


def test_no_estimate_falls_back_on_the_trials_primary_results():
    assert imprecision(5000, None, results=["no_difference"]).judgement == "serious"
    assert imprecision(5000, None, results=["favours_treatment"]).judgement == "no concern"


def test_variants_of_one_treatment_are_indirect():
    assert indirectness("variant of the same treatment").judgement == "serious"
    stronger = Judgement("very serious", "post-stroke population only")
    assert indirectness("placebo or sham", stronger) == stronger


def test_i2_alone_can_rate_down():
    assert inconsistency(["favours_treatment", "favours_treatment"], i2=60).judgement == "serious"
    assert inconsistency(["favours_treatment", "favours_treatment"], i2=20).judgement == \
        "no concern"


def test_level_never_goes_below_very_low_and_needs_every_domain():
    very = Judgement("very serious", "x")
    assert level("high", dict.fromkeys(
        ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"),
        very)) == "very low"
    with pytest.raises(AnalysisError, match="missing"):
        level("high", {"risk_of_bias": FINE})
    with pytest.raises(AnalysisError):
        Judgement("minor", "not a GRADE word")
