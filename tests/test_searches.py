"""Recorded searches (``searches.csv``): their shape, their registry half, how up to date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from crps_evidence.current.searches import (
    HUMANS_ONLY,
    PUBMED_CONDITION,
    TRIALS_AND_REVIEWS,
    SearchStatus,
    check_searches,
    describe_status,
    intervention_block,
    pubmed_query,
    pubmed_url,
    search_status,
)
from crps_evidence.current.trials import INTERVENTION_TERMS, trial_query
from crps_evidence.errors import DataError
from crps_evidence.evidence.tables import load_screening, load_searches, load_treatments

from .conftest import edit


@pytest.fixture(scope="module")
def searches() -> pd.DataFrame:
    return load_searches()


def test_every_treatment_has_exactly_one_recorded_search(searches):
    assert sorted(searches["treatment_id"]) == sorted(load_treatments()["id"])
    assert check_searches(searches, load_treatments()) == []


def test_every_query_has_the_documented_shape(searches):
    for row in searches.itertuples():
        assert row.pubmed_query.startswith(PUBMED_CONDITION + " AND (")
        assert row.pubmed_query.endswith(" " + HUMANS_ONLY)
        assert (TRIALS_AND_REVIEWS in row.pubmed_query) == (
            row.pubmed_filter == "trials and reviews"), row.treatment_id
        block = intervention_block(row.pubmed_query, row.pubmed_filter)
        assert block and pubmed_query(block, row.pubmed_filter) == row.pubmed_query
        assert "CRPS[tiab]" not in row.pubmed_query  # would also find C-reactive proteins


def test_the_filter_is_used_for_the_large_literatures_only(searches):
    filtered = set(searches.loc[searches["pubmed_filter"] == "trials and reviews",
                                "treatment_id"])
    assert filtered == {"ketamine", "physical-therapy", "sympathetic-block", "scs",
                        "bisphosphonates", "corticosteroids", "vitamin-c"}
    notes = searches.set_index("treatment_id")["note"]
    assert all("Trials-and-reviews filter" in notes[t] for t in filtered)


def test_registry_queries_are_the_ones_the_trials_command_sends(searches):
    for row in searches.itertuples():
        query = trial_query(row.treatment_id)
        assert (row.ctgov_condition, row.ctgov_intervention) == (
            query["query.cond"], query["query.intr"])
    assert set(INTERVENTION_TERMS) == set(searches["treatment_id"])


def test_no_run_date_is_recorded_that_has_not_happened(searches):
    today = datetime.now(UTC).date()
    runs = searches["last_run"].dropna()
    assert all(date.fromisoformat(day) <= today for day in runs)


def test_check_names_line_field_and_expectation(searches):
    broken = searches.copy()
    broken.loc[3, "pubmed_query"] = "ketamine AND crps"
    broken.loc[5, "ctgov_intervention"] = '"lidocaine"'
    broken.loc[6, "pubmed_filter"] = "trials and reviews"  # the query has no filter block
    problems = check_searches(broken.drop(index=0), load_treatments())
    assert problems[0] == ("searches.csv: no row for treatment 'ivig': every treatment needs a "
                           "recorded search")
    assert any(p.startswith("searches.csv, line 5, treatment 'ketamine': field "
                            "'pubmed_query'") for p in problems)
    assert any("line 7, treatment 'lidocaine': field 'ctgov_intervention': value "
               "'\"lidocaine\"': expected '\"lidocaine\" OR \"lignocaine\"'" in p
               for p in problems)
    assert any("line 8, treatment 'magnesium': field 'pubmed_query'" in p
               and "AND TRIALS_AND_REVIEWS" in p for p in problems)
    assert len(problems) == 4


@pytest.mark.parametrize("block", ["ketamine[tiab]", "(a) OR (b)", '("unclosed[tiab])',
                                   "((a)"])
def test_a_block_must_be_one_group(block):
    with pytest.raises(ValueError, match="one group in parentheses"):
        pubmed_query(block)


def test_unknown_filter():
    with pytest.raises(ValueError, match="pubmed_filter 'rcts'"):
        pubmed_query("(a[tiab])", "rcts")


def test_pubmed_url_runs_the_whole_query():
    url = pubmed_url(pubmed_query("(ketamine[tiab])"))
    assert url.startswith("https://pubmed.ncbi.nlm.nih.gov/?term=%28%22complex+regional")
    assert url.endswith("NOT+%28animals%5Bmh%5D+NOT+humans%5Bmh%5D%29")


# ----------------------------------------------------------------------------- status


def _queue(minidata: Path, *rows: str) -> None:
    path = minidata / "data" / "screening.csv"
    path.write_text(path.read_text() + "".join(r + "\n" for r in rows), encoding="utf-8")


def test_status_counts_what_waits_per_treatment(minidata: Path):
    _queue(minidata,
           "900000101,,SYNTHETIC a,Synth J,2026,Case Reports,alpha,2026-12-05,to screen,,",
           "900000103,10.5555/x.1,SYNTHETIC b,Synth J,2026,,alpha,2026-12-05,to screen,,",
           "900000104,,SYNTHETIC c,Synth J,2026,,alpha,2026-12-05,excluded,not CRPS,2026-12-06",
           "900000101,,SYNTHETIC a,Synth J,2026,Case Reports,beta,2026-12-05,included,,"
           "2026-12-06")
    status = search_status(minidata)
    assert status == {  # alpha was searched by hand (search_log.csv), beta by the update
        "alpha": SearchStatus(date(2026, 11, 30), 2, "by hand"),
        "alpha-cream": SearchStatus(None, 0),
        "beta": SearchStatus(date(2026, 11, 1), 0, "crps-evidence update"),
    }
    assert search_status(minidata / "data") == status
    assert describe_status(status["alpha"]) == ("Last searched on 30 November 2026, by hand; "
                                                "2 records wait to be screened.")
    assert describe_status(status["beta"]) == ("Last searched on 1 November 2026, with "
                                               "crps-evidence update; no records wait to be "
                                               "screened.")
    assert describe_status(status["alpha-cream"]) == "Not yet searched by this collection."


def test_the_latest_search_wins_whichever_way_it_was_run(minidata: Path):
    path = minidata / "data" / "searches.csv"
    searches = pd.read_csv(path, dtype=str, keep_default_na=False)
    searches.loc[searches["treatment_id"] == "alpha", "last_run"] = "2026-12-03"
    searches.to_csv(path, index=False)
    assert search_status(minidata)["alpha"] == SearchStatus(date(2026, 12, 3), 0,
                                                            "crps-evidence update")
    searches.loc[searches["treatment_id"] == "alpha", "last_run"] = "2026-11-02"
    searches.to_csv(path, index=False)
    assert search_status(minidata)["alpha"] == SearchStatus(date(2026, 11, 30), 0, "by hand")
    (minidata / "data" / "search_log.csv").unlink()  # a project without a search log
    assert search_status(minidata)["alpha"].how == "crps-evidence update"


def test_status_of_the_project_says_not_yet_searched():
    status = search_status()
    assert list(status) == list(load_treatments()["id"])
    waiting = load_screening()
    for treatment, state in status.items():
        assert state.waiting == int(((waiting["treatment_id"] == treatment)
                                     & (waiting["status"] == "to screen")).sum())
        if state.last_run is None:
            assert describe_status(state).startswith("Not yet searched by this collection.")


@pytest.mark.parametrize("old, new, field", [
    (",2026-11-01,", ",1 Nov 2026,", "last_run"),
    ("\nbeta,", "\ngamma,", "treatment_id"),
    (",trials and reviews,", ",rcts,", "pubmed_filter"),
])
def test_a_broken_searches_table_names_file_line_and_field(minidata: Path, old, new, field):
    path = minidata / "data" / "searches.csv"
    edit(path, old, new)
    with pytest.raises(DataError) as info:
        search_status(minidata)
    assert info.value.path.name == "searches.csv" and info.value.field == field
    assert info.value.line is not None


def test_a_queue_row_with_an_unknown_status_is_refused(minidata: Path):
    _queue(minidata, "900000101,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,maybe,,")
    with pytest.raises(DataError) as info:
        search_status(minidata)
    assert (info.value.line, info.value.field, info.value.value) == (2, "status", "maybe")


def test_the_same_record_twice_for_one_treatment_is_refused(minidata: Path):
    row = "900000101,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,to screen,,"
    _queue(minidata, row, row)
    with pytest.raises(DataError, match="primary-key"):
        search_status(minidata)
