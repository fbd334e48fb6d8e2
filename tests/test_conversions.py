"""Conversions from what reports print to what pooling needs, on their sources' own examples.

Sources read through the project's search tool (stored pages):

[HB]   Cochrane Handbook text on obtaining standard errors and SDs (version 5.1 section 7.7.3,
       now chapter 6), quoted on copies of the Handbook page: the 95% CI divisor 3.92 for large
       samples, "= tinv(1-0.95, 25-1)" giving 2.0639 and the divisor 2 x 2.0639 = 4.128 for a
       group of 25 (metnoob.blogg.se copy); a mean difference of 3.8 with P = 0.008 from groups
       of 25 and 22: t = 2.78 on 45 df and SE = 3.8 / 2.78 = 1.37 (miliebay.blogg.se copy);
       Z = 2.652 for P = 0.008 (a copy in the Nemotron-CC-Math page set).
[WAN]  Wan, Wang, Liu, Tong (2014), BMC Med Res Methodol 14:135 (PMC4383202): scenario C1
       mean (a + 2m + b)/4, SD (b - a)/xi(n), xi(n) = 2 Phi^-1((n - 0.375)/(n + 0.25)) (eq. 9);
       C3 mean (q1 + m + q3)/3, SD (q3 - q1)/eta(n), eta(n) = 2 Phi^-1((0.75n - 0.125)/(n + 0.25))
       (eq. 16); C2 the average of the two. The equations were read in several independent
       implementations citing those equation numbers (code search), not on the paper's page.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import norm

from crps_evidence.errors import AnalysisError
from crps_evidence.stats.conversions import (
    critical_value,
    mean_sd_from_median_iqr,
    mean_sd_from_median_range,
    mean_sd_from_quartiles_and_range,
    sd_from_se,
    se_from_ci,
    se_from_p,
    se_from_t,
)
from crps_evidence.stats.synthesis import effect_sizes


def test_handbook_large_sample_ci_divisor_is_3_92():
    assert 2 * critical_value(0.95) == pytest.approx(3.92, abs=5e-3)
    assert se_from_ci(2.0, 5.92) == pytest.approx(1.0, abs=2e-3)


def test_handbook_small_sample_ci_uses_t():
    assert critical_value(0.95, df=24) == pytest.approx(2.0639, abs=5e-5)
    assert 2 * critical_value(0.95, df=24) == pytest.approx(4.128, abs=5e-4)
    # a CI 4.128 wide around a group mean of 25 people is one SE either side of 2.0639 SEs
    assert se_from_ci(0.0, 4.128, df=24) == pytest.approx(1.0, abs=2e-4)


def test_handbook_p_value_examples():
    assert critical_value(1 - 0.008) == pytest.approx(2.652, abs=5e-4)
    assert critical_value(1 - 0.008, df=45) == pytest.approx(2.78, abs=5e-3)
    assert se_from_p(3.8, 0.008, df=45) == pytest.approx(1.37, abs=5e-3)
    assert se_from_p(-3.8, 0.008, df=45) == se_from_p(3.8, 0.008, df=45)


def test_handbook_t_statistic_example():
    assert se_from_t(3.8, 2.78) == pytest.approx(1.37, abs=5e-3)
    with pytest.raises(AnalysisError, match="t statistic"):
        se_from_t(1.0, 0.0)


def test_sd_from_se():
    assert sd_from_se(1.5, 16) == 6.0


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, math.nan])
def test_inexact_or_impossible_p_values_are_refused(bad):
    with pytest.raises(AnalysisError, match="p-value"):
        se_from_p(1.0, bad)


def test_wan_range_formula():
    n = 40
    xi = 2 * norm.ppf((n - 0.375) / (n + 0.25))
    mean, sd = mean_sd_from_median_range(6.0, 2.0, 10.0, n)
    assert mean == (2.0 + 12.0 + 10.0) / 4
    assert sd == pytest.approx(8.0 / xi)


def test_wan_iqr_formula_tends_to_the_handbooks_iqr_over_1_35():
    n = 25
    eta = 2 * norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    mean, sd = mean_sd_from_median_iqr(5.0, 3.0, 8.0, n)
    assert mean == pytest.approx(16.0 / 3)
    assert sd == pytest.approx(5.0 / eta)
    _, sd_large = mean_sd_from_median_iqr(5.0, 3.0, 8.0, 10**7)
    assert sd_large == pytest.approx(5.0 / 1.349, rel=1e-3)


def test_wan_five_number_formula_averages_the_two_divisors():
    n = 30
    xi = 2 * norm.ppf((n - 0.375) / (n + 0.25))
    eta = 2 * norm.ppf((0.75 * n - 0.125) / (n + 0.25))
    mean, sd = mean_sd_from_quartiles_and_range(0.0, 2.0, 3.0, 5.0, 9.0, n)
    assert mean == pytest.approx((0 + 4 + 6 + 10 + 9) / 8)
    assert sd == pytest.approx(9.0 / (2 * xi) + 3.0 / (2 * eta))


def test_summaries_out_of_order_are_refused():
    with pytest.raises(AnalysisError, match="in order"):
        mean_sd_from_median_iqr(2.0, 3.0, 5.0, 20)


def _arms(**values) -> pd.DataFrame:
    base = {"study_id": "s", "domain": "pain", "measure": "VAS 0-10", "timepoint": "week 8",
            "timepoint_weeks": 8.0, "arm": ["drug", "placebo"], "role": ["treatment", "control"],
            "data_type": "continuous", "lower_is_better": True}
    return pd.DataFrame({**base, **values})


def test_effect_sizes_convert_medians_and_say_so():
    rows = _arms(n=[30, 30], median=[3.0, 5.0], iqr_low=[2.0, 4.0], iqr_high=[5.0, 7.0])
    row = effect_sizes(rows, "MD").iloc[0]
    expected_mean_diff = (2 + 3 + 5) / 3 - (4 + 5 + 7) / 3
    assert row["effect"] == pytest.approx(expected_mean_diff)
    assert "Wan 2014, approximate" in row["conversion"]


def test_effect_sizes_record_the_plain_case_too():
    rows = _arms(n=[30, 30], mean=[3.0, 5.0], sd=[2.0, 2.0])
    assert effect_sizes(rows, "MD")["conversion"].iloc[0] == "mean and SD"


def test_reported_mean_difference_with_exact_p_uses_t_on_n_minus_2_df():
    rows = pd.DataFrame({"study_id": ["p"], "domain": ["pain"], "measure": ["NRS"],
                         "timepoint": ["month 3"], "arm": ["contrast"], "role": ["contrast"],
                         "data_type": ["reported_effect"], "effect_measure": ["MD"],
                         "effect": [-3.8], "p_value": [0.008], "n": [47],
                         "lower_is_better": [True]})
    row = effect_sizes(rows, "MD").iloc[0]
    assert math.sqrt(row["variance"]) == pytest.approx(1.37, abs=5e-3)
    assert row["conversion"] == "SE from exact p = 0.008 (t, 45 df)"


def test_reported_effect_with_neither_ci_nor_p_is_skipped_with_a_reason():
    rows = pd.DataFrame({"study_id": ["q"], "domain": ["pain"], "measure": ["NRS"],
                         "timepoint": ["month 3"], "arm": ["contrast"], "role": ["contrast"],
                         "data_type": ["reported_effect"], "effect_measure": ["MD"],
                         "effect": [-1.0], "lower_is_better": [True]})
    table = effect_sizes(rows, "MD")
    assert table.empty
    assert "exact p_value" in table.attrs["skipped"][0]["reason"]
