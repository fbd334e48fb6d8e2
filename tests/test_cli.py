"""The ``crps-evidence`` command line, against a local HTTP server with synthetic answers.

The clients are pointed at pytest-httpserver through the ``CRPS_EVIDENCE_*`` environment
variables; nothing is patched. Bibliographies are temporary files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crps_evidence.cli import (
    crossref_mismatches,
    format_entry,
    journal_matches,
    main,
    pubmed_mismatches,
)
from crps_evidence.evidence.references import Reference, load_references

from .http_fixtures import fixture_json, fixture_text

DOI = "10.5555/synthetic.0001"
NEW_KEY = "testperson2009synthetic"

# Deliberately odd formatting (comment, unicode, no final newline) that must survive as is.
BIB = (
    "% SYNTHETIC bibliography for tests\n"
    "@article{smith2001alpha,\n"
    "  author = {Smith, Ann and Brown, Bo},\n"
    "  title = {SYNTHETIC Alpha infusion},\n"
    "  journal = {Journal of Fixtures},\n"
    "  year = {2001},\n"
    "  doi = {10.5555/synthetic.1}\n"
    "}\n"
    "\n"
    "@article{gierthmuhlen2010beta,\n"
    "  author   = {Gierthmühlen, Janne},\n"
    "  title    = {SYNTHETIC Beta},\n"
    "  journal  = {Journal of Fixtures},\n"
    "  year     = {2010}\n"
    "}"
)


@pytest.fixture
def bib(tmp_path) -> Path:
    folder = tmp_path / "bib"
    folder.mkdir()
    path = folder / "references.bib"
    path.write_bytes(BIB.encode("utf-8"))
    return path


def serve_bibtex(httpserver, name: str = "bibtex_ok.bib", status: int = 200) -> None:
    httpserver.expect_request(
        f"/doi/{DOI}", headers={"Accept": "application/x-bibtex"}
    ).respond_with_data(fixture_text(name), status=status, content_type="application/x-bibtex")


# ----------------------------------------------------------------------------- help


@pytest.mark.parametrize("command", [[], ["add-reference"], ["check"], ["trials"], ["update"],
                                     ["screen"]])
def test_help(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: crps-evidence {' '.join(command)}".rstrip())


def test_usage_errors(capsys):
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["add-reference"]) == 2
    assert "usage:" in capsys.readouterr().err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "crps_evidence.cli", "trials", "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "--refresh" in result.stdout


# ----------------------------------------------------------------------------- add-reference


def test_add_reference(env, bib, httpserver, capsys):
    original = bib.read_bytes()
    serve_bibtex(httpserver)
    assert main(["add-reference", f"https://doi.org/{DOI.upper()}", "--bib", str(bib)]) == 0
    out = capsys.readouterr().out
    assert f"added '{NEW_KEY}'" in out
    new = bib.read_bytes()
    assert new.startswith(original)
    assert new[len(original):].startswith(b"\n\n@article{" + NEW_KEY.encode() + b",\n")
    assert new.endswith(b"}\n")
    refs = load_references(bib)
    assert list(refs) == ["smith2001alpha", "gierthmuhlen2010beta", NEW_KEY]
    entry = refs[NEW_KEY]
    assert entry.fields == {
        "author": "Testperson, Alice and Examplar, Bob",
        "title": "SYNTHETIC record: ketamine infusion in complex regional pain syndrome",
        "journal": "Synthetic Journal of Pain Research",
        "year": "2009",
        "volume": "145",
        "number": "3",
        "pages": "304--311",
        "doi": DOI,
    }
    # Nothing left behind but the (empty, git-ignored) lock file of the folder.
    assert sorted(p.name for p in bib.parent.iterdir()) == [".crps-evidence.lock",
                                                            "references.bib"]


def test_add_reference_with_pmid_lookup(env, bib, httpserver, capsys):
    serve_bibtex(httpserver)
    httpserver.expect_request(
        "/eutils/esearch.fcgi", query_string={
            "tool": "crps-evidence", "email": "tests@example.org", "db": "pubmed",
            "term": f'"{DOI}"[doi]', "retmax": "5", "retmode": "json"},
    ).respond_with_json({"esearchresult": {"count": "1", "idlist": ["900000001"]}})
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_json(
        fixture_json("esummary.json"))
    assert main(["add-reference", DOI, "--bib", str(bib), "--pmid"]) == 0
    assert load_references(bib)[NEW_KEY].pmid == "900000001"
    assert bib.read_text(encoding="utf-8").endswith(
        "  doi = {10.5555/synthetic.0001},\n  pmid = {900000001}\n}\n")


def test_add_reference_keeps_crlf_and_trailing_newline(env, tmp_path, httpserver):
    path = tmp_path / "crlf.bib"
    original = (BIB + "\n").replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(original)
    serve_bibtex(httpserver)
    assert main(["add-reference", DOI, "--bib", str(path)]) == 0
    new = path.read_bytes()
    assert new.startswith(original)
    added = new[len(original):]
    assert added.startswith(b"\r\n@article{") and b"\n" not in added.replace(b"\r\n", b"")


def test_add_reference_follows_symlink(env, bib, httpserver):
    link = bib.parent / "link.bib"
    link.symlink_to(bib.name)
    serve_bibtex(httpserver)
    assert main(["add-reference", DOI, "--bib", str(link)]) == 0
    assert link.is_symlink()
    assert NEW_KEY in load_references(bib)


def test_duplicate_doi_refused_without_request(env, bib, httpserver, capsys):
    text = BIB.replace("10.5555/synthetic.1", "https://doi.org/10.5555/SYNTHETIC.0001")
    bib.write_text(text, encoding="utf-8")
    before = bib.read_bytes()
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 1
    err = capsys.readouterr().err
    assert "already there as 'smith2001alpha'" in err and "nothing written" in err
    assert bib.read_bytes() == before
    assert httpserver.log == []


def test_duplicate_key_refused(env, bib, httpserver, capsys):
    bib.write_text(BIB.replace("smith2001alpha", NEW_KEY), encoding="utf-8")
    before = bib.read_bytes()
    serve_bibtex(httpserver)
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 1
    assert f"key '{NEW_KEY}' is already used" in capsys.readouterr().err
    assert bib.read_bytes() == before
    # an explicit key resolves it
    assert main(["add-reference", DOI, "--bib", str(bib), "--key", "testperson2009ketamine"]) == 0
    assert "testperson2009ketamine" in load_references(bib)


@pytest.mark.parametrize("bad", ["10.1/x", "doi:", "1O.5555/abc", "10.5555", "synthetic"])
def test_malformed_doi_refused_without_request(env, bib, httpserver, capsys, bad):
    before = bib.read_bytes()
    assert main(["add-reference", bad, "--bib", str(bib)]) == 2
    assert "malformed DOI" in capsys.readouterr().err
    assert bib.read_bytes() == before
    assert httpserver.log == []


def test_bad_key_option(env, bib, httpserver):
    assert main(["add-reference", DOI, "--bib", str(bib), "--key", "Bad Key"]) == 2
    assert httpserver.log == []


def test_truncated_bibtex_leaves_file_identical(env, bib, httpserver, capsys):
    before = bib.read_bytes()
    serve_bibtex(httpserver, "bibtex_truncated.bib")
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 3
    err = capsys.readouterr().err
    assert "truncated" in err and "nothing written" in err
    assert bib.read_bytes() == before
    # Nothing left behind but the (empty, git-ignored) lock file of the folder.
    assert sorted(p.name for p in bib.parent.iterdir()) == [".crps-evidence.lock",
                                                            "references.bib"]


@pytest.mark.parametrize("status", [404, 500])
def test_service_error_leaves_file_identical(env, bib, httpserver, capsys, status):
    before = bib.read_bytes()
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data("no", status=status)
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 3
    assert f"HTTP {status}" in capsys.readouterr().err
    assert bib.read_bytes() == before


def test_write_failure_leaves_file_identical(env, bib, httpserver):
    """A real write error: the child process may not grow any file past the .bib's size."""
    before = bib.read_bytes()
    serve_bibtex(httpserver)
    limit = len(before) + 16
    code = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from crps_evidence.cli import main
        sys.exit(main(["add-reference", "{DOI}", "--bib", {str(bib)!r}]))
    """)
    child_env = {**os.environ, **env, "CRPS_EVIDENCE_NO_CACHE": "1"}
    result = subprocess.run([sys.executable, "-c", code], env=child_env, capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 4, result.stderr
    assert "cannot write" in result.stderr and "unchanged" in result.stderr
    assert len(httpserver.log) == 1  # the entry was fetched; only the write failed
    assert bib.read_bytes() == before
    # Nothing left behind but the (empty, git-ignored) lock file of the folder.
    assert sorted(p.name for p in bib.parent.iterdir()) == [".crps-evidence.lock",
                                                            "references.bib"]


def test_broken_bibliography_is_reported(env, bib, httpserver, capsys):
    bib.write_text(BIB.replace("smith2001alpha", "gierthmuhlen2010beta"), encoding="utf-8")
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 2
    assert "duplicate citation key" in capsys.readouterr().err
    assert httpserver.log == []
    assert main(["add-reference", DOI, "--bib", str(bib.parent / "missing.bib")]) == 2


def test_format_entry_caps_authors():
    authors = " and ".join(f"Person{i}, A." for i in range(12))
    entry = format_entry("article", "person02020x", {"author": authors, "year": "2020"})
    assert "Person9, A. and others}" in entry and "Person10" not in entry


# ----------------------------------------------------------------------------- check


def test_journal_matching():
    assert journal_matches("Eur J Pain", ["European Journal of Pain"])
    assert journal_matches("Pain", ["PAIN"])
    assert journal_matches("J. Pain Res.", ["Journal of Pain Research"])
    assert not journal_matches("Pain", ["Pain Medicine"])
    assert not journal_matches("Eur J Pain", ["European Journal of Neurology"])


def _ref(**fields: str) -> Reference:
    return Reference("synthetic2009x", "article", fields)


def test_crossref_mismatches():
    message = fixture_json("crossref_work.json")["message"]
    same = _ref(title="SYNTHETIC record: Ketamine infusion in {Complex} Regional Pain Syndrome.",
                year="2009", journal="Synth J Pain Res")
    assert crossref_mismatches(same, message) == []
    wrong = _ref(title="SYNTHETIC record: something else", year="2008",
                 journal="Synthetic Journal of Neurology")
    problems = crossref_mismatches(wrong, message)
    assert len(problems) == 3
    assert any("year 2008 but Crossref has 2009" in p for p in problems)


def test_pubmed_mismatches():
    summary = fixture_json("esummary.json")["result"]["900000001"]
    same = _ref(title="SYNTHETIC record: ketamine infusion in complex regional pain syndrome",
                year="2009", journal="Synthetic Journal of Pain Research", doi=DOI,
                pmid="900000001")
    assert pubmed_mismatches(same, summary) == []
    wrong = _ref(title="SYNTHETIC record: ketamine infusion in complex regional pain syndrome",
                 year="2011", journal="Synth J Pain Res", doi="10.5555/synthetic.0002",
                 pmid="900000001")
    problems = pubmed_mismatches(wrong, summary)
    assert len(problems) == 2
    assert any("DOI 10.5555/synthetic.0002 but PubMed" in p for p in problems)


ONLINE_BIB = """\
@article{testperson2009synthetic,
  author = {Testperson, Alice and Examplar, Bob},
  title = {SYNTHETIC record: ketamine infusion in complex regional pain syndrome},
  journal = {Synth J Pain Res},
  year = {2009},
  doi = {10.5555/synthetic.0001},
  pmid = {900000001}
}

@article{other2015synthetic,
  author = {Other, Olga},
  title = {SYNTHETIC record: the title the bibliography has},
  journal = {Synthetic rehabilitation},
  year = {2015},
  doi = {10.5555/synthetic.0002},
  pmid = {900000002}
}

@article{ghost2020synthetic,
  author = {Ghost, Gil},
  title = {SYNTHETIC record: unknown to PubMed},
  year = {2020},
  pmid = {900000099}
}
"""


def test_check_online(env, minidata, monkeypatch, httpserver, tmp_path, capsys):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    bib = tmp_path / "online.bib"
    bib.write_text(ONLINE_BIB, encoding="utf-8")
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json"))
    httpserver.expect_request("/crossref/works/10.5555/synthetic.0002").respond_with_data(
        "Resource not found.", status=404)
    httpserver.expect_request(
        "/eutils/esummary.fcgi", query_string={
            "tool": "crps-evidence", "email": "tests@example.org", "db": "pubmed",
            "id": "900000001,900000002,900000099", "retmode": "json"},
    ).respond_with_json(fixture_json("esummary.json"))
    assert main(["check", "--online", "--bib", str(bib)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines == [
        "other2015synthetic: DOI 10.5555/synthetic.0002 not found in Crossref",
        "other2015synthetic: title differs from PubMed 900000002: 'SYNTHETIC record: the title "
        "the bibliography has' vs 'SYNTHETIC record: a different title than the bibliography "
        "says.'",
        "ghost2020synthetic: PMID 900000099 not found in PubMed",
    ]
    assert "3 problem(s) found" in captured.err
    assert bib.read_text(encoding="utf-8") == ONLINE_BIB


def test_check_offline_clean(env, minidata, monkeypatch, httpserver, capsys):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    assert main(["check"]) == 0
    assert "no problems found" in capsys.readouterr().out
    assert httpserver.log == []


def test_check_online_service_down(env, minidata, monkeypatch, httpserver, tmp_path, capsys):
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    bib = tmp_path / "online.bib"
    bib.write_text(ONLINE_BIB, encoding="utf-8")
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_data("down", status=503)
    assert main(["check", "--online", "--bib", str(bib)]) == 3
    assert "NCBI E-utilities: server error HTTP 503" in capsys.readouterr().err


# ----------------------------------------------------------------------------- trials


def test_trials_without_snapshot_shows_the_registrations_read_by_hand(env, tmp_path, httpserver,
                                                                     capsys):
    from crps_evidence import load_treatments
    from crps_evidence.evidence.tables import load_registry_records

    records = load_registry_records()
    assert main(["trials", "ketamine", "--snapshot-dir", str(tmp_path / "trials")]) == 0
    out, err = capsys.readouterr()
    for registry_id in records.loc[records["treatment_id"] == "ketamine", "registry_id"]:
        assert registry_id in out
    assert "no registry snapshot for 'ketamine'" in err
    assert "crps-evidence trials ketamine --refresh" in err
    without = sorted(set(load_treatments()["id"]) - set(records["treatment_id"]))[0]
    assert main(["trials", without, "--snapshot-dir", str(tmp_path / "trials")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and f"no registry snapshot for '{without}'" in err
    assert httpserver.log == []


def test_trials_refresh_then_show(env, tmp_path, httpserver, capsys):
    httpserver.expect_request("/ctgov/studies", query_string={
        "query.cond": '"complex regional pain syndrome" OR "reflex sympathetic dystrophy" OR '
                      "causalgia",
        "query.intr": '"hyperbaric oxygen"', "pageSize": "100", "format": "json",
    }).respond_with_json(fixture_json("ctgov_page1.json"))
    httpserver.expect_request("/ctgov/studies").respond_with_json(
        fixture_json("ctgov_page2.json"))
    folder = tmp_path / "trials"
    assert main(["trials", "hbot", "--refresh", "--snapshot-dir", str(folder)]) == 0
    captured = capsys.readouterr()
    assert f"wrote {folder / 'hbot.json'}" in captured.err
    assert "# ClinicalTrials.gov API v2, fetched 20" in captured.out
    assert '# query.intr = "hyperbaric oxygen"' in captured.out
    assert "# 3 studies" in captured.out
    for nct in ("NCT00000000", "NCT00000001", "NCT00000002"):
        assert nct in captured.out
    assert len(httpserver.log) == 2
    assert main(["trials", "hbot", "--snapshot-dir", str(folder)]) == 0
    assert capsys.readouterr().out == captured.out
    assert len(httpserver.log) == 2


def test_trials_unknown_treatment(env, httpserver, capsys):
    assert main(["trials", "no-such-treatment", "--refresh"]) == 2
    assert "unknown treatment 'no-such-treatment'" in capsys.readouterr().err
    assert httpserver.log == []


def test_trials_refresh_failure(env, tmp_path, httpserver, capsys):
    httpserver.expect_request("/ctgov/studies").respond_with_data("{broken", status=200,
                                                                  content_type="application/json")
    folder = tmp_path / "trials"
    assert main(["trials", "tens", "--refresh", "--snapshot-dir", str(folder)]) == 3
    assert "not valid JSON" in capsys.readouterr().err
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_reader_that_goes_away_is_not_an_error(tmp_path):
    """`crps-evidence analyses --format json | head -1`: exit 0, nothing on stderr."""
    import subprocess
    import sys

    code = ("import sys; from crps_evidence.cli import main; "
            "sys.exit(main(['analyses', '--format', 'json']))")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert writer.stdout is not None
    writer.stdout.close()  # as head does after its lines, here before the first is written
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert b"Broken pipe" not in err and b"cannot write" not in err


def test_check_lists_every_problem_of_every_broken_file(tmp_path, monkeypatch, capsys):
    """Three mistakes in one row and one in another file: one run names all four."""
    import csv
    import io

    from crps_evidence.book import overview

    root = overview.copy_data(tmp_path / "copy")

    def spoil(name: str, line: int, changes: dict[str, str]) -> None:
        path = root / "data" / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        for column, value in changes.items():
            rows[line - 1][rows[0].index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")

    spoil("studies.csv", 4, {"n_randomized": "forty", "primary_result": "maybe",
                             "crps_type": "III"})
    spoil("treatments.csv", 3, {"invasiveness": "nine"})
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(root))
    monkeypatch.setenv("CRPS_EVIDENCE_NO_CACHE", "1")
    monkeypatch.chdir(root)
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "data/studies.csv, line 4: field 'n_randomized': value 'forty'" in err
    assert "line 4: field 'primary_result': value 'maybe'" in err
    assert "line 4: field 'crps_type': value 'III'" in err
    assert "data/treatments.csv, line 3: field 'invasiveness': value 'nine'" in err
    assert "2 file(s) fail their schema" in err
