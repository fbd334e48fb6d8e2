"""``crps_evidence.current.update``: the recorded searches run again, against a local server.

The services are emulated by :class:`tests.services.FakeServices` (the synthetic fixtures,
cut as E-utilities and ClinicalTrials.gov v2 cut them); the project is the synthetic
minidata copy with three recorded searches (alpha, alpha-cream, beta). Nothing is patched.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from crps_evidence._files import LOCK_NAME
from crps_evidence.current.clients import Clients, studies_frame
from crps_evidence.current.searches import SearchStatus, search_status
from crps_evidence.current.trials import load_trials, save_trials
from crps_evidence.current.update import (
    UpdateFailed,
    plan_lines,
    report_lines,
    report_markdown,
    run_update,
)
from crps_evidence.errors import DataError
from crps_evidence.evidence.tables import load_screening, load_search_log, load_searches

from .services import FakeServices, fixture_json

DAY = date(2026, 11, 20)
KEY = "SYNTHETIC-NCBI-KEY"  # 10 requests a second instead of 3: quicker tests


@pytest.fixture
def services(httpserver) -> FakeServices:
    return FakeServices(httpserver)


@pytest.fixture
def api(settings, services):
    with Clients(settings, api_key=KEY) as clients:
        yield clients


def files(root: Path) -> dict[str, bytes]:
    """Every file of the project's data folder, by relative path (not the empty lock file)."""
    data = root / "data"
    return {str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*"))
            if p.is_file() and p.name != LOCK_NAME}


def queue(root: Path) -> list[tuple[str, str, str, str]]:
    rows = load_screening(root / "data" / "screening.csv")
    return [(r.pmid, r.treatment_id, "" if pd.isna(r.doi) else r.doi, r.status)
            for r in rows.itertuples()]


def asked(httpserver, path: str) -> list[dict[str, str]]:
    return [dict(request.args) for request, _ in httpserver.log if request.path == path]


# ----------------------------------------------------------------------------- first run


def test_the_queue_gets_exactly_the_new_records(minidata, api, httpserver):
    result = run_update(minidata, clients=api, today=DAY, page_size=2)
    assert queue(minidata) == [
        ("900000103", "alpha", "10.5555/synthetic.0103", "to screen"),
        ("900000101", "alpha", "", "to screen"),  # a record without a DOI
        ("900000101", "beta", "", "to screen"),   # found by two searches: a row for each
        ("900000104", "beta", "10.5555/synthetic.0104", "to screen"),
    ]  # 11111111 is in references.bib by PMID, 900000102 by DOI: neither is queued
    alpha, cream, beta = result.treatments
    assert (alpha.pubmed_count, alpha.in_bibliography, alpha.already_queued) == (4, 2, 0)
    assert (beta.pubmed_count, len(beta.new_records)) == (2, 2)
    assert (cream.pubmed_count, cream.new_records) == (0, [])
    assert cream.notes == ["phrase not found: syntheticzz[tiab]"]
    row = load_screening(minidata / "data" / "screening.csv").iloc[0]
    assert row["title"].startswith("SYNTHETIC record: a randomised trial of alpha")
    assert row["publication_types"] == "Journal Article; Randomized Controlled Trial"
    assert (row["journal"], row["year"], row["found"]) == (
        "Synthetic journal of pain research", 2026, "2026-11-20")


def test_pubmed_is_asked_from_each_last_run_page_by_page(minidata, api, httpserver):
    run_update(minidata, clients=api, today=DAY, page_size=2)
    searches = asked(httpserver, "/eutils/esearch.fcgi")
    alpha = [a for a in searches if '"SYNTHETIC alpha"[tiab]' in a["term"]]
    assert [(a["retstart"], a["retmax"]) for a in alpha] == [("0", "2"), ("2", "2")]
    assert {(a["mindate"], a["maxdate"], a["datetype"]) for a in alpha} == {
        ("1800/01/01", "2026/11/20", "edat")}  # never run: everything up to today
    beta = [a for a in searches if '"SYNTHETIC beta"[tiab]' in a["term"]]
    assert [(a["mindate"], a["maxdate"]) for a in beta] == [("2026/11/01", "2026/11/20")]
    assert all(a["api_key"] == KEY for a in searches)
    summaries = [a["id"] for a in asked(httpserver, "/eutils/esummary.fcgi")]
    # beta's 900000101 was already summarised for alpha: only 900000104 is asked for
    assert summaries == ["900000103,900000102,900000101", "900000104"]


def test_dates_are_set_for_every_treatment_that_completed(minidata, api):
    run_update(minidata, clients=api, today=DAY)
    runs = load_searches(minidata / "data" / "searches.csv").set_index("treatment_id")
    assert dict(runs["last_run"]) == {"alpha": "2026-11-20", "alpha-cream": "2026-11-20",
                                      "beta": "2026-11-20"}


def test_only_the_treatments_asked_for_are_searched_and_dated(minidata, api, services,
                                                              httpserver):
    before = (minidata / "data" / "searches.csv").read_text().splitlines()
    run_update(minidata, ["beta"], clients=api, today=DAY)
    after = (minidata / "data" / "searches.csv").read_text().splitlines()
    assert after[:3] == before[:3]  # header, alpha and alpha-cream untouched
    assert after[3] == before[3].replace(",2026-11-01,", ",2026-11-20,")
    assert set(services.asked) == {"esearch beta", "ctgov beta"}
    assert [t for _, t, _, _ in queue(minidata)] == ["beta", "beta"]


def test_first_snapshot_is_written_with_every_page(minidata, api, httpserver):
    result = run_update(minidata, clients=api, today=DAY)
    snapshot = load_trials("alpha", directory=minidata / "data" / "trials")
    assert sorted(snapshot["nct_id"]) == ["NCT00000000", "NCT00000001", "NCT00000002"]
    assert snapshot.attrs["query"]["query.intr"] == '"SYNTHETIC alpha"'
    assert result.treatments[0].first_snapshot
    assert result.treatments[0].new_registrations == []  # nothing to compare with
    pages = [a.get("pageToken") for a in asked(httpserver, "/ctgov/studies")
             if a["query.intr"] == '"SYNTHETIC alpha"']
    assert pages == [None, "SYNTHETIC-TOKEN-2"]
    empty = load_trials("beta", directory=minidata / "data" / "trials")
    assert empty is not None and empty.empty  # an empty answer is recorded too


def test_each_run_is_recorded_in_the_search_log(minidata, api):
    hand = load_search_log(minidata / "data" / "search_log.csv")
    result = run_update(minidata, clients=api, today=DAY)
    log = load_search_log(minidata / "data" / "search_log.csv")
    assert log.iloc[: len(hand)].equals(hand)  # the searches by hand are kept as they were
    runs = log[log["searched_by"] == "crps-evidence update"].set_index("treatment_id")
    assert list(runs.index) == [t.treatment_id for t in result.treatments]
    for treatment in result.treatments:
        row = runs.loc[treatment.treatment_id]
        assert str(row["searched_on"])[:10] == DAY.isoformat()
        assert row["records_looked_at"] == treatment.pubmed_count
        assert row["records_included"] == 0
        assert f"{len(treatment.new_records)} new, waiting to be screened" in row["excluded"]
        assert f"{treatment.in_bibliography} already in references.bib" in row["excluded"]
    assert runs.loc["beta", "years"] == "2026-2026"  # from its last run, 2026-11-01
    assert runs.loc["alpha", "years"] == "1800-2026"  # a first search: every record
    run_update(minidata, clients=api, today=DAY)  # the same day again replaces its rows
    again = load_search_log(minidata / "data" / "search_log.csv")
    assert len(again) == len(log)
    assert search_status(minidata)["beta"] == SearchStatus(DAY, 2, "crps-evidence update")


# ----------------------------------------------------------------------------- second run


def test_a_second_run_adds_nothing(minidata, api):
    run_update(minidata, clients=api, today=DAY)
    first = (minidata / "data" / "screening.csv").read_bytes()
    result = run_update(minidata, clients=api, today=date(2026, 11, 21))
    assert (minidata / "data" / "screening.csv").read_bytes() == first
    alpha, cream, beta = result.treatments
    assert alpha.since == cream.since == beta.since == DAY
    assert (len(alpha.new_records), alpha.already_queued, alpha.in_bibliography) == (0, 2, 2)
    assert (len(beta.new_records), beta.already_queued) == (0, 2)
    assert not alpha.first_snapshot
    assert (alpha.new_registrations, alpha.status_changes, alpha.gone) == ([], [], [])
    assert report_lines(result)[-1] == ("3 treatments searched: 0 new records to screen, "
                                        "0 new registrations, 0 status changes")


def test_decisions_survive_the_next_run(minidata, api):
    from crps_evidence.current.screening import mark

    run_update(minidata, clients=api, today=DAY)
    mark(minidata / "data" / "screening.csv", "900000104", "excluded", reason="not CRPS",
         today=DAY)
    run_update(minidata, clients=api, today=date(2026, 11, 21))
    rows = load_screening(minidata / "data" / "screening.csv").set_index(["pmid",
                                                                          "treatment_id"])
    assert rows.loc[("900000104", "beta"), "status"] == "excluded"
    assert len(rows) == 4


def test_registrations_are_compared_with_the_snapshot(minidata, api):
    frame = studies_frame(fixture_json("ctgov_page1.json")["studies"])
    frame.loc[frame["nct_id"] == "NCT00000000", "status"] = "RECRUITING"
    extra = frame.iloc[[0]].assign(nct_id="NCT00000009", title="SYNTHETIC withdrawn trial")
    save_trials("alpha", pd.concat([frame, extra], ignore_index=True), query={},
                fetched="2026-10-01T00:00:00Z", directory=minidata / "data" / "trials")
    result = run_update(minidata, ["alpha"], clients=api, today=DAY)
    alpha = result.treatments[0]
    assert [(r.nct_id, r.status) for r in alpha.new_registrations] == [
        ("NCT00000002", "UNKNOWN")]
    assert [(r.nct_id, r.before, r.status) for r in alpha.status_changes] == [
        ("NCT00000000", "RECRUITING", "COMPLETED")]
    assert [r.nct_id for r in alpha.gone] == ["NCT00000009"]
    lines = report_lines(result)
    assert "  ClinicalTrials.gov: 3 registrations; 1 new, 1 status change, 1 no longer found" \
        in lines
    assert any(line.startswith("    status: NCT00000000 RECRUITING -> COMPLETED SYNTHETIC")
               for line in lines)
    snapshot = load_trials("alpha", directory=minidata / "data" / "trials")
    assert snapshot.attrs["fetched"] > "2026-10-01"
    assert "NCT00000009" not in set(snapshot["nct_id"])


def test_the_registry_changing_between_runs_is_reported(minidata, api, services):
    run_update(minidata, ["alpha"], clients=api, today=DAY)
    services.pages["alpha"] = ["ctgov_later.json"]  # one page: a new trial, B recruiting, C gone
    result = run_update(minidata, ["alpha"], clients=api, today=date(2026, 12, 1))
    alpha = result.treatments[0]
    assert [(r.nct_id, r.status) for r in alpha.new_registrations] == [
        ("NCT00000003", "NOT_YET_RECRUITING")]
    assert [(r.nct_id, r.before, r.status) for r in alpha.status_changes] == [
        ("NCT00000001", "NOT_YET_RECRUITING", "RECRUITING")]
    assert [(r.nct_id, r.status) for r in alpha.gone] == [("NCT00000002", "UNKNOWN")]
    snapshot = load_trials("alpha", directory=minidata / "data" / "trials")
    assert sorted(snapshot["nct_id"]) == ["NCT00000000", "NCT00000001", "NCT00000003"]


# ----------------------------------------------------------------------------- faults


def test_a_429_with_retry_after_is_waited_for(minidata, api, services, httpserver):
    services.rate_limited.add("beta")
    start = time.monotonic()
    result = run_update(minidata, clients=api, today=DAY)
    assert time.monotonic() - start >= 0.9, "did not wait for Retry-After"
    statuses = [response.status_code for request, response in httpserver.log
                if request.path == "/eutils/esearch.fcgi" and "beta" in request.args["term"]]
    assert statuses == [429, 200]
    assert len(result.treatments[2].new_records) == 2


def test_a_failure_half_way_writes_nothing(minidata, api, services, tmp_path):
    services.broken.add("alpha-cream")
    before = files(minidata)
    report = tmp_path / "report.md"
    with pytest.raises(UpdateFailed) as info:
        run_update(minidata, clients=api, today=DAY, report=report)
    failure = info.value
    assert [t.treatment_id for t in failure.done] == ["alpha"]
    assert (failure.failed, failure.not_run, failure.interrupted) == ("alpha-cream", ["beta"],
                                                                      False)
    message = str(failure)
    assert message.startswith("update stopped while searching 'alpha-cream' "
                              "(ClinicalTrials.gov: server error HTTP 503 from ")
    assert "try again later); nothing written." in message
    assert "Done (not saved): alpha. Not reached: beta." in message
    assert files(minidata) == before
    assert not report.exists()
    assert len(failure.done[0].new_records) == 2  # found, listed, not saved
    assert services.asked["esearch beta"] == 0


def test_a_file_edited_during_the_run_is_not_overwritten(minidata, api, services):
    """Someone screens in another terminal while the update runs: their edit wins."""
    path = minidata / "data" / "screening.csv"
    edited = path.read_text() + ("900000999,,SYNTHETIC,Synth J,2026,,beta,2026-11-19,"
                                 "excluded,not CRPS,2026-11-19\n")
    services.while_asked["beta"] = lambda: path.write_text(edited)
    searches_before = (minidata / "data" / "searches.csv").read_bytes()
    with pytest.raises(OSError, match=r"screening\.csv changed while this command ran"):
        run_update(minidata, clients=api, today=DAY)
    assert path.read_text() == edited
    assert (minidata / "data" / "searches.csv").read_bytes() == searches_before
    assert not (minidata / "data" / "trials" / "alpha.json").exists()


def test_an_unknown_treatment_asks_nothing(minidata, api, httpserver):
    with pytest.raises(ValueError, match=r"no recorded search for 'gamma'; searches\.csv has: "
                                          "alpha, alpha-cream, beta"):
        run_update(minidata, ["gamma"], clients=api, today=DAY)
    assert httpserver.log == []


def test_a_broken_snapshot_stops_before_any_request(minidata, api, httpserver):
    folder = minidata / "data" / "trials"
    folder.mkdir()
    (folder / "beta.json").write_text("{not json", encoding="utf-8")
    before = files(minidata)
    with pytest.raises(DataError, match=r"beta\.json, line 1: not valid JSON"):
        run_update(minidata, clients=api, today=DAY)
    assert httpserver.log == []
    assert files(minidata) == before


def test_a_last_run_after_today_stops_before_any_request(minidata, api, httpserver):
    with pytest.raises(DataError) as info:
        run_update(minidata, clients=api, today=date(2026, 10, 1))
    assert (info.value.path.name, info.value.line, info.value.field, info.value.value) == (
        "searches.csv", 4, "last_run", "2026-11-01")
    assert httpserver.log == []


# ----------------------------------------------------------------------------- reports


def test_markdown_report_is_written_with_the_data(minidata, api, tmp_path):
    report = tmp_path / "update.md"
    result = run_update(minidata, clients=api, today=DAY, report=report)
    text = report.read_text(encoding="utf-8")
    assert text == report_markdown(result)
    assert report in result.written
    assert text.startswith("# Search update of 2026-11-20\n\n3 treatments searched: 4 new "
                           "records to screen")
    assert "| alpha | up to 2026-11-20 | 4 | 2 | 3 | first snapshot | - |" in text
    assert "| beta | 2026-11-01 to 2026-11-20 | 2 | 2 | 0 | first snapshot | - |" in text
    assert ("  - [PMID 900000101](https://pubmed.ncbi.nlm.nih.gov/900000101/) SYNTHETIC "
            "record without a DOI: alpha for CRPS, a case report. (Synth Case Rep, 2026, "
            "Case Reports; Journal Article)") in text
    assert "- PubMed remark: phrase not found: syntheticzz\\[tiab\\]" in text


def test_dry_run_plan_names_range_and_queries(minidata):
    lines = plan_lines(minidata, today=DAY)
    assert lines[0] == "alpha: never run; PubMed every record up to 2026-11-20"
    assert lines[10] == ("beta: last run 2026-11-01; PubMed records entered 2026-11-01 to "
                         "2026-11-20")
    assert lines[13] == '  ClinicalTrials.gov query.intr: "SYNTHETIC beta"'
    assert lines[14].startswith("  open in PubMed (no date limit): "
                                "https://pubmed.ncbi.nlm.nih.gov/?term=%28%22complex")


def test_ctrl_c_half_way_writes_nothing(minidata, api, services):
    """A real SIGINT, sent while the update waits for alpha-cream's registry answer."""
    services.while_asked["alpha-cream"] = lambda: os.kill(os.getpid(), signal.SIGINT)
    before = files(minidata)
    with pytest.raises(UpdateFailed) as info:
        run_update(minidata, clients=api, today=DAY)
    assert info.value.interrupted
    assert [t.treatment_id for t in info.value.done] == ["alpha"]
    assert (info.value.failed, info.value.not_run) == ("alpha-cream", ["beta"])
    assert str(info.value).startswith("update interrupted while searching 'alpha-cream'; "
                                      "nothing written. Done (not saved): alpha.")
    assert files(minidata) == before
