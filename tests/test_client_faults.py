"""Client faults seen against real services, replayed on pytest-httpserver (issue 15).

Each answer has the shape of the real one: doi.org answering content negotiation with a 302
to Crossref's ``/v1/works/{doi}/transform``, Crossref's 429 with a long ``Retry-After``, a
connection cut in the middle of a JSON body. Nothing is patched: the clients are pointed at
the local server through :class:`Settings`.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
from werkzeug import Request, Response

from crps_evidence.current.clients import CrossrefClient, NotFoundError
from crps_evidence.errors import ClientError

from .http_fixtures import fixture_text

DOI = "10.5555/synthetic.0001"
TRANSFORM = f"/crossref/v1/works/{DOI}/transform"
HANDLE_REDIRECT = (
    "<html><head><title>Handle Redirect</title></head><body><a href=\"{0}\">{0}</a></body>"
    "</html>"
)


def serve_doi_redirect(httpserver) -> None:
    """doi.org's answer to ``Accept: application/x-bibtex``: 302 to Crossref's transform."""
    target = httpserver.url_for(TRANSFORM)
    httpserver.expect_request(f"/doi/{DOI}").respond_with_data(
        HANDLE_REDIRECT.format(target), status=302,
        headers={"Location": target}, content_type="text/html;charset=utf-8",
    )


# ----------------------------------------------------------------- doi.org and the cache


def test_bad_bibtex_after_redirect_is_not_kept_under_either_key(httpserver, settings):
    serve_doi_redirect(httpserver)
    httpserver.expect_oneshot_request(TRANSFORM).respond_with_data(
        fixture_text("bibtex_truncated.bib"), content_type="application/x-bibtex")
    httpserver.expect_request(TRANSFORM).respond_with_data(
        fixture_text("bibtex_ok.bib"), content_type="application/x-bibtex")
    with pytest.raises(ClientError, match=r"^doi\.org: unusable BibTeX .*after a redirect"):
        CrossrefClient(settings).bibtex(DOI)
    # A new session on the same cache folder, as on the next run of the command.
    text = CrossrefClient(settings).bibtex(DOI)
    assert "Testperson_2009" in text
    paths = [request.path for request, _ in httpserver.log]
    assert paths.count(TRANSFORM) == 2, "the bad transform answer was served from the cache"
    # The good answer is kept: asking again costs no request.
    CrossrefClient(settings).bibtex(DOI)
    assert len(httpserver.log) == 4


def test_doi_org_errors_are_labelled_doi_org(httpserver, settings):
    serve_doi_redirect(httpserver)
    httpserver.expect_request(TRANSFORM).respond_with_data("Bad Gateway", status=502)
    with pytest.raises(ClientError) as info:
        CrossrefClient(settings).bibtex(DOI)
    message = str(info.value)
    assert message.startswith("doi.org: server error HTTP 502")
    assert "Crossref" not in message.split(":")[0]
    assert f"redirected from {settings.doi_url}/{DOI}" in message


def test_doi_org_404_is_labelled_doi_org(httpserver, settings):
    httpserver.expect_request(f"/doi/{DOI}").respond_with_json(
        {"responseCode": 100, "handle": DOI}, status=404)
    with pytest.raises(NotFoundError, match=r"^doi\.org: DOI 10\.5555/synthetic\.0001 not found"):
        CrossrefClient(settings).bibtex(DOI)


# ----------------------------------------------------------------- Retry-After


def test_retry_after_beyond_the_limit_fails_at_once(httpserver, settings):
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        "Too Many Requests", status=429,
        headers={"Retry-After": "3600", "X-Rate-Limit-Limit": "50",
                 "X-Rate-Limit-Interval": "1s"},
    )
    start = time.monotonic()
    with pytest.raises(ClientError) as info:
        CrossrefClient(settings.replace(max_wait=60.0)).work(DOI)
    assert time.monotonic() - start < 5, "waited although the wait is beyond the limit"
    assert len(httpserver.log) == 1
    message = str(info.value)
    assert message.startswith("Crossref: HTTP 429")
    assert "asks to wait 3600 s" in message and "60 s" in message
    assert "try again later" in message


def test_long_retry_after_is_announced(httpserver, settings, caplog):
    httpserver.expect_oneshot_request(f"/crossref/works/{DOI}").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "1"})
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        fixture_text("crossref_work.json"), content_type="application/json")
    caplog.set_level(logging.WARNING, logger="crps_evidence.current.clients")
    client = CrossrefClient(settings.replace(notice_wait=0.5))
    assert client.work(DOI)["DOI"] == DOI
    (notice,) = [r for r in caplog.records if r.name.startswith("crps_evidence.current.clients")]
    text = notice.getMessage()
    assert text.startswith("Crossref: HTTP 429 from http://")  # what
    assert "/crossref/works/" in text and "mailto" not in text  # where, no query string
    assert "waiting 1 s" in text  # how long
    assert "Ctrl+C" in text  # how to stop


def test_short_waits_are_not_announced(httpserver, settings, caplog):
    httpserver.expect_oneshot_request(f"/crossref/works/{DOI}").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "1"})
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_data(
        fixture_text("crossref_work.json"), content_type="application/json")
    caplog.set_level(logging.WARNING, logger="crps_evidence.current.clients")
    CrossrefClient(settings).work(DOI)  # notice_wait defaults to 5 s
    assert not [r for r in caplog.records if r.name.startswith("crps_evidence.current.clients")]


# ----------------------------------------------------------------- cut connections


def _cut_body(body: bytes) -> Response:
    """The first bytes of ``body`` and then a dropped connection (Content-Length promised)."""

    def stream():
        yield body[: len(body) // 3]
        raise ConnectionAbortedError("SYNTHETIC: connection cut by the test server")

    return Response(stream(), headers={"Content-Length": str(len(body))},
                    content_type="application/json")


def test_connection_cut_in_the_body_is_retried(httpserver, settings):
    body = fixture_text("crossref_work.json").encode()
    served: list[int] = []

    def handler(request: Request) -> Response:
        served.append(1)
        return _cut_body(body) if len(served) == 1 else Response(
            body, content_type="application/json")

    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_handler(handler)
    assert CrossrefClient(settings).work(DOI)["DOI"] == DOI
    assert len(served) == 2
    # The whole answer was cached: no third request.
    assert CrossrefClient(settings).work(DOI) == json.loads(body)["message"]
    assert len(served) == 2


def test_connection_cut_every_time_gives_a_clear_error(httpserver, settings):
    body = fixture_text("crossref_work.json").encode()
    httpserver.expect_request(f"/crossref/works/{DOI}").respond_with_handler(
        lambda request: _cut_body(body))
    with pytest.raises(ClientError, match=r"^Crossref: the connection to .* was cut while the "
                                          r"answer was being read \(tried 3 times\)"):
        CrossrefClient(settings).work(DOI)
    assert len(httpserver.log) == settings.retries + 1
