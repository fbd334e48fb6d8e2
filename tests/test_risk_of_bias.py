"""risk_of_bias.csv and search_log.csv: complete, well-formed, and each judgement its own."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from crps_evidence import check_integrity, load_all, load_risk_of_bias, load_search_log
from crps_evidence.evidence.integrity import check_search_log
from crps_evidence.evidence.risk_of_bias import (
    DOMAINS,
    RANDOMISED,
    check_risk_of_bias,
    rob2_overall,
)


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def write(path: Path, table: list[dict[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    path.write_text(out.getvalue(), encoding="utf-8")


def problems_after(minidata: Path, change) -> list[str]:
    path = minidata / "data" / "risk_of_bias.csv"
    table = rows(path)
    change(table)
    write(path, table)
    evidence = load_all(minidata / "data", minidata / "references.bib")
    return check_risk_of_bias(evidence.studies, evidence.risk_of_bias, evidence.references)


def test_every_randomised_trial_of_the_collection_has_every_domain():
    evidence = load_all()
    trials = set(evidence.studies.loc[evidence.studies["design"].isin(RANDOMISED), "id"])
    table = evidence.risk_of_bias
    assert set(table["study_id"]) == trials
    for trial, group in table.groupby("study_id"):
        (tool,) = set(group["tool"])
        assert sorted(group["domain"]) == sorted(DOMAINS[tool]), trial
    assert check_risk_of_bias(evidence.studies, table, evidence.references) == []


def test_no_support_text_is_shared_between_trials():
    table = load_risk_of_bias()
    owners = table.groupby(table["support"].str.lower().str.split().str.join(" "))["study_id"]
    shared = {text[:60]: sorted(set(ids)) for text, ids in owners if len(set(ids)) > 1}
    assert not shared




def test_fixture_passes(minidata):
    assert problems_after(minidata, lambda t: None) == []


def test_a_trial_without_rows_is_reported(minidata):
    def drop(table):
        table[:] = [r for r in table if r["study_id"] != "jones2005alpha"]
    (problem,) = problems_after(minidata, drop)
    assert "'jones2005alpha'" in problem and "no risk-of-bias rows" in problem


def test_a_missing_domain_is_named(minidata):
    def drop(table):
        table[:] = [r for r in table if not (r["study_id"] == "smith2001alpha"
                                             and r["domain"] == "missing outcome data")]
    (problem,) = problems_after(minidata, drop)
    assert "smith2001alpha" in problem and "missing outcome data" in problem


def test_a_judgement_of_the_other_tool_is_refused(minidata):
    def unclear(table):
        table[0]["judgement"] = "unclear"
    (problem,) = problems_after(minidata, unclear)
    assert problem.startswith("risk_of_bias.csv, line 2, study 'smith2001alpha': "
                              "field 'judgement': 'unclear'")


def test_an_overall_that_does_not_follow_is_reported(minidata):
    def low(table):
        for r in table:
            if r["study_id"] == "jones2005alpha" and r["domain"] == "overall":
                r["judgement"] = "low"
    (problem,) = problems_after(minidata, low)
    assert "'jones2005alpha'" in problem and "RoB 2 gives 'high'" in problem


def test_a_shared_support_is_reported(minidata):
    def share(table):
        table[6]["support"] = table[0]["support"]  # jones's first row takes smith's text
    (problem,) = problems_after(minidata, share)
    assert "jones2005alpha, smith2001alpha" in problem


def test_rows_for_a_case_series_are_refused(minidata):
    def series(table):
        table.append({**table[0], "study_id": "lee2010beta", "support": "made-up, for lee"})
    (problem,) = problems_after(minidata, series)
    assert "'lee2010beta'" in problem and "'case series' is not a randomised trial" in problem


def test_an_unknown_judge_is_reported(minidata):
    def judge(table):
        table[0]["judged_by"] = "nobody2020review"
    found = problems_after(minidata, judge)
    assert any("'nobody2020review' is neither 'this collection' nor a key" in p for p in found)


@pytest.mark.parametrize(("domains", "overall"), [
    (["low"] * 5, "low"),
    (["low"] * 4 + ["no information"], "some concerns"),
    (["some concerns", "high", "low", "low", "low"], "high"),
    (["no information"] * 5, "no information"),
])
def test_rob2_overall(domains, overall):
    assert rob2_overall(domains) == overall


def test_search_log_counts_and_keys(minidata):
    evidence = load_all(minidata / "data", minidata / "references.bib")
    log = load_search_log(minidata / "data" / "search_log.csv")
    assert check_search_log(log, evidence.references) == []
    log.loc[0, "records_included"] = 1
    log.loc[0, "included"] = "ghost2020missing"
    found = check_search_log(log, evidence.references)
    assert any("'ghost2020missing' is not in references.bib" in p for p in found)
    log.loc[0, "records_included"] = 2
    found = check_search_log(log, evidence.references)
    assert any("field 'records_included': 2 but 'included' names 1" in p for p in found)


def test_the_collections_search_log_is_consistent():
    log = load_search_log()
    assert set(log["searched_by"]) <= {"by hand", "crps-evidence update"}
    assert check_integrity() == []
