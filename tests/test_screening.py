"""The screening queue: rows from E-utilities summaries, decisions, and what is left to do."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from crps_evidence import load_references, load_screening, load_studies
from crps_evidence.current.screening import (
    COLUMNS,
    check_screening,
    known_identifiers,
    mark,
    new_row,
    summary_doi,
    waiting,
)
from crps_evidence.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures" / "http"
DAY = date(2026, 12, 5)


def summaries() -> dict:
    return json.loads((FIXTURES / "esummary_new.json").read_text(encoding="utf-8"))["result"]


def queue(minidata: Path, *rows: str) -> Path:
    path = minidata / "data" / "screening.csv"
    path.write_text(path.read_text() + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = (
    "900000103,10.5555/synthetic.0103,SYNTHETIC trial,Synth J,2026,Randomized Controlled Trial,"
    "alpha,2026-12-05,to screen,,",
    "900000101,,SYNTHETIC case,Synth Case Rep,2026,Case Reports,alpha,2026-12-05,to screen,,",
    "900000101,,SYNTHETIC case,Synth Case Rep,2026,Case Reports,beta,2026-12-05,to screen,,",
)


def test_a_row_from_a_full_summary():
    row = new_row("900000103", summaries()["900000103"], "alpha", DAY)
    assert list(row) == list(COLUMNS)
    assert row == {
        "pmid": "900000103", "doi": "10.5555/synthetic.0103",
        "title": "SYNTHETIC record: a randomised trial of alpha in complex regional pain "
                 "syndrome.",
        "journal": "Synthetic journal of pain research", "year": "2026",
        "publication_types": "Journal Article; Randomized Controlled Trial",
        "treatment_id": "alpha", "found": "2026-12-05", "status": "to screen",
        "reason": "", "screened": "",
    }


def test_a_record_without_doi_or_journal_name_keeps_what_it_has():
    row = new_row("900000101", summaries()["900000101"], "beta", DAY)
    assert row["doi"] == ""
    assert row["title"] == "SYNTHETIC record without a DOI: alpha for CRPS, a case report."
    assert row["journal"] == "Synth Case Rep"  # no full name: the abbreviation
    assert row["year"] == "2026"


def test_a_record_without_summary_keeps_its_pmid():
    row = new_row("900000199", None, "alpha", DAY)
    assert row["pmid"] == "900000199" and row["title"] == "" and row["status"] == "to screen"


def test_a_malformed_doi_is_not_kept():
    assert summary_doi({"articleids": [{"idtype": "doi", "value": "not a doi"}]}) == ""


def test_known_identifiers_of_the_bibliography(minidata: Path):
    pmids, dois = known_identifiers(load_references(minidata / "references.bib"))
    assert pmids == {"11111111", "22222222"}
    assert dois == {"10.5555/synthetic.1", "10.5555/synthetic.2", "10.5555/synthetic.3"}


def test_include_and_exclude_change_one_line_only(minidata: Path):
    path = queue(minidata, *ROWS)
    before = path.read_text().splitlines()
    decision = mark(path, "900000103", "included", today=DAY)
    assert (decision.before, decision.after, decision.line) == ("to screen", "included", 2)
    decision = mark(path, "900000101", "excluded", reason="  case report,\n not a trial ",
                    treatment_id="beta", today=DAY)
    assert decision.line == 4
    after = path.read_text().splitlines()
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1].endswith(",included,,2026-12-05")
    assert after[3].endswith(',excluded,"case report, not a trial",2026-12-05')
    queue_now = load_screening(path)
    assert list(waiting(queue_now)["pmid"]) == ["900000101"]
    assert list(waiting(queue_now, "beta")["pmid"]) == []


def test_undoing_a_decision_clears_it(minidata: Path):
    path = queue(minidata, *ROWS)
    original = path.read_text()
    mark(path, "900000103", "excluded", reason="not CRPS", today=DAY)
    mark(path, "900000103", "to screen")
    assert path.read_text() == original


@pytest.mark.parametrize("args, kwargs, message", [
    (("900000101", "included"), {}, r"in the queue for alpha, beta; say which with --treatment"),
    (("900000103", "excluded"), {}, "an exclusion needs a reason"),
    (("900000103", "excluded"), {"reason": "   "}, "an exclusion needs a reason"),
    (("900000999", "included"), {}, "PMID 900000999 is not in the queue"),
    (("900000103", "included"), {"treatment_id": "beta"},
     "not in the queue for treatment 'beta'; it is there for alpha"),
    (("900000103", "maybe"), {}, "status 'maybe'"),
])
def test_refused_decisions_write_nothing(minidata: Path, args, kwargs, message):
    path = queue(minidata, *ROWS)
    original = path.read_bytes()
    with pytest.raises(ValueError, match=message):
        mark(path, *args, **kwargs)
    assert path.read_bytes() == original


def test_a_broken_queue_is_reported_not_edited(minidata: Path):
    path = queue(minidata, ROWS[0].replace(",to screen,", ",to scren,"))
    original = path.read_bytes()
    with pytest.raises(DataError) as info:
        mark(path, "900000103", "included")
    assert (info.value.line, info.value.field, info.value.value) == (2, "status", "to scren")
    assert path.read_bytes() == original


def test_check_reports_included_records_without_a_study_row(minidata: Path):
    path = queue(
        minidata,
        # not in references.bib: add the reference, then the study row
        "900000103,10.5555/synthetic.0103,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,included,,"
        "2026-12-06",
        # in references.bib by DOI (zed2020review) but no study row cites it
        "900000105,10.5555/synthetic.3,SYNTHETIC,Synth J,2020,,beta,2026-12-05,included,,"
        "2026-12-06",
        # in references.bib by PMID (lee2010beta) and cited by a beta study row: done
        "22222222,,SYNTHETIC,Synth J,2010,,beta,2026-12-05,included,,2026-12-06",
        # the same entry included for alpha, where no study row cites it
        "22222222,,SYNTHETIC,Synth J,2010,,alpha,2026-12-05,included,,2026-12-06",
        # no DOI and not in references.bib
        "900000101,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,included,,2026-12-06",
        # waiting or excluded with a reason: nothing to do
        "900000104,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,to screen,,",
        "900000106,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,excluded,animal study,2026-12-06",
    )
    problems = check_screening(load_screening(path), load_references(minidata / "references.bib"),
                               load_studies(minidata / "data" / "studies.csv"))
    assert problems == [
        "screening.csv, line 2, PMID 900000103 (alpha): included but not in references.bib and "
        "no study row yet: add `crps-evidence add-reference 10.5555/synthetic.0103 --pmid`, "
        "then a studies.csv row for 'alpha'",
        "screening.csv, line 3, PMID 900000105 (beta): included as 'zed2020review' but no "
        "studies.csv row for 'beta' cites it yet",
        "screening.csv, line 5, PMID 22222222 (alpha): included as 'lee2010beta' but no "
        "studies.csv row for 'alpha' cites it yet (studies.csv cites it for beta)",
        "screening.csv, line 6, PMID 900000101 (alpha): included but not in references.bib and "
        "no study row yet: add an entry by hand, then a studies.csv row for 'alpha'",
    ]


def test_an_exclusion_written_by_hand_without_reason_is_reported(minidata: Path):
    path = queue(minidata, "900000106,,SYNTHETIC,Synth J,2026,,alpha,2026-12-05,excluded,,")
    problems = check_screening(load_screening(path), load_references(minidata / "references.bib"),
                               load_studies(minidata / "data" / "studies.csv"))
    assert problems == ["screening.csv, line 2, PMID 900000106 (alpha): field 'reason': an "
                        "excluded record needs a reason"]
