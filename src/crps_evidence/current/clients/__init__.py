"""Clients for Crossref, DOI content negotiation, NCBI E-utilities and ClinicalTrials.gov.

One module per service (:mod:`.crossref` for Crossref and doi.org, :mod:`.pubmed`,
:mod:`.clinicaltrials`) on the shared machinery of :mod:`.http`. All clients share one
:class:`requests.Session` (a :class:`requests_cache.CachedSession` unless caching is turned
off) built by :func:`build_session`:

* every request carries a ``(connect, read)`` timeout;
* HTTP 429, 500, 502, 503 and 504 and dropped connections are retried with exponential
  backoff by urllib3's :class:`~urllib3.util.Retry`, which honours ``Retry-After``; a
  connection cut while the body is read is retried the same way;
* a wait longer than ``CRPS_EVIDENCE_NOTICE_WAIT`` (5 s) is announced on the
  ``crps_evidence.current.clients`` logger (what, how long, Ctrl+C to stop), and a ``Retry-After``
  beyond ``CRPS_EVIDENCE_MAX_WAIT`` (60 s) is not waited for: the request fails at once;
* the User-Agent names the tool and the contact address (``CRPS_EVIDENCE_CONTACT``);
* successful (HTTP 200) answers are kept in an on-disk SQLite cache, so asking twice costs
  one request; answers that fail validation are evicted again.

Every failure of a service surfaces as :class:`~crps_evidence.errors.ClientError` with a
message naming the service, the address (never its query string) and what went wrong.
Malformed identifiers raise :class:`ValueError` before any request is sent.

Examples
--------
>>> from crps_evidence.current.clients import Clients
>>> with Clients() as api:                                   # doctest: +SKIP
...     meta = api.crossref.work("10.1016/j.pain.2009.06.023")
...     bib = api.crossref.bibtex("10.1016/j.pain.2009.06.023")
...     pmids = api.pubmed.esearch("complex regional pain syndrome ketamine")
...     new = api.pubmed.search("crps AND ketamine", mindate="2026-01-01", maxdate="2026-06-30")
...     studies = api.trials.search_studies("complex regional pain syndrome", ["ketamine"])
"""

from __future__ import annotations

from ...config import Settings, get_settings
from .clinicaltrials import TRIAL_COLUMNS, ClinicalTrialsClient, is_valid_nct_id, studies_frame
from .crossref import CrossrefClient, parse_bibtex_entry
from .http import MAX_RETRY_AFTER, RETRY_STATUSES, NotFoundError, build_session
from .pubmed import PubMedClient, SearchHits

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "TRIAL_COLUMNS",
    "Clients",
    "ClinicalTrialsClient",
    "CrossrefClient",
    "NotFoundError",
    "PubMedClient",
    "SearchHits",
    "build_session",
    "is_valid_nct_id",
    "parse_bibtex_entry",
    "studies_frame",
]


class Clients:
    """The three clients on one shared session.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`get_settings`.
    api_key : str, optional
        NCBI API key; defaults to ``$NCBI_API_KEY``.

    Attributes
    ----------
    crossref : CrossrefClient
    pubmed : PubMedClient
    trials : ClinicalTrialsClient
    session : requests.Session
    """

    def __init__(self, settings: Settings | None = None, *, api_key: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.session = build_session(self.settings)
        self.crossref = CrossrefClient(self.settings, self.session)
        self.pubmed = PubMedClient(self.settings, self.session, api_key=api_key)
        self.trials = ClinicalTrialsClient(self.settings, self.session)

    def close(self) -> None:
        """Close the session (and the cache database)."""
        self.session.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
