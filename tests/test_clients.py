"""Clients against a real local HTTP server (pytest-httpserver on 127.0.0.1).

Every answer is a synthetic fixture from ``tests/fixtures/http`` (see its README). Nothing is
patched: the clients are pointed at the local server through :class:`Settings`.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import date

import pandas as pd
import pytest
from werkzeug import Request, Response

from crps_evidence.config import DEFAULT_CONTACT, get_settings
from crps_evidence.current.clients import (
    TRIAL_COLUMNS,
    Clients,
    ClinicalTrialsClient,
    CrossrefClient,
    NotFoundError,
    PubMedClient,
    build_session,
    is_valid_nct_id,
    parse_bibtex_entry,
    studies_frame,
)
from crps_evidence.errors import ClientError

from .http_fixtures import fixture_json, fixture_text

DOI = "10.5555/synthetic.0001"
SECRET = "SYNTHETIC-NCBI-KEY-0123456789"


@pytest.fixture(autouse=True)
def _no_ncbi_key(monkeypatch):
    monkeypatch.delenv("NCBI_API_KEY", raising=False)


# ----------------------------------------------------------------------------- settings


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CRPS_EVIDENCE_CONTACT", "someone@example.org")
    monkeypatch.setenv("CRPS_EVIDENCE_CROSSREF_URL", "http://127.0.0.1:1/x/")
    monkeypatch.setenv("CRPS_EVIDENCE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CRPS_EVIDENCE_TIMEOUT", "7")
    s = get_settings()
    assert s.crossref_url == "http://127.0.0.1:1/x"
    assert s.cache_dir == tmp_path
    assert s.timeout == (10.0, 7.0)
    assert "mailto:someone@example.org" in s.user_agent
    monkeypatch.setenv("CRPS_EVIDENCE_NO_CACHE", "1")
    assert get_settings().cache_dir is None
    monkeypatch.setenv("CRPS_EVIDENCE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="CRPS_EVIDENCE_TIMEOUT"):
        get_settings()


def test_default_contact_is_neutral(monkeypatch):
    monkeypatch.delenv("CRPS_EVIDENCE_CONTACT", raising=False)
    assert get_settings().contact == DEFAULT_CONTACT
    assert DEFAULT_CONTACT.endswith("@example.org")


# ----------------------------------------------------------------------------- Crossref


def test_crossref_work_success_and_headers(httpserver, settings):
    httpserver.expect_request(
        f"/crossref/works/{DOI}", query_string={"mailto": "tests@example.org"}
    ).respond_with_json(fixture_json("crossref_work.json"))
    message = CrossrefClient(settings).work(f"https://doi.org/{DOI.upper()}")
    assert message["DOI"] == DOI
    assert message["title"][0].startswith("SYNTHETIC")
    (request, _), = httpserver.log
    agent = request.headers["User-Agent"]
    assert agent.startswith("crps-evidence/") and "mailto:tests@example.org" in agent


def test_second_call_is_served_from_disk_cache(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    first = CrossrefClient(settings).work(DOI)
    again = CrossrefClient(settings).work(DOI)  # new session, same cache folder
    assert first == again
    assert len(httpserver.log) == 1
    assert (settings.cache_dir / "http_cache.sqlite").is_file()
    # refresh=True goes to the network again
    CrossrefClient(settings).work(DOI, refresh=True)
    assert len(httpserver.log) == 2


def test_no_cache_when_turned_off(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    client = CrossrefClient(settings.replace(cache_dir=None))
    client.work(DOI)
    client.work(DOI)
    assert len(httpserver.log) == 2


def test_crossref_404(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        "Resource not found.", status=404
    )
    with pytest.raises(NotFoundError, match=r"DOI 10\.5555/synthetic\.0001 not found"):
        CrossrefClient(settings).work(DOI)


def test_429_retry_after_is_honoured(httpserver, settings):
    httpserver.expect_oneshot_request(f"/crossref/works/{DOI}").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    start = time.monotonic()
    message = CrossrefClient(settings).work(DOI)
    elapsed = time.monotonic() - start
    assert message["DOI"] == DOI
    assert len(httpserver.log) == 2
    assert elapsed >= 0.9, "the client did not wait for Retry-After"


def test_429_forever_gives_up_with_clear_error(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "0"}
    )
    with pytest.raises(ClientError, match="rate limit"):
        CrossrefClient(settings).work(DOI)
    assert len(httpserver.log) == settings.retries + 1


def test_500_then_success(httpserver, settings):
    httpserver.expect_oneshot_request(f"/crossref/works/{DOI}").respond_with_data(
        "oops", status=500
    )
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    assert CrossrefClient(settings).work(DOI)["DOI"] == DOI
    assert [resp.status_code for _, resp in httpserver.log] == [500, 200]


def test_persistent_503_is_a_client_error(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        "down", status=503, headers={"Retry-After": "0"}
    )
    with pytest.raises(ClientError, match="server error HTTP 503"):
        CrossrefClient(settings).work(DOI)


def test_timeout(httpserver, settings):
    release = threading.Event()

    def stall(request: Request) -> Response:
        release.wait(5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_handler(stall)
    client = CrossrefClient(settings.replace(read_timeout=0.3, retries=0, cache_dir=None))
    start = time.monotonic()
    try:
        with pytest.raises(ClientError, match=r"no answer .* within 0\.3 s"):
            client.work(DOI)
    finally:
        release.set()
    assert time.monotonic() - start < 3


def test_connection_refused(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = settings.replace(crossref_url=f"http://127.0.0.1:{port}", retries=0)
    with pytest.raises(ClientError, match="cannot connect"):
        CrossrefClient(dead).work(DOI)


def test_malformed_json_is_reported_and_not_cached(httpserver, settings):
    httpserver.expect_oneshot_request(f"/crossref/works/{DOI}").respond_with_data(
        '{"status": "ok", "message": {"DOI": ', content_type="application/json"
    )
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    client = CrossrefClient(settings)
    with pytest.raises(ClientError, match="not valid JSON"):
        client.work(DOI)
    assert client.work(DOI)["DOI"] == DOI  # the broken answer was not kept
    assert len(httpserver.log) == 2


def test_unexpected_json_shape(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json({"status": "error"})
    with pytest.raises(ClientError, match="no 'message'"):
        CrossrefClient(settings).work(DOI)


def test_bibtex_by_content_negotiation(httpserver, settings):
    httpserver.expect_request(
        f"/doi/{DOI}", headers={"Accept": "application/x-bibtex"}
    ).respond_with_data(fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex")
    text = CrossrefClient(settings).bibtex(DOI)
    entry_type, key, fields = parse_bibtex_entry(text)
    assert (entry_type, key) == ("article", "Testperson_2009")
    assert fields["title"].startswith("SYNTHETIC")
    assert fields["pages"] == "304–311"


def test_truncated_bibtex_is_rejected_and_not_cached(httpserver, settings):
    httpserver.expect_oneshot_request(f"/doi/{DOI}").respond_with_data(
        fixture_text("bibtex_truncated.bib"), content_type="application/x-bibtex"
    )
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex"
    )
    client = CrossrefClient(settings)
    with pytest.raises(ClientError, match="truncated"):
        client.bibtex(DOI)
    assert "Testperson_2009" in client.bibtex(DOI)
    assert len(httpserver.log) == 2


def test_bibtex_for_another_doi_is_rejected(httpserver, settings):
    other = fixture_text("bibtex_ok.bib").replace(DOI, "10.5555/synthetic.9999")
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(other)
    with pytest.raises(ClientError, match="BibTeX is for"):
        CrossrefClient(settings).bibtex(DOI)


def test_html_instead_of_bibtex(httpserver, settings):
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        "<html><body>landing page</body></html>", content_type="text/html"
    )
    with pytest.raises(ClientError, match="not BibTeX"):
        CrossrefClient(settings).bibtex(DOI)


@pytest.mark.parametrize(
    "bad", ["", "10.1/x", "doi 10.5555/abc", "11.5555/abc", "10.5555/", "not a doi", "10.5555"]
)
def test_malformed_doi_rejected_before_any_request(httpserver, settings, bad):
    client = CrossrefClient(settings)
    with pytest.raises(ValueError, match="malformed DOI"):
        client.work(bad)
    with pytest.raises(ValueError, match="malformed DOI"):
        client.bibtex(bad)
    assert httpserver.log == []


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("@article{k, title={A}", "truncated"),
        ("@article{k, title={A}}\n@article{j, title={B}}", "one entry"),
        ("plain text", "not BibTeX"),
    ],
)
def test_parse_bibtex_entry_rejects(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_bibtex_entry(text)


# ----------------------------------------------------------------------------- PubMed


def test_esearch_and_esummary(httpserver, settings):
    httpserver.expect_request(
        "/eutils/esearch.fcgi",
        query_string={
            "db": "pubmed",
            "term": "SYNTHETIC",
            "retmax": "20",
            "retmode": "json",
            "tool": "crps-evidence",
            "email": "tests@example.org",
        },
    ).respond_with_json(fixture_json("esearch.json"))
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_json(
        fixture_json("esummary.json")
    )
    client = PubMedClient(settings)
    assert client.max_rate == 3
    assert client.esearch("SYNTHETIC") == ["900000001", "900000002"]
    summaries = client.esummary(["900000001", "900000002", "900000099"])
    assert set(summaries) == {"900000001", "900000002"}  # the unknown id is left out
    assert summaries["900000001"]["source"] == "Synth J Pain Res"
    esummary_request = httpserver.log[-1][0]
    assert esummary_request.args["id"] == "900000001,900000002,900000099"
    assert "api_key" not in esummary_request.args


@pytest.mark.parametrize("bad", ["0123", "abc", "12345678901", "", "PMC123"])
def test_malformed_pmid_rejected_before_any_request(httpserver, settings, bad):
    with pytest.raises(ValueError, match="malformed PMID"):
        PubMedClient(settings).esummary(["900000001", bad])
    assert httpserver.log == []


def test_esearch_error_answer(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        {"esearchresult": {"ERROR": "Invalid query"}}
    )
    with pytest.raises(ClientError, match="Invalid query"):
        PubMedClient(settings).esearch("((")


def test_api_key_sent_but_never_cached_logged_or_shown(httpserver, settings, monkeypatch,
                                                        caplog):
    monkeypatch.setenv("NCBI_API_KEY", SECRET)
    httpserver.expect_request("/eutils/esearch.fcgi", query_string={
        "db": "pubmed", "term": "SYNTHETIC", "retmax": "20", "retmode": "json",
        "tool": "crps-evidence", "email": "tests@example.org", "api_key": SECRET,
    }).respond_with_json(fixture_json("esearch.json"))
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_data("boom", status=500)
    caplog.set_level(logging.DEBUG)
    client = PubMedClient(settings)
    assert client.max_rate == 10
    assert client.esearch("SYNTHETIC") == ["900000001", "900000002"]
    assert client.esearch("SYNTHETIC") == ["900000001", "900000002"]
    assert len(httpserver.log) == 1  # second answer from the cache despite the key
    with pytest.raises(ClientError) as info:
        client.esummary(["900000001"])
    assert SECRET not in str(info.value)
    assert SECRET not in repr(client)
    ours = [r for r in caplog.records if r.name != "werkzeug"]  # the test server's own log
    assert ours and not [r for r in ours if SECRET in r.getMessage()]
    client.session.close()
    for path in settings.cache_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _timed_searches(client: PubMedClient, count: int) -> float:
    start = time.monotonic()
    for i in range(count):
        client.esearch(f"SYNTHETIC {i}")
    return time.monotonic() - start


def test_rate_limit_three_per_second_without_key(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        fixture_json("esearch.json")
    )
    elapsed = _timed_searches(PubMedClient(settings.replace(cache_dir=None)), 4)
    assert elapsed >= 0.95  # 4 requests, at least 1/3 s apart


def test_rate_limit_ten_per_second_with_key(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        fixture_json("esearch.json")
    )
    client = PubMedClient(settings.replace(cache_dir=None), api_key=SECRET)
    adapter = client.session.get_adapter(f"{settings.eutils_url}/esearch.fcgi")
    assert adapter.min_interval == pytest.approx(0.1)
    assert _timed_searches(client, 4) >= 0.28  # 4 requests, at least 1/10 s apart


def test_cache_hits_are_not_throttled(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        fixture_json("esearch.json")
    )
    client = PubMedClient(settings)
    client.esearch("SYNTHETIC")
    start = time.monotonic()
    for _ in range(5):
        client.esearch("SYNTHETIC")
    assert time.monotonic() - start < 1.0  # five throttled requests would take 5/3 s
    assert len(httpserver.log) == 1


# ----------------------------------------------------------------------------- ClinicalTrials.gov


def _serve_two_pages(httpserver):
    httpserver.expect_request(
        "/ctgov/studies", query_string={
            "query.cond": "complex regional pain syndrome",
            "query.intr": '"ketamine" OR "esketamine"',
            "pageSize": "100", "format": "json",
        }
    ).respond_with_json(fixture_json("ctgov_page1.json"))
    httpserver.expect_request(
        "/ctgov/studies", query_string={
            "query.cond": "complex regional pain syndrome",
            "query.intr": '"ketamine" OR "esketamine"',
            "pageSize": "100", "format": "json", "pageToken": "SYNTHETIC-TOKEN-2",
        }
    ).respond_with_json(fixture_json("ctgov_page2.json"))


def test_pagination_and_tidy_frame(httpserver, settings):
    _serve_two_pages(httpserver)
    studies = ClinicalTrialsClient(settings).search_studies(
        "complex regional pain syndrome", ["ketamine", "esketamine"]
    )
    assert len(studies) == 4 and len(httpserver.log) == 2
    frame = studies_frame(studies)
    assert tuple(frame.columns) == TRIAL_COLUMNS
    assert list(frame["nct_id"]) == ["NCT00000001", "NCT00000000", "NCT00000002"]
    assert frame["title"].str.startswith("SYNTHETIC").all()
    a = frame.set_index("nct_id").loc["NCT00000000"]
    assert a["phase"] == "PHASE2/PHASE3"
    assert a["enrollment"] == 40 and a["enrollment_type"] == "ACTUAL"
    assert a["start_date"] == "2019-03" and a["completion_date"] == "2021-06-30"
    assert a["sponsor"] == "SYNTHETIC University Hospital"
    c = frame.set_index("nct_id").loc["NCT00000002"]
    assert pd.isna(c["enrollment"]) and pd.isna(c["phase"]) and pd.isna(c["completion_date"])
    assert str(frame["enrollment"].dtype) == "Int64"


def test_repeated_page_token_stops(httpserver, settings):
    httpserver.expect_request("/ctgov/studies").respond_with_json(
        fixture_json("ctgov_page1.json")
    )
    with pytest.raises(ClientError, match="page token came back twice"):
        ClinicalTrialsClient(settings).search_studies("crps")


def test_page_limit(httpserver, settings):
    page = fixture_json("ctgov_page1.json")

    def handler(request: Request) -> Response:
        page["nextPageToken"] = f"T{len(httpserver.log)}"
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request("/ctgov/studies").respond_with_handler(handler)
    with pytest.raises(ClientError, match="more than 3 pages"):
        ClinicalTrialsClient(settings).search_studies("crps", max_pages=3)


def test_study_by_nct_id(httpserver, settings):
    httpserver.expect_request("/ctgov/studies/NCT00000001").respond_with_json(
        fixture_json("ctgov_study.json")
    )
    study = ClinicalTrialsClient(settings).study("nct00000001")
    assert study["protocolSection"]["identificationModule"]["nctId"] == "NCT00000001"


@pytest.mark.parametrize("bad", ["NCT1234567", "NCT123456789", "12345678", "NCTABCDEFGH", "",
                                 "NCT00000001/../x"])
def test_malformed_nct_rejected_before_any_request(httpserver, settings, bad):
    assert not is_valid_nct_id(bad)
    with pytest.raises(ValueError, match="malformed NCT id"):
        ClinicalTrialsClient(settings).study(bad)
    assert httpserver.log == []


def test_studies_frame_rejects_record_without_nct():
    with pytest.raises(ClientError, match="no valid NCT id"):
        studies_frame([{"protocolSection": {"identificationModule": {"nctId": "12"}}}])


def test_studies_frame_empty():
    frame = studies_frame([])
    assert frame.empty and tuple(frame.columns) == TRIAL_COLUMNS


# ----------------------------------------------------------------------------- shared session


def test_clients_share_one_session(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_json(
        fixture_json("crossref_work.json")
    )
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        fixture_json("esearch.json")
    )
    with Clients(settings) as api:
        assert api.crossref.session is api.pubmed.session is api.trials.session
        assert api.crossref.work(DOI)["DOI"] == DOI
        assert api.pubmed.esearch("SYNTHETIC")
    session = build_session(settings.replace(cache_dir=None))
    adapter = session.get_adapter("https://example.org/")
    assert adapter.max_retries.total == settings.retries
    assert 429 in adapter.max_retries.status_forcelist
    assert adapter.max_retries.respect_retry_after_header


def test_api_key_echoed_by_the_service_is_redacted(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        {"error": "API key invalid", "api-key": SECRET}, status=400
    )
    client = PubMedClient(settings, api_key=SECRET)
    with pytest.raises(ClientError, match="API key invalid") as info:
        client.esearch("SYNTHETIC")
    assert SECRET not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize(
    "idlist, expected", [(["900000001"], "900000001"), ([], None),
                         (["900000001", "900000002"], None), (["900000002"], None)],
)
def test_pmid_for_doi(httpserver, settings, idlist, expected):
    answer = fixture_json("esearch.json")
    answer["esearchresult"]["idlist"] = idlist
    httpserver.expect_request(
        "/eutils/esearch.fcgi", query_string={
            "tool": "crps-evidence", "email": "tests@example.org", "db": "pubmed",
            "term": f'"{DOI}"[doi]', "retmax": "5", "retmode": "json"},
    ).respond_with_json(answer)
    httpserver.expect_request("/eutils/esummary.fcgi").respond_with_json(
        fixture_json("esummary.json")
    )
    # 900000002 carries another DOI, so it is not accepted
    assert PubMedClient(settings).pmid_for_doi(DOI.upper()) == expected


# ----------------------------------------------------------------------------- PubMed search


def _search_params(**extra: str) -> dict[str, str]:
    return {"tool": "crps-evidence", "email": "tests@example.org", "db": "pubmed",
            "term": "SYNTHETIC", "retmode": "json", **extra}


def test_search_pages_through_a_date_range(httpserver, settings):
    dates = {"mindate": "2026/11/01", "maxdate": "2026/12/05", "datetype": "edat"}
    httpserver.expect_request("/eutils/esearch.fcgi", query_string=_search_params(
        retmax="2", retstart="0", **dates)).respond_with_json(fixture_json("esearch_page1.json"))
    httpserver.expect_request("/eutils/esearch.fcgi", query_string=_search_params(
        retmax="2", retstart="2", **dates)).respond_with_json(fixture_json("esearch_page2.json"))
    hits = PubMedClient(settings).search("SYNTHETIC", mindate="2026-11-01",
                                         maxdate=date(2026, 12, 5), page_size=2)
    assert hits.count == 4
    assert hits.pmids == ["900000103", "900000102", "900000101", "11111111"]
    assert hits.notes == []
    assert len(httpserver.log) == 2


def test_search_without_mindate_asks_from_the_start(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi", query_string=_search_params(
        retmax="1000", retstart="0", mindate="1800/01/01", maxdate="2026/12/05",
        datetype="edat")).respond_with_json(fixture_json("esearch.json"))
    hits = PubMedClient(settings).search("SYNTHETIC", maxdate="2026-12-05")
    assert hits.pmids == ["900000001", "900000002"]


def test_empty_search_keeps_pubmeds_remarks(httpserver, settings):
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(
        fixture_json("esearch_empty.json"))
    hits = PubMedClient(settings).search("SYNTHETIC", mindate="2026-11-01",
                                         maxdate="2026-12-05")
    assert hits == (0, [], ["phrase not found: syntheticzz[tiab]"])
    assert len(httpserver.log) == 1


def test_search_beyond_what_esearch_hands_out_is_refused(httpserver, settings):
    answer = fixture_json("esearch_page1.json")
    answer["esearchresult"]["count"] = "10001"
    httpserver.expect_request("/eutils/esearch.fcgi").respond_with_json(answer)
    with pytest.raises(ClientError, match="10001 records, more than the 10000"):
        PubMedClient(settings).search("SYNTHETIC", maxdate="2026-12-05")


@pytest.mark.parametrize("kwargs, message", [
    ({"mindate": "2026-11-01"}, "needs a maxdate"),
    ({"mindate": "2026-13-01", "maxdate": "2026-12-05"}, "expected a date as YYYY-MM-DD"),
    ({"mindate": "2026-12-06", "maxdate": "2026-12-05"}, "is after maxdate"),
    ({"datetype": "xdat"}, "datetype 'xdat'"),
    ({"page_size": 0}, "page_size 0"),
])
def test_search_arguments_checked_before_any_request(httpserver, settings, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PubMedClient(settings).search("SYNTHETIC", **kwargs)
    assert httpserver.log == []
