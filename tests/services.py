"""E-utilities and ClinicalTrials.gov v2 as pytest-httpserver handlers, for the update tests.

The answers are the synthetic fixtures of ``tests/fixtures/http`` (real shapes, made-up
records), cut the way the services cut them: ``esearch`` honours ``retstart`` and
``retmax`` and reports the full ``count``; ``esummary`` returns the ids asked for;
ClinicalTrials.gov pages with ``nextPageToken``. Faults (a 429 with ``Retry-After``, a 503)
are switched on per query. Nothing in the package is patched: the clients are pointed at
this server through their settings.
"""

from __future__ import annotations

import json
from collections import Counter

from werkzeug import Request, Response

from .http_fixtures import fixture_json

#: Intervention block of each minidata search (tests/fixtures/minidata/searches.csv).
TERMS = {"alpha-cream": '"SYNTHETIC alpha cream"[tiab]', "alpha": '"SYNTHETIC alpha"[tiab]',
         "beta": '"SYNTHETIC beta"[tiab]'}


def _json(payload: object, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, headers=headers or {},
                    content_type="application/json")


class FakeServices:
    """PubMed hits and registrations per minidata treatment, served on ``httpserver``.

    Attributes
    ----------
    pmids : dict
        Treatment to the PMIDs its esearch finds (newest first), whatever the date range.
    pages : dict
        Treatment to its ClinicalTrials.gov answer pages (fixture names).
    rate_limited, broken : set
        Treatments whose first esearch answers HTTP 429 (``Retry-After: 1``), and whose
        registry search always answers HTTP 503.
    while_asked : dict
        Treatment to a function called (in the server) when its registry search arrives:
        something that happens elsewhere while the update runs.
    """

    def __init__(self, httpserver) -> None:
        self.pmids = {"alpha": ["900000103", "900000102", "900000101", "11111111"],
                      "alpha-cream": [], "beta": ["900000101", "900000104"]}
        self.pages = {"alpha": ["ctgov_page1.json", "ctgov_page2.json"]}
        self.rate_limited: set[str] = set()
        self.broken: set[str] = set()
        self.while_asked: dict = {}
        self.asked: Counter[str] = Counter()
        httpserver.expect_request("/eutils/esearch.fcgi").respond_with_handler(self.esearch)
        httpserver.expect_request("/eutils/esummary.fcgi").respond_with_handler(self.esummary)
        httpserver.expect_request("/ctgov/studies").respond_with_handler(self.studies)

    @staticmethod
    def treatment_of_term(term: str) -> str:
        return next(t for t, block in TERMS.items() if block in term)

    def esearch(self, request: Request) -> Response:
        treatment = self.treatment_of_term(request.args["term"])
        self.asked[f"esearch {treatment}"] += 1
        if treatment in self.rate_limited and self.asked[f"esearch {treatment}"] == 1:
            return Response("API rate limit exceeded", status=429,
                            headers={"Retry-After": "1"}, content_type="text/plain")
        found = self.pmids[treatment]
        if not found:
            return _json(fixture_json("esearch_empty.json"))
        start, size = int(request.args["retstart"]), int(request.args["retmax"])
        page = found[start:start + size]
        answer = fixture_json("esearch_page1.json")
        answer["esearchresult"].update({"count": str(len(found)), "retmax": str(len(page)),
                                        "retstart": str(start), "idlist": page})
        return _json(answer)

    def esummary(self, request: Request) -> Response:
        ids = request.args["id"].split(",")
        known = fixture_json("esummary_new.json")["result"]
        result: dict = {"uids": ids}
        for uid in ids:
            result[uid] = known.get(uid, {"uid": uid, "error": "cannot get document summary"})
        return _json({"header": {"type": "esummary", "version": "0.3"}, "result": result})

    def studies(self, request: Request) -> Response:
        intervention = request.args["query.intr"]
        treatment = next(t for t in TERMS if intervention == f'"SYNTHETIC {t.replace("-", " ")}"')
        self.asked[f"ctgov {treatment}"] += 1
        if treatment in self.while_asked:
            self.while_asked[treatment]()
        if treatment in self.broken:
            return Response("<html><body>503 Service Temporarily Unavailable</body></html>",
                            status=503, headers={"Retry-After": "0"}, content_type="text/html")
        pages = self.pages.get(treatment)
        if not pages:
            return _json({"studies": []})
        return _json(fixture_json(pages[1] if request.args.get("pageToken") else pages[0]))
