"""The command line when a service misbehaves, against pytest-httpserver (issue 15).

Answers have the shape of the real services' (a DataCite-style record without author or
title, Crossref's ``issued: {"date-parts": [[null]]}``, an E-utilities 502 page). The
clients are pointed at the local server through ``CRPS_EVIDENCE_*`` variables; nothing is
patched.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from crps_evidence.cli import crossref_mismatches, main
from crps_evidence.evidence.references import Reference, load_references

from .conftest import edit
from .http_fixtures import fixture_json, fixture_text

DOI = "10.5555/synthetic.0001"
NEW_KEY = "testperson2009synthetic"
BIB = (
    "@article{smith2001alpha,\n"
    "  author = {Smith, Ann},\n"
    "  title = {SYNTHETIC Alpha infusion},\n"
    "  journal = {Journal of Fixtures},\n"
    "  year = {2001},\n"
    "  doi = {10.5555/synthetic.1}\n"
    "}\n"
)
NCBI_BAD_GATEWAY = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)


@pytest.fixture
def bib(tmp_path) -> Path:
    path = tmp_path / "bib" / "references.bib"
    path.parent.mkdir()
    path.write_text(BIB, encoding="utf-8")
    return path


def serve_bibtex(httpserver, text: str) -> None:
    httpserver.expect_request(
        f"/doi/{DOI}", headers={"Accept": "application/x-bibtex"}
    ).respond_with_data(text, content_type="application/x-bibtex")


# ----------------------------------------------------------------------------- add-reference


def test_pubmed_failure_keeps_the_good_bibtex(env, bib, httpserver, capsys):
    serve_bibtex(httpserver, fixture_text("bibtex_ok.bib"))
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_data(
        NCBI_BAD_GATEWAY, status=502, content_type="text/html")
    assert main(["add-reference", DOI, "--bib", str(bib), "--pmid"]) == 0
    err = capsys.readouterr().err
    assert "the PubMed lookup failed" in err and "NCBI E-utilities" in err and "502" in err
    assert "without a pmid field" in err
    entry = load_references(bib)[NEW_KEY]
    assert entry.doi == DOI and entry.pmid == ""
    assert bib.read_text(encoding="utf-8").startswith(BIB)


@pytest.mark.parametrize(
    ("record", "missing"),
    [
        # DataCite-style BibTeX served through doi.org: no author, no title.
        ("@misc{https://doi.org/10.5555/synthetic.0001,\n  doi = {10.5555/synthetic.0001},\n"
         "  url = {https://example.org/synthetic/0001},\n  publisher = {SYNTHETIC Repository},\n"
         "  year = {2020}\n}", "author or title"),
        (" @article{Testperson_2009, title={SYNTHETIC record}, DOI={10.5555/synthetic.0001},"
         " author={Testperson, Alice}}", "year"),
    ],
)
def test_record_without_author_or_title_is_bad_data_not_a_service_failure(
        env, bib, httpserver, capsys, record, missing):
    before = bib.read_bytes()
    serve_bibtex(httpserver, record)
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 2  # documented: bad data
    err = capsys.readouterr().err
    assert f"has no {missing}, so no key can be made" in err
    assert "--key" in err and "nothing written" in err
    assert bib.read_bytes() == before


# ----------------------------------------------------------------------------- check --online


ONLINE_BIB = """\
@article{smith2001alpha,
  author = {Smith, Ann and Brown, Bo},
  title = {SYNTHETIC record: ketamine infusion in complex regional pain syndrome},
  journal = {Synth J Pain Res},
  year = {2008},
  doi = {10.5555/synthetic.0001}
}

@article{jones2005alpha,
  author = {Jones, Cy},
  title = {SYNTHETIC Alpha crossover},
  year = {2005},
  doi = {10.5555/synthetic.0002}
}
"""


def test_check_online_prints_what_was_found_before_the_service_failed(
        env, minidata, monkeypatch, httpserver, tmp_path, capsys):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    edit(minidata / "data" / "studies.csv", "lee2010beta,beta,lee2010beta,",
         "lee2010beta,beta,lee2011beta,")  # an offline finding
    bib = tmp_path / "online.bib"
    bib.write_text(ONLINE_BIB, encoding="utf-8")
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json"))
    httpserver.expect_request("/crossref/works/10.5555/synthetic.0002").respond_with_data(
        "<html><body><h1>503 Service Unavailable</h1></body></html>", status=503,
        headers={"Retry-After": "0"}, content_type="text/html")
    assert main(["check", "--online", "--bib", str(bib)]) == 3
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert any("field 'bibkey': value 'lee2011beta'" in line for line in out)  # offline
    assert "smith2001alpha: year 2008 but Crossref has 2009" in out  # online, before failing
    assert "Crossref: server error HTTP 503" in captured.err
    assert f"{len(out)} problem(s) found so far" in captured.err
    assert "nothing written" not in captured.err + captured.out


def test_crossref_record_without_a_year_says_the_year_was_not_checked(
        env, minidata, monkeypatch, httpserver, tmp_path, capsys):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    record = fixture_json("crossref_work.json")
    record["message"]["issued"] = {"date-parts": [[None]]}  # as Crossref sends it
    del record["message"]["published-print"], record["message"]["published-online"]
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(record)
    bib = tmp_path / "online.bib"
    bib.write_text(ONLINE_BIB.split("\n\n")[0] + "\n", encoding="utf-8")
    assert main(["check", "--online", "--bib", str(bib)]) == 1
    out = capsys.readouterr().out
    assert "smith2001alpha: year 2008 could not be checked: Crossref's record has no year" in out


def test_crossref_mismatches_without_a_year():
    message = fixture_json("crossref_work.json")["message"]
    message["issued"] = {"date-parts": [[None]]}
    message.pop("published-print"), message.pop("published-online")
    ref = Reference("k2009x", "article", {"year": "2009"})
    assert crossref_mismatches(ref, message) == [
        "k2009x: year 2009 could not be checked: Crossref's record has no year (issued, "
        "print or online); check it by hand"]
    assert crossref_mismatches(Reference("k", "article", {}), message) == []


# ----------------------------------------------------------------------------- trials --refresh


def serve_registry(httpserver) -> None:
    httpserver.expect_request("/ctgov/studies").respond_with_json(
        fixture_json("ctgov_page2.json"))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_refresh_keeps_the_mode_of_the_snapshot_it_replaces(env, httpserver, tmp_path, mode):
    serve_registry(httpserver)
    folder = tmp_path / "trials"
    folder.mkdir()
    old = folder / "hbot.json"
    old.write_text("{}\n", encoding="utf-8")
    old.chmod(mode)
    assert main(["trials", "hbot", "--refresh", "--snapshot-dir", str(folder)]) == 0
    assert stat.S_IMODE(old.stat().st_mode) == mode
    assert json.loads(old.read_text(encoding="utf-8"))["treatment"] == "hbot"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_new_snapshot_gets_the_umask_default(env, httpserver, tmp_path, umask, mode):
    serve_registry(httpserver)
    folder = tmp_path / "trials"
    previous = os.umask(umask)
    try:
        assert main(["trials", "hbot", "--refresh", "--snapshot-dir", str(folder)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((folder / "hbot.json").stat().st_mode) == mode
