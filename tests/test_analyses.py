"""Pooled analyses as data: the function, its JSON and the command agree with hand arithmetic."""

from __future__ import annotations

import json
import math

import pytest

from crps_evidence import load_all
from crps_evidence.cli import main
from crps_evidence.errors import AnalysisError
from crps_evidence.stats.analyses import run_all, run_analysis


@pytest.fixture(scope="module")
def evidence():
    return load_all()


def test_vitamin_c_500mg_inputs_are_the_log_risk_ratios_of_the_printed_counts(evidence):
    """Zollinger 1999: 4 of 54 vs 14 of 65; Zollinger 2007: 2 of 114 vs 10 of 99 (read)."""
    result = run_analysis(evidence, "vitamin-c-500mg")
    effects = result.effects.set_index("study_id")
    for study, (a, n1, c, n2) in {"zollinger1999effect": (4, 54, 14, 65),
                                  "zollinger2007can": (2, 114, 10, 99)}.items():
        assert effects.loc[study, "effect"] == pytest.approx(math.log((a / n1) / (c / n2)))
        assert effects.loc[study, "variance"] == pytest.approx(1 / a - 1 / n1 + 1 / c - 1 / n2)
    # Fixed effect by hand: inverse-variance weighted mean of the two log risk ratios.
    y, v = effects["effect"].to_numpy(), effects["variance"].to_numpy()
    fixed = (y / v).sum() / (1 / v).sum()
    assert result.fixed.estimate == pytest.approx(fixed)
    assert result.summary()["fixed_estimate"] == pytest.approx(math.exp(fixed))


def test_knapp_hartung_with_two_trials_is_wider_than_the_fixed_effect(evidence):
    s = run_analysis(evidence, "vitamin-c-any-dose").summary()
    assert s["k"] == 2 and s["pi_low"] is None  # no prediction interval below three trials
    assert s["ci_high"] - s["ci_low"] > s["fixed_ci_high"] - s["fixed_ci_low"]


def test_every_analysis_names_published_results_of_its_own_treatment(evidence):
    for result in run_all(evidence):
        assert set(result.published["treatment_id"]) <= {result.spec["treatment_id"]}


def test_unknown_analysis_is_refused(evidence):
    with pytest.raises(AnalysisError, match="unknown analysis"):
        run_analysis(evidence, "no-such-analysis")


def test_command_prints_every_analysis(capsys):
    assert main(["analyses"]) == 0
    out = capsys.readouterr().out
    for analysis in load_all().analyses["id"]:
        assert analysis in out


def test_command_json_carries_the_inputs_for_reanalysis(capsys):
    assert main(["analyses", "vitamin-c-500mg", "--format", "json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["id"] == "vitamin-c-500mg" and record["effect_scale"].startswith("natural log")
    studies = {s["study_id"]: s for s in record["studies"]}
    assert studies["zollinger1999effect"]["effect"] == pytest.approx(math.log((4 / 54) / (14 / 65)))
    assert {s["conversion"] for s in record["studies"]} == {"events per arm"}
    assert sum(s["weight_percent"] for s in record["studies"]) == pytest.approx(100)
    assert [p["id"] for p in record["published"]] == ["aim2017-incidence-500mg"]


def test_command_refuses_an_unknown_id(capsys):
    assert main(["analyses", "nope"]) == 2
    assert "unknown analysis nope" in capsys.readouterr().err
