"""``crps-evidence update`` and ``screen`` end to end, against the emulated services.

The project is the synthetic minidata copy (``CRPS_EVIDENCE_ROOT``); the clients reach
:class:`tests.services.FakeServices` through the ``CRPS_EVIDENCE_*`` variables. The day is
the real one (UTC), as for a user.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from crps_evidence._files import LOCK_NAME
from crps_evidence.cli import main
from crps_evidence.evidence.tables import load_screening, load_searches

from .services import FakeServices


@pytest.fixture
def project(env, minidata: Path, monkeypatch) -> Path:
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    monkeypatch.setenv("NCBI_API_KEY", "SYNTHETIC-NCBI-KEY")
    return minidata


@pytest.fixture
def services(httpserver) -> FakeServices:
    return FakeServices(httpserver)


def data_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "data").rglob("*"))
            if p.is_file() and p.name != LOCK_NAME}  # the (empty) lock file does not count


def test_update_screen_and_check(project, services, tmp_path, capsys):
    today = datetime.now(UTC).date().isoformat()
    report = tmp_path / "update.md"
    assert main(["update", "--report", str(report)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"Search update of {today}"
    assert lines[1:4] == [
        "alpha",
        f"  PubMed, first search, every record up to {today}: 4 records; 2 new in the "
        "screening queue, 2 already in references.bib, 0 already queued",
        "  ClinicalTrials.gov: 3 registrations (first snapshot: nothing to compare with)",
    ]
    assert "  PubMed remark: phrase not found: syntheticzz[tiab]" in lines
    assert lines[-1] == ("3 treatments searched: 4 new records to screen, 0 new registrations, "
                         "0 status changes")
    assert f"searches.csv last_run = {today} for 3 treatment(s); 4 row(s) added" in err
    assert report.read_text(encoding="utf-8").startswith(f"# Search update of {today}")
    assert set(load_searches(project / "data" / "searches.csv")["last_run"]) == {today}

    assert main(["screen"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("4 record(s) wait to be screened (")
    assert "screening.csv):" in listing.splitlines()[0]
    assert "\nalpha: 2\n  900000103  2026  Journal Article; Randomized Controlled Trial\n" \
        in listing
    assert "      Synth Case Rep | https://pubmed.ncbi.nlm.nih.gov/900000101/\n" in listing

    assert main(["screen", "900000103", "--include"]) == 0
    assert capsys.readouterr().out.startswith(
        "900000103 alpha: to screen -> included (screening.csv line 2): SYNTHETIC record")
    assert main(["screen", "900000101", "--exclude", "--reason", "case report"]) == 2
    assert "say which with --treatment; nothing written" in capsys.readouterr().err
    assert main(["screen", "900000101", "--exclude", "--reason", "case report",
                 "--treatment", "alpha"]) == 0
    capsys.readouterr()
    queue = load_screening(project / "data" / "screening.csv").set_index(
        ["pmid", "treatment_id"])
    assert queue.loc[("900000101", "alpha"), "reason"] == "case report"
    assert queue.loc[("900000101", "beta"), "status"] == "to screen"
    assert main(["screen", "--treatment", "alpha"]) == 0
    assert capsys.readouterr().out.strip() == "no records wait to be screened"

    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert ("screening.csv, line 2, PMID 900000103 (alpha): included but not in "
            "references.bib and no study row yet: add `crps-evidence add-reference "
            "10.5555/synthetic.0103 --pmid`, then a studies.csv row for 'alpha'") in out

    queue_file = (project / "data" / "screening.csv").read_bytes()
    assert main(["update"]) == 0  # the second run the same day adds nothing
    out = capsys.readouterr().out
    assert f"  PubMed, records entered {today} to {today}: 4 records; 0 new in the screening " \
        "queue, 2 already in references.bib, 2 already queued" in out
    assert out.splitlines()[-1].startswith("3 treatments searched: 0 new records to screen")
    assert (project / "data" / "screening.csv").read_bytes() == queue_file
    assert services.asked["esearch alpha"] == 2  # asked again, for the new date range


def test_a_failed_update_says_what_was_done_and_writes_nothing(project, services, capsys):
    services.broken.add("beta")
    before = data_files(project)
    assert main(["update"]) == 3
    out, err = capsys.readouterr()
    assert out.startswith("found before the update stopped (NOT saved):\nalpha\n")
    assert "Done (not saved): alpha, alpha-cream. Not reached: none." in err
    assert "update stopped while searching 'beta' (ClinicalTrials.gov: server error" in err
    assert "); nothing written." in err
    assert data_files(project) == before


def test_dry_run_asks_and_writes_nothing(project, services, httpserver, capsys):
    before = data_files(project)
    assert main(["update", "beta", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("beta: last run 2026-11-01; PubMed records entered 2026-11-01 to ")
    assert httpserver.log == [] and data_files(project) == before


@pytest.mark.parametrize("args, code, message", [
    (["screen", "--include"], 2, "say which record"),
    (["screen", "900000001", "--include"], 1, "PMID 900000001 is not in the queue"),
    (["update", "gamma"], 2, "no recorded search for 'gamma'"),
])
def test_refusals(project, services, httpserver, capsys, args, code, message):
    before = data_files(project)
    assert main(args) == code
    assert message in capsys.readouterr().err
    assert data_files(project) == before and httpserver.log == []


def test_an_exclusion_needs_a_reason(project, services, capsys):
    assert main(["update", "alpha"]) == 0
    capsys.readouterr()
    before = data_files(project)
    assert main(["screen", "900000103", "--exclude"]) == 2
    assert "an exclusion needs a reason" in capsys.readouterr().err
    assert data_files(project) == before
    assert main(["screen", "900000103"]) == 0
    assert capsys.readouterr().out.startswith("900000103 alpha: to screen: SYNTHETIC record")
