"""The summary of findings, its rules, the risk-of-bias rule and the statistics it leans on.

Synthetic rows (tests/fixtures/minidata) and hand arithmetic; one test reads the real data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

from crps_evidence import load_all
from crps_evidence.stats import conversions, grade
from crps_evidence.stats.certainty import assess, check_certainty, headline_rating
from crps_evidence.stats.findings import (
    basis_words,
    findings_table,
    plain_effect,
    statement,
    summary_of_findings,
)
from crps_evidence.stats.synthesis import effect_sizes

from .conftest import ROOT, edit

OURS_ALPHA = ("alpha,versus placebo,placebo or sham,pain,pain at 12 weeks,very low,this "
              "collection,false,smith2001alpha jones2005alpha")


def _load(root: Path):
    return load_all(root / "data", bib=root / "references.bib")


def _finding(evidence, treatment: str, domain: str = "pain"):
    [row] = [f for f in summary_of_findings(evidence)
             if f.treatment_id == treatment and f.domain == domain]
    return row


# ----------------------------------------------------------------------- the statement rule


@pytest.mark.parametrize(("certainty", "effect", "expected"), [
    ("high", "reduces", "X reduces pain."),
    ("moderate", "reduces", "X probably reduces pain."),
    ("low", "reduces", "X may reduce pain."),
    ("low", "increases", "X may increase pain."),
    ("very low", "reduces", "The evidence is very uncertain about the effect of X on pain."),
    ("high", "little or no difference", "X results in little or no difference in pain."),
    ("moderate", "little or no difference", "X probably makes little or no difference to pain."),
    ("low", "little or no difference", "X may make little or no difference to pain."),
    ("very low", "little or no difference",
     "The evidence is very uncertain about the effect of X on pain."),
])
def test_the_statement_follows_certainty_and_effect(certainty, effect, expected):
    assert statement(certainty, "X", "pain", effect=effect) == expected


def test_a_rating_without_a_size_says_so():
    said = statement("low", "X", "pain", effect=None)
    assert "could not be read" in said and "low" in said


# ------------------------------------------------------------------ findings on the fixture


def test_a_single_trial_gives_a_mean_difference_in_points(minidata: Path):
    edit(minidata / "data" / "certainty.csv", OURS_ALPHA,
         OURS_ALPHA.replace("smith2001alpha jones2005alpha", "smith2001alpha"))
    row = _finding(_load(minidata), "alpha")
    half = 1.959963984540054 * math.sqrt(2.0**2 / 20 + 2.0**2 / 20)
    assert (row.measure, row.studies, row.participants) == ("MD", 1, 40)
    assert row.estimate == pytest.approx(4.0 - 5.0)
    assert (row.ci_low, row.ci_high) == (pytest.approx(-1 - half), pytest.approx(-1 + half))
    assert row.absolute_text.startswith("-1.0 points out of 10")
    # the published rating (2020) is newer than both trials, so it leads; ours is beside it
    assert (row.certainty, row.certainty_by) == ("low", "zed2020review")
    assert row.other_rating == "very low (ours)"
    # |MD| = 1 point reaches our band (a tenth of a 0-10 scale): an effect, not "no difference"
    assert row.statement == "Alpha infusion may reduce pain versus placebo."
    assert row.scope == ("alpha",)
    # the interval (-1 ± 1.24) includes no difference, and the sentence says so
    assert plain_effect(row) == ("Pain was on average 1 point lower out of 10 with it than "
                                 "in the comparison group. But the likely range includes no "
                                 "difference.")


def test_a_size_from_some_of_the_studies_is_not_shown_to_readers(minidata: Path):
    row = _finding(_load(minidata), "alpha")  # Smith and Jones, on different scales
    assert not row.has_size
    assert plain_effect(row) == "The studies give no figures that show how big the effect is."
    one_of_two = dataclasses.replace(row, estimate=-1.0, measure="MD", scale="0-10",
                                     effect_covers=1)
    assert plain_effect(one_of_two) == ("Only 1 of the 2 studies gives figures we can use. "
                                        "So we give no overall size.")


def test_two_trials_on_different_scales_are_not_pooled_and_say_so(minidata: Path):
    row = _finding(_load(minidata), "alpha")
    assert not row.has_size
    assert "not pooled" in row.effect_text
    assert "Smith" in row.effect_text and "Jones" in row.effect_text
    assert "could not be read" in row.statement


def test_an_uncontrolled_study_has_no_size_and_the_reason_in_words(minidata: Path):
    row = _finding(_load(minidata), "beta")
    assert not row.has_size
    assert "no study has a control group" in row.effect_text
    assert row.statement.startswith("The evidence is very uncertain")
    assert row.size_unknown == 0 and row.participants == 25


def test_a_treatment_without_studies_has_no_row(minidata: Path):
    rows = summary_of_findings(_load(minidata))
    assert "alpha-cream" not in {r.treatment_id for r in rows}
    assert list(findings_table(rows)["treatment_id"]) == [r.treatment_id for r in rows]


def test_binary_absolute_effect_from_the_control_arms(minidata: Path):
    data = minidata / "data"
    with (data / "outcomes.csv").open("a", encoding="utf-8") as out:
        for arm, role, events in (("alpha", "treatment", 12), ("placebo", "control", 6)):
            out.write(f"smith2001alpha,responders,30% relief,week 12,12,{arm},{role},"
                      f"dichotomous,20,,,,,,,,,{events},,,,,,false,"
                      "https://example.org/synthetic/1,abstract,\n")
    edit(data / "certainty.csv", OURS_ALPHA,
         "alpha,versus placebo,placebo or sham,responders,pain at 12 weeks,moderate,"
         "this collection,false,smith2001alpha")
    row = _finding(_load(minidata), "alpha", "responders")
    se = math.sqrt(1 / 12 - 1 / 20 + 1 / 6 - 1 / 20)
    rr_low, rr_high = (math.exp(math.log(2) + s * 1.959963984540054 * se) for s in (-1, 1))
    assert row.measure == "RR" and row.estimate == pytest.approx(2.0)
    assert (row.ci_low, row.ci_high) == (pytest.approx(rr_low), pytest.approx(rr_high))
    assert row.control_per_100 == pytest.approx(30.0)
    assert row.treatment_per_100 == pytest.approx(60.0)
    assert row.difference_per_100 == pytest.approx(30.0)
    assert row.difference_ci == (pytest.approx(30 * (rr_low - 1)),
                                 pytest.approx(30 * (rr_high - 1)))
    # no published rating of responders: ours leads; RR 2 lies beyond our band of 1.25
    assert row.certainty_by == "this collection"
    assert row.statement == ("Alpha infusion probably increases how many people get good "
                             "pain relief versus placebo.")
    # for readers: the same risks in whole numbers per 100, and what the row rests on
    said = plain_effect(row)
    assert said.startswith("About 30 in 100 people had good pain relief without it, and "
                           "about 60 in 100 with it"), said
    assert ("likely range includes no difference" in said) == (rr_low < 1 < rr_high)
    assert (row.studies, basis_words(row)) == (1, "It rests on 1 study with 40 people.")


def test_an_effect_inside_our_band_is_little_or_no_difference(minidata: Path):
    data = minidata / "data"
    edit(data / "outcomes.csv", "placebo,control,continuous,20,5.0,2.0",
         "placebo,control,continuous,20,4.5,2.0")
    edit(data / "certainty.csv", OURS_ALPHA,
         OURS_ALPHA.replace("smith2001alpha jones2005alpha", "smith2001alpha"))
    row = _finding(_load(minidata), "alpha")
    assert row.estimate == pytest.approx(-0.5)  # half a point out of 10: inside our band
    assert row.statement == ("Alpha infusion may make little or no difference to pain "
                             "versus placebo.")


# --------------------------------------------------------------------- the headline rule


def test_a_published_rating_older_than_a_trial_does_not_lead(minidata: Path):
    edit(minidata / "references.bib", "year = {2020}", "year = {2004}")  # before jones 2005
    rating = headline_rating(_load(minidata), "alpha")
    assert (rating["certainty"], rating["rated_by"]) == ("very low", "this collection")
    assert rating["other"].startswith("low (")  # kept beside ours, with why
    assert "older than a study" in rating["why_differ"]
    problems = check_certainty(_load(minidata))
    assert any("field 'main'" in p for p in problems)


def test_a_published_rating_with_a_cannot_lead_reason_never_leads(minidata: Path):
    path = minidata / "data" / "certainty.csv"
    assert headline_rating(_load(minidata), "alpha")["rated_by"] == "zed2020review"
    edit(path, "Synthetic published rating.,", "Synthetic published rating.,read only in a "
         "translation")
    rating = headline_rating(_load(minidata), "alpha")
    assert rating["rated_by"] == "this collection"
    assert rating["why_differ"] == "the published rating cannot lead: read only in a translation"


def test_our_own_rating_cannot_carry_a_cannot_lead_reason(minidata: Path):
    path = minidata / "data" / "certainty.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    ours = next(i for i, line in enumerate(lines) if ",this collection," in line)
    assert lines[ours].rstrip("\r\n").endswith(",")  # the last field, cannot_lead, is empty
    lines[ours] = lines[ours].rstrip("\r\n") + "because\n"
    path.write_text("".join(lines), encoding="utf-8")
    problems = check_certainty(_load(minidata))
    assert any(f"line {ours + 1}: field 'cannot_lead'" in p for p in problems), problems


# --------------------------------------------------------------------- the risk-of-bias rule


def test_risk_of_bias_follows_the_weighted_rule_and_names_trials_and_domains(minidata: Path):
    evidence = _load(minidata)
    row = evidence.certainty.iloc[1]
    judged = assess(evidence, row)["risk_of_bias"]
    # Smith (40, some concerns) and Jones (12, high): 52 of 52 not low, 12 of 52 high
    assert judged.judgement == "serious"
    assert "52 of 52 participants" in judged.reason and "12 of them" in judged.reason
    assert "Smith" in judged.reason and "Jones" in judged.reason
    assert "measurement of the outcome" in judged.reason


def test_a_risk_of_bias_against_the_rule_is_reported_unless_it_says_why(minidata: Path):
    data = minidata / "data"
    edit(data / "risk_of_bias.csv", "made-up support for overall.,this collection,,abstract\n"
         "jones2005alpha", "made-up support for overall.,this collection,,abstract\njones2005alpha")
    text = (data / "risk_of_bias.csv").read_text(encoding="utf-8")
    text = text.replace("smith2001alpha,RoB 2,measurement of the outcome,some concerns",
                        "smith2001alpha,RoB 2,measurement of the outcome,high")
    text = text.replace("smith2001alpha,RoB 2,overall,some concerns",
                        "smith2001alpha,RoB 2,overall,high")
    (data / "risk_of_bias.csv").write_text(text, encoding="utf-8")
    [problem] = check_certainty(_load(minidata))
    assert "field 'risk_of_bias'" in problem and "'very serious'" in problem
    edit(data / "certainty.csv", "serious,synthetic: unblinded",
         "serious,synthetic: departs from the rule because the assessor was blinded")
    assert check_certainty(_load(minidata)) == []


def test_rule_on_participants_not_on_trial_counts():
    small_high = grade.TrialRisk("A 2001", 10, "high")
    big_low = grade.TrialRisk("B 2002", 200, "low")
    assert grade.risk_of_bias([small_high, big_low]).judgement == "no concern"
    assert grade.risk_of_bias([grade.TrialRisk("A 2001", None, "high"),
                               grade.TrialRisk("B 2002", None, "low"),
                               grade.TrialRisk("C 2003", None, "high")]).judgement == \
        "very serious"  # no size known: each trial counts once, 2 of 3 high


def test_a_shared_reason_across_different_studies_is_reported(minidata: Path):
    edit(minidata / "data" / "certainty.csv", "synthetic: lee2010beta adults with CRPS",
         "synthetic: nothing found")
    problems = check_certainty(_load(minidata))
    assert any("indirectness_reason" in p and "different studies" in p for p in problems)


def test_our_real_ratings_share_no_reason_across_different_studies():
    from crps_evidence.stats.certainty import shared_reasons

    assert shared_reasons(load_all().certainty) == []


# ----------------------------------------------------------------------------- statistics


def test_a_small_trials_reported_ci_uses_t_by_design():
    row = {"study_id": "s", "domain": "pain", "measure": "NRS", "timepoint": "w1",
           "timepoint_weeks": 1.0, "arm": "contrast", "role": "contrast",
           "data_type": "reported_effect", "effect_measure": "MD", "effect": -1.5,
           "ci_low": -2.5, "ci_high": -0.5, "lower_is_better": True}
    rows = pd.DataFrame([{**row, "n": 12}])
    crossover = effect_sizes(rows, "MD", designs={"s": "crossover RCT"}).iloc[0]
    parallel = effect_sizes(rows, "MD", designs={"s": "parallel RCT"}).iloc[0]
    unknown = effect_sizes(rows, "MD").iloc[0]
    assert crossover["variance"] == pytest.approx((2.0 / (2 * sps.t.ppf(0.975, 11))) ** 2)
    assert parallel["variance"] == pytest.approx((2.0 / (2 * sps.t.ppf(0.975, 10))) ** 2)
    assert unknown["variance"] == pytest.approx((2.0 / (2 * sps.norm.ppf(0.975))) ** 2)
    assert crossover["conversion"] == "SE from 95% CI (t, 11 df)"
    big = effect_sizes(pd.DataFrame([{**row, "n": 400}]), "MD",
                       designs={"s": "parallel RCT"}).iloc[0]
    assert big["variance"] == pytest.approx(unknown["variance"])  # large: the normal


def test_degrees_of_freedom_by_design_and_size():
    assert conversions.degrees_of_freedom("crossover RCT", 30) == 29
    assert conversions.degrees_of_freedom("parallel RCT", 46) == 44
    assert conversions.degrees_of_freedom("crossover RCT", 60) is None
    assert conversions.degrees_of_freedom("case series", 20) is None


def test_responder_ois_uses_a_relative_increase():
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    p0, p1 = 0.2, 0.2 * 1.25
    expected = 2 * math.ceil(z**2 * (p0 * (1 - p0) + p1 * (1 - p1)) / (p1 - p0) ** 2)
    assert grade.optimal_information_size(True, 0.2, increase=True) == expected
    assert grade.optimal_information_size(True, 0.2) != expected
    with pytest.raises(Exception, match="exceeds 100%"):
        grade.optimal_information_size(True, 0.9, increase=True)


def test_a_binary_rating_without_counts_gets_a_binary_ois_from_a_stated_risk(minidata: Path):
    edit(minidata / "data" / "certainty.csv", OURS_ALPHA,
         OURS_ALPHA.replace(",pain,pain at 12 weeks,", ",responders,pain at 12 weeks,"))
    evidence = _load(minidata)
    judged = assess(evidence, evidence.certainty.iloc[1])["imprecision"]
    expected = grade.optimal_information_size(True, grade.ASSUMED_CONTROL_RISK, increase=True)
    assert f"optimal information size of {expected}" in judged.reason
    assert "assumed control risk of 20.0%" in judged.reason
    assert expected != grade.optimal_information_size()


# ------------------------------------------------------------------------------- real data


def test_every_treatment_with_studies_has_a_finding_with_a_statement():
    evidence = load_all()
    rows = summary_of_findings(evidence)
    with_statement = {r.treatment_id for r in rows if r.statement.strip()}
    assert set(evidence.studies["treatment_id"]) <= with_statement
    for r in rows:
        assert r.has_size or r.effect_text, f"{r.treatment_id}: no size and no reason"


def test_the_command_writes_json_and_ignores_a_closed_pipe(minidata: Path):
    env = {**os.environ, "CRPS_EVIDENCE_ROOT": str(minidata), "CRPS_EVIDENCE_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-m", "crps_evidence.cli", "findings", "alpha",
                           "--format", "json"], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    assert row["treatment_id"] == "alpha" and row["statement"]
    child = subprocess.Popen([sys.executable, "-m", "crps_evidence.cli", "findings"],
                             env={**os.environ, "CRPS_EVIDENCE_ROOT": str(ROOT)},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # no reader: the first write meets a broken pipe
    _, err = child.communicate()
    assert child.returncode == 0
    assert b"Error" not in err and b"Traceback" not in err


def test_rows_are_remembered_per_loaded_object_never_across_loads(minidata: Path):
    first = _load(minidata)
    rows = summary_of_findings(first)
    assert summary_of_findings(first) == rows  # the same object: the same rows
    edit(minidata / "data" / "certainty.csv", OURS_ALPHA,
         OURS_ALPHA.replace("smith2001alpha jones2005alpha", "smith2001alpha"))
    again = summary_of_findings(_load(minidata))  # a new load after the edit
    alpha = [r for r in again if r.treatment_id == "alpha" and r.domain == "pain"]
    assert [r.studies for r in alpha] == [1]
    assert [r.studies for r in rows if r.treatment_id == "alpha" and r.domain == "pain"] == [2]
