"""Issue 24: nothing in the data runs in a reader's browser, bad input fails loudly, writers
serialise, and the DOI client cannot be led astray.

The browser half of the first point (payloads in every column of a copied project, built and
opened in Chromium) is ``tests/book/test_injection.py``; here are the escaping path itself,
the checks, the loader's errors, the client against pytest-httpserver and the lock.
"""

from __future__ import annotations

import codecs
import logging
import multiprocessing
import threading
import time
from functools import partial
from pathlib import Path

import pandas as pd
import pytest
from werkzeug import Request, Response

from crps_evidence import load_references
from crps_evidence._files import LOCK_NAME, data_lock
from crps_evidence.book.display import md_text, safe_url, to_html
from crps_evidence.book.handout_pages import _url
from crps_evidence.checks import check_integrity
from crps_evidence.cli import main
from crps_evidence.current.clients import CrossrefClient
from crps_evidence.current.clients.crossref import BIBTEX_MAX_BYTES
from crps_evidence.current.screening import mark
from crps_evidence.errors import ClientError, DataError
from crps_evidence.evidence.integrity import check_parents
from crps_evidence.evidence.tables import load_all, load_screening, load_studies

from .http_fixtures import fixture_text

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
JS = "javascript:alert(1)"
DOI = "10.5555/synthetic.0001"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ------------------------------------------------------------------ 1. escape by construction


def test_a_link_from_the_data_is_made_only_to_a_web_address() -> None:
    frame = pd.DataFrame({"Name": [IMG, "ok", "tab"],
                          "url": [JS, "https://example.org/a", "java\tscript:alert(1)"]})
    html = to_html(frame, links={"Name": "url"})
    assert "javascript" not in html and "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://example.org/a">ok</a>' in html
    for bad in (JS, " javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x",
                "vbscript:x", 'https://x.org/"onmouseover="alert(1)'):
        assert safe_url(bad) is None, bad


def test_markdown_from_the_data_cannot_open_html_or_a_block() -> None:
    text = md_text(f"{SCRIPT}\n```{{raw}} html\n{IMG}")
    assert "<" not in text.replace("\\<", "") and "\n" not in text
    assert "```" not in text
    assert _url(JS) == md_text(JS)  # a handout's source address shown, not linked
    assert _url("https://doi.org/10.1/x") == "[https://doi.org/10.1/x](<https://doi.org/10.1/x>)"


def test_a_handout_page_escapes_every_text_and_links_only_safe_targets() -> None:
    import dataclasses

    from crps_evidence.book.handout_pages import handout_page
    from crps_evidence.book.handouts import Source, make_handout

    handout = dataclasses.replace(
        make_handout("hbot", load_all()), name=IMG, summary=SCRIPT, risks=IMG,
        notebook=f"x.ipynb) {IMG} [y]({JS}", sources=(Source(IMG, JS),))
    page = handout_page(handout)
    assert "<img" not in page.replace("\\<img", "") and "<script" not in page.replace(
        "\\<script", "")
    assert f"]({JS}" not in page and f"(<{JS}>)" not in page
    assert "the pages of the collection" in page  # the bad notebook name is not a link


def test_check_reports_html_and_script_addresses_naming_file_line_field_value(
        minidata: Path) -> None:
    data = minidata / "data"
    edit(data / "certainty.csv", "pain at 12 weeks", IMG)
    edit(data / "treatments.csv", "five days", SCRIPT)
    edit(data / "certainty.csv", "https://example.org/synthetic/review", JS)
    bib = minidata / "references.bib"
    edit(bib, "@article{smith2001alpha,",
         "@article{smith2001alpha,\n  url = {javascript:alert(1)},")
    problems = check_integrity(load_all(data, bib), notebooks=minidata / "notebooks")
    text = "\n".join(problems)
    assert (f"certainty.csv, line 2, field 'outcome': value {IMG!r}: HTML markup ('<img')"
            in text)
    assert (f"treatments.csv, line 2, field 'typical_course': value {SCRIPT!r}: HTML markup "
            "('<script')" in text)
    assert (f"certainty.csv, line 2, field 'source_url': value {JS!r}: not a web address: "
            "scheme 'javascript'" in text)
    assert f"field 'url': value {JS!r}: not a web address" in text
    assert f"{bib}, line " in text


# ------------------------------------------------------------------ 2. bad data fails loudly


def test_parent_cycles_and_self_parents_are_errors(minidata: Path) -> None:
    data = minidata / "data"
    edit(data / "treatments.csv", "alpha,Alpha infusion,,", "alpha,Alpha infusion,alpha-cream,")
    problems = check_integrity(load_all(data, minidata / "references.bib"),
                               notebooks=minidata / "notebooks")
    assert ("treatments.csv, line 2, field 'parent': value 'alpha-cream': parents form a cycle "
            "(alpha -> alpha-cream -> alpha)") in problems
    frame = pd.DataFrame({"id": ["a", "b"], "parent": ["a", None]})
    assert check_parents(frame) == [
        "treatments.csv, line 2, field 'parent': value 'a': a treatment cannot be its own parent"]


def _markers(cache: Path) -> list[Path]:
    folder = cache / "validated"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("case, old, new, line, message", [
    ("unclosed quote in the last row", "lee2010beta,beta,lee2010beta",
     'lee2010beta,beta,"lee2010beta', None, "a quoted field is never closed"),
    ("stray quote inside a field", "lee2010beta,beta,lee2010beta", 'lee2010beta,be"ta,lee2010beta',
     4, "a \" inside a field that is not quoted"),
    ("text after a closing quote", "lee2010beta,beta,lee2010beta", 'lee2010beta,"be"ta,lee2010beta',
     4, "text after the closing quote"),
])
def test_a_broken_quote_fails_on_the_first_run_and_is_never_cached(
        minidata: Path, tmp_path: Path, monkeypatch, case, old, new, line, message) -> None:
    cache = tmp_path / "own-cache"
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(cache))
    path = minidata / "data" / "studies.csv"
    text = path.read_text(encoding="utf-8")
    if line is None:  # the last row: the quote stays open to the end of the file
        text = text.rstrip("\n")
        last = text.count("\n") + 1
        assert old in text.splitlines()[-1]
    path.write_text(text.replace(old, new), encoding="utf-8")
    for _ in range(2):  # the first run and the run after it say the same
        with pytest.raises(DataError) as exc:
            load_studies(path)
        assert exc.value.path == path and message in str(exc.value)
        assert exc.value.line == (last if line is None else line)
        assert exc.value.value is not None
        assert _markers(cache) == []


def test_a_file_the_cache_accepted_is_read_again_if_pandas_refuses_it(
        minidata: Path, tmp_path: Path, monkeypatch) -> None:
    """A marker left by older checks for bytes pandas cannot read: refused, and forgotten."""
    from crps_evidence.evidence import tables
    from crps_evidence.evidence.validation import make_plan

    cache = tmp_path / "own-cache"
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(cache))
    path = minidata / "data" / "studies.csv"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n").replace(
        "lee2010beta,beta,lee2010beta", 'lee2010beta,beta,"lee2010beta'), encoding="utf-8")
    where, descriptor = tables._descriptor_for(path)
    plan = make_plan("studies", path, where, descriptor, tables._project_data())
    marker = tables._validation_marker(plan.package, plan.inputs)
    marker.parent.mkdir(parents=True)
    marker.touch()  # as if a run of the old checks had accepted these bytes
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert exc.value.path == path and exc.value.line == 4
    assert "a quoted field is never closed" in str(exc.value)
    assert not marker.exists()


def test_a_latin1_file_is_reported_by_line(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    text = path.read_text(encoding="utf-8").replace("lee2010beta,beta,",
                                                    "lee2010beta,beta,Café ", 1)
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert exc.value.line == 4 and "not UTF-8" in str(exc.value)
    assert "byte 0xe9" in str(exc.value) and "line 4" in str(exc.value)


def test_a_missing_column_is_named(minidata: Path) -> None:
    path = minidata / "data" / "studies.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.drop(columns="bibkey").to_csv(path, index=False)
    with pytest.raises(DataError) as exc:
        load_studies(path)
    assert (exc.value.line, exc.value.field) == (1, "bibkey")
    assert "column 'bibkey' is missing from the header" in str(exc.value)


@pytest.mark.parametrize("case", ["invalid JSON", "byte-order mark"])
def test_a_broken_data_package_names_file_and_line(minidata: Path, case: str, capsys,
                                                   monkeypatch) -> None:
    descriptor = minidata / "data" / "datapackage.json"
    text = descriptor.read_text(encoding="utf-8")
    if case == "invalid JSON":
        lines = text.splitlines(keepends=True)
        lines[9] = lines[9].rstrip("\n") + ' "unterminated\n'
        descriptor.write_text("".join(lines), encoding="utf-8")
        line = 10
    else:
        descriptor.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
        line = 1
    with pytest.raises(DataError) as exc:
        load_studies(minidata / "data" / "studies.csv")
    assert exc.value.path == descriptor and exc.value.line == line
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    assert main(["check"]) != 0
    err = capsys.readouterr().err
    assert f"{descriptor}, line {line}" in err


# ------------------------------------------------------------------ 3. the client


@pytest.mark.parametrize("doi", ["10.1000/../../etc/passwd", "10.1000/./x", "10.1000/<script>",
                                 "10.1000/" + "x" * 5000, "10.1000/a\x07b", "10.1000/a b"])
def test_a_doi_that_could_lead_the_request_astray_is_refused_before_any_request(
        env, httpserver, tmp_path, doi, capsys) -> None:
    bib = tmp_path / "references.bib"
    bib.write_text("", encoding="utf-8")
    assert main(["add-reference", doi, "--bib", str(bib)]) == 2
    assert "malformed DOI" in capsys.readouterr().err
    assert httpserver.log == []
    with pytest.raises(ValueError, match="malformed DOI"):
        CrossrefClient().bibtex(doi)


def test_a_doi_is_percent_encoded_below_the_base_path(httpserver, settings) -> None:
    doi = "10.1002/(sici)1097-4636(199812)43:4<448::aid-jbm14>3.0.co;2-h"
    entry = fixture_text("bibtex_ok.bib").replace("10.5555/synthetic.0001", doi)
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.full_path if hasattr(request, "full_path") else request.path)
        return Response(entry, content_type="application/x-bibtex")

    httpserver.expect_request(f"/doi/{doi}").respond_with_handler(handler)
    CrossrefClient(settings).bibtex(doi)
    raw = httpserver.log[0][0].environ.get("RAW_URI") or httpserver.log[0][0].environ.get(
        "REQUEST_URI")
    assert raw.startswith("/doi/10.1002/%28sici%29") and "%3C448%3A%3A" in raw


def _huge_bibtex(size: int) -> str:
    """One valid entry whose title is one word of ``size`` letters (so is the key made of it)."""
    return ("@article{Testperson_2009, title={SYNTHETIC" + "x" * size + "}, author={Testperson,"
            " Alice}, year={2009}, DOI={10.5555/synthetic.0001}}")


def test_a_reply_beyond_the_size_cap_is_refused_and_nothing_is_written(
        env, httpserver, tmp_path, capsys) -> None:
    bib = tmp_path / "bib" / "references.bib"
    bib.parent.mkdir()
    bib.write_text("% SYNTHETIC\n", encoding="utf-8")
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        _huge_bibtex(2 * BIBTEX_MAX_BYTES), content_type="application/x-bibtex")
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 3
    err = capsys.readouterr().err
    assert f"larger than {BIBTEX_MAX_BYTES:,} bytes" in err
    assert bib.read_text(encoding="utf-8") == "% SYNTHETIC\n"
    assert sorted(p.name for p in bib.parent.iterdir()) == [LOCK_NAME, "references.bib"]


def test_an_entry_whose_key_would_be_absurd_is_refused(env, httpserver, tmp_path,
                                                       capsys) -> None:
    bib = tmp_path / "references.bib"
    bib.write_text("% SYNTHETIC\n", encoding="utf-8")
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        _huge_bibtex(5000), content_type="application/x-bibtex")
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 2
    assert "not 1 to 64 lower-case letters and digits; give one with --key" in \
        capsys.readouterr().err
    assert bib.read_text(encoding="utf-8") == "% SYNTHETIC\n"


def _drip(byte_every: float, count: int, done: threading.Event):
    """A valid-looking answer that sends one byte at a time (bounded: ``count`` bytes)."""
    def handler(request: Request) -> Response:
        def body():
            try:
                for _ in range(count):
                    time.sleep(byte_every)
                    yield b" "
            finally:
                done.set()
        return Response(body(), content_type="application/x-bibtex")
    return handler


def _half_then_silence(pause: float, done: threading.Event):
    body = fixture_text("bibtex_ok.bib").encode()

    def handler(request: Request) -> Response:
        def stream():
            try:
                yield body[: len(body) // 2]
                time.sleep(pause)  # bounded: the server gives up after this
            finally:
                done.set()
        return Response(stream(), headers={"Content-Length": str(len(body))},
                        content_type="application/x-bibtex")
    return handler


@pytest.mark.parametrize("slow", [partial(_drip, 0.2, 15), partial(_half_then_silence, 3.0)],
                         ids=["one byte at a time", "half a body then silence"])
def test_one_deadline_bounds_the_whole_request(httpserver, settings, slow) -> None:
    done = threading.Event()
    httpserver.expect_request(f"/doi/{DOI}").respond_with_handler(slow(done))
    quick = settings.replace(deadline=1.0, read_timeout=2.0, retries=2)
    with pytest.raises(ClientError, match=r"^doi\.org: no complete answer from .* within 1 s, "
                                          r"the deadline for one request"):
        CrossrefClient(quick).bibtex(DOI)
    assert done.wait(30)  # the test server is free again before the next test uses it
    assert len(httpserver.log) == 1


def test_bib_must_be_bibtex(env, httpserver, tmp_path, capsys) -> None:
    notes = tmp_path / "notes.bib"
    notes.write_text("These are my notes, not a bibliography.\n", encoding="utf-8")
    assert main(["add-reference", DOI, "--bib", str(notes)]) == 2
    assert "holds no BibTeX entry" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("@article{a, title={x}}\n", encoding="utf-8")
    assert main(["add-reference", DOI, "--bib", str(text)]) == 2
    assert "expected a BibTeX file ending in .bib" in capsys.readouterr().err
    assert notes.read_text(encoding="utf-8") == "These are my notes, not a bibliography.\n"
    assert httpserver.log == []


def test_a_cache_that_cannot_be_opened_is_left_out_and_said_once(httpserver, settings,
                                                                 caplog) -> None:
    broken = settings.cache_dir
    broken.mkdir(parents=True)
    (broken / "http_cache.sqlite").write_bytes(b"SYNTHETIC: not a database " * 100)
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex")
    caplog.set_level(logging.WARNING, logger="crps_evidence.current.clients")
    assert "@article" in CrossrefClient(settings).bibtex(DOI)
    assert "@article" in CrossrefClient(settings).bibtex(DOI)
    warnings = [r.getMessage() for r in caplog.records if "cannot be used" in r.getMessage()]
    assert len(warnings) == 1 and "going on without a cache" in warnings[0]
    assert len(httpserver.log) == 2  # no cache: asked twice


def test_a_killed_runs_temporary_file_is_removed(env, httpserver, tmp_path) -> None:
    folder = tmp_path / "bib"
    folder.mkdir()
    bib = folder / "references.bib"
    bib.write_text("% SYNTHETIC\n", encoding="utf-8")
    stale = folder / ".references.bib.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex")
    assert main(["add-reference", DOI, "--bib", str(bib)]) == 0
    assert not stale.exists()
    assert "testperson2009synthetic" in load_references(bib)


def _add(doi: str, bib: str, out) -> None:
    out.put(main(["add-reference", doi, "--bib", bib]))


def test_two_add_reference_runs_at_once_add_the_entry_once(env, httpserver, tmp_path) -> None:
    bib = tmp_path / "references.bib"
    bib.write_text("% SYNTHETIC\n", encoding="utf-8")
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex")
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    runs = [context.Process(target=_add, args=(DOI, str(bib), out)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    assert sorted(out.get(timeout=5) for _ in runs) == [0, 1]  # 1: "already there"
    assert list(load_references(bib)) == ["testperson2009synthetic"]


# ------------------------------------------------------------------ 4. writers serialise

ROWS = [
    f"90000{i:04d},,SYNTHETIC record {i},Synth J,2026,Case Reports,alpha,2026-12-05,to screen,,"
    for i in range(2)
]


def _screen(path: str, pmid: str, barrier) -> None:
    barrier.wait()
    mark(path, pmid, "excluded", reason=f"SYNTHETIC reason for {pmid}")


def test_twenty_concurrent_screen_pairs_lose_nothing(minidata: Path) -> None:
    path = minidata / "data" / "screening.csv"
    header = path.read_text(encoding="utf-8")
    load_screening(path)  # validate the schema once, outside the race
    context = multiprocessing.get_context("fork")
    for attempt in range(20):
        path.write_text(header + "".join(row + "\n" for row in ROWS), encoding="utf-8")
        barrier = context.Barrier(2)
        workers = [context.Process(target=_screen, args=(str(path), pmid, barrier))
                   for pmid in ("900000000", "900000001")]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
            assert worker.exitcode == 0
        queue = load_screening(path)
        assert list(queue["status"]) == ["excluded", "excluded"], f"attempt {attempt + 1}"


@pytest.mark.parametrize("command, locked", [
    (["screen", "900000000", "--exclude", "--reason", "SYNTHETIC"], "data/screening.csv"),
    (["update"], "data/screening.csv"),
    (["add-reference", DOI], "references.bib"),
], ids=["screen", "update", "add-reference"])
def test_a_writer_that_cannot_get_the_lock_refuses_clearly(env, httpserver, minidata: Path,
                                                           monkeypatch, capsys, command,
                                                           locked) -> None:
    path = minidata / "data" / "screening.csv"
    path.write_text(path.read_text(encoding="utf-8") + ROWS[0] + "\n", encoding="utf-8")
    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in [*(minidata / "data").rglob("*"),
                                            minidata / "references.bib"]
                if p.is_file() and p.name != LOCK_NAME}

    before = files()
    monkeypatch.setenv("CRPS_EVIDENCE_LOCK_TIMEOUT", "0.2")
    monkeypatch.setenv("CRPS_EVIDENCE_ROOT", str(minidata))
    context = multiprocessing.get_context("fork")
    held, release = context.Event(), context.Event()

    def hold() -> None:
        with data_lock(minidata / locked, timeout=5):
            held.set()
            release.wait(10)

    holder = context.Process(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        assert main([*command, *(["--bib", str(minidata / "references.bib")]
                                 if command[0] == "add-reference" else [])]) != 0
    finally:
        release.set()
        holder.join(10)
    assert "another crps-evidence command is writing" in capsys.readouterr().err
    assert files() == before
    assert httpserver.log == []  # refused before asking anything


def test_screen_keeps_crlf_line_ends_and_a_byte_order_mark(minidata: Path) -> None:
    path = minidata / "data" / "screening.csv"
    text = path.read_text(encoding="utf-8") + "".join(row + "\n" for row in ROWS)
    path.write_bytes(codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode("utf-8"))
    mark(path, "900000001", "included")
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert data.count(b"\r\n") == data.count(b"\n") == 3
    assert list(load_screening(path)["status"]) == ["to screen", "included"]
