"""Clients for Crossref, DOI content negotiation, NCBI E-utilities and ClinicalTrials.gov.

All clients share one :class:`requests.Session` (a :class:`requests_cache.CachedSession`
unless caching is turned off) built by :func:`build_session`:

* every request carries a ``(connect, read)`` timeout;
* HTTP 429, 500, 502, 503 and 504 and dropped connections are retried with exponential
  backoff by urllib3's :class:`~urllib3.util.Retry`, which honours ``Retry-After``;
* the User-Agent names the tool and the contact address (``CRPS_EVIDENCE_CONTACT``);
* successful (HTTP 200) answers are kept in an on-disk SQLite cache, so asking twice costs
  one request; answers that fail validation are evicted again.

Every failure of a service surfaces as :class:`~crps_evidence.errors.ClientError` with a
message naming the service, the address (never its query string) and what went wrong.
Malformed identifiers raise :class:`ValueError` before any request is sent.

Examples
--------
>>> from crps_evidence.clients import Clients
>>> with Clients() as api:                                   # doctest: +SKIP
...     meta = api.crossref.work("10.1016/j.pain.2009.06.023")
...     bib = api.crossref.bibtex("10.1016/j.pain.2009.06.023")
...     pmids = api.pubmed.esearch("complex regional pain syndrome ketamine")
...     studies = api.trials.search_studies("complex regional pain syndrome", ["ketamine"])
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import bibtexparser
import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .config import Settings, get_settings
from .errors import ClientError
from .references import is_valid_doi, is_valid_pmid, normalize_doi

__all__ = [
    "RETRY_STATUSES",
    "TRIAL_COLUMNS",
    "Clients",
    "ClinicalTrialsClient",
    "CrossrefClient",
    "NotFoundError",
    "PubMedClient",
    "build_session",
    "is_valid_nct_id",
    "parse_bibtex_entry",
    "studies_frame",
]

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
"""HTTP statuses retried with backoff."""

MAX_RETRY_AFTER = 120.0
"""Longest ``Retry-After`` (seconds) the clients will wait before giving up."""

NCT_PATTERN = re.compile(r"^NCT\d{8}$")

TRIAL_COLUMNS = (
    "nct_id",
    "title",
    "status",
    "phase",
    "enrollment",
    "enrollment_type",
    "start_date",
    "completion_date",
    "sponsor",
)
"""Columns of the tidy trials table, in order."""

ESUMMARY_BATCH = 200


class NotFoundError(ClientError):
    """The service answered HTTP 404: the DOI, PMID or study does not exist there."""


def is_valid_nct_id(nct_id: str) -> bool:
    """Whether ``nct_id`` is a ClinicalTrials.gov identifier (``NCT`` and eight digits).

    >>> is_valid_nct_id("NCT01234567"), is_valid_nct_id("nct1234")
    (True, False)
    """
    return bool(NCT_PATTERN.match(nct_id))


def _checked_doi(doi: str) -> str:
    bare = normalize_doi(doi)
    if not is_valid_doi(bare):
        raise ValueError(
            f"malformed DOI {doi!r}: expected '10.<registrant>/<suffix>' "
            "(a https://doi.org/ prefix is accepted)"
        )
    return bare


class _CappedRetry(Retry):
    """urllib3 ``Retry`` that never sleeps longer than :data:`MAX_RETRY_AFTER`."""

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER)


class _ThrottledAdapter(HTTPAdapter):
    """HTTP adapter spacing requests at least ``min_interval`` seconds apart.

    Cache hits never reach the adapter, so only real network requests are throttled.
    """

    def __init__(self, min_interval: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._last = 0.0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        with self._lock:
            wait = self._last + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
        return super().send(request, **kwargs)


def _retry(settings: Settings) -> Retry:
    return _CappedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        backoff_factor=settings.backoff_factor,
        backoff_max=MAX_RETRY_AFTER,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def build_session(settings: Settings | None = None) -> requests.Session:
    """Create the shared HTTP session.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`crps_evidence.config.get_settings`.

    Returns
    -------
    requests.Session
        A :class:`requests_cache.CachedSession` (SQLite file ``http_cache.sqlite`` in
        ``settings.cache_dir``) or, with caching off, a plain session; both retry and send
        the descriptive User-Agent.
    """
    settings = settings or get_settings()
    session: requests.Session
    if settings.cache_dir is not None:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        session = CachedSession(
            cache_name=str(settings.cache_dir / "http_cache.sqlite"),
            backend="sqlite",
            expire_after=timedelta(days=settings.cache_days),
            allowable_codes=(200,),
            allowable_methods=("GET", "HEAD"),
            match_headers=["Accept"],
            # Credentials are neither part of a cache key nor stored in the cache.
            ignored_parameters=(*DEFAULT_IGNORED_PARAMS, "api_key"),
        )
    else:
        session = requests.Session()
    adapter = HTTPAdapter(max_retries=_retry(settings))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = settings.user_agent
    return session


def _where(url: str) -> str:
    """URL without query string or fragment (which may hold credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _timed_out(exc: BaseException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ReadTimeoutError)


class _RedactFilter(logging.Filter):
    """Replace a secret in log records by ``***`` (urllib3 logs full URLs at DEBUG)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - malformed record, leave it to logging
            return True
        if self._secret in message:
            record.msg = message.replace(self._secret, "***")
            record.args = None
        return True


_REDACTED_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "requests_cache.session",
    "requests_cache.policy.actions",
    "requests_cache.policy.expiration",
    "requests_cache.backends.base",
)
_redacted: set[int] = set()


def _redact_in_logs(secret: str) -> None:
    marker = hash(secret)
    if marker in _redacted:
        return
    _redacted.add(marker)
    redactor = _RedactFilter(secret)
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(redactor)


class _Service:
    """Common request logic of the clients (one service, one shared session)."""

    service = "service"

    def __init__(
        self, settings: Settings | None = None, session: requests.Session | None = None
    ) -> None:
        self.settings = settings or get_settings()
        self.session = session if session is not None else build_session(self.settings)

    def _secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a message (e.g. an API key)."""
        return ()

    def _redact(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _discard(self, response: requests.Response) -> None:
        """Evict a response that failed validation from the cache."""
        key = getattr(response, "cache_key", None)
        if key and isinstance(self.session, CachedSession):
            self.session.cache.delete(key)

    def _get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        refresh: bool = False,
        what: str = "",
    ) -> requests.Response:
        where = _where(url)
        kwargs: dict[str, Any] = {
            "params": dict(params or {}),
            "headers": dict(headers or {}),
            "timeout": self.settings.timeout,
        }
        if refresh and isinstance(self.session, CachedSession):
            kwargs["force_refresh"] = True
        try:
            response = self.session.get(url, **kwargs)
        except requests.RequestException as exc:
            if isinstance(exc, requests.ConnectTimeout):
                raise ClientError(
                    f"{self.service}: cannot connect to {where} within "
                    f"{self.settings.connect_timeout:g} s; check the network connection"
                ) from None
            if _timed_out(exc):
                raise ClientError(
                    f"{self.service}: no answer from {where} within "
                    f"{self.settings.read_timeout:g} s (tried {self.settings.retries + 1} "
                    "times); the service may be down, try again later"
                ) from None
            if isinstance(exc, requests.ConnectionError):
                raise ClientError(
                    f"{self.service}: cannot connect to {where}; check the network "
                    "connection (the service may be down)"
                ) from None
            raise ClientError(
                f"{self.service}: request to {where} failed ({type(exc).__name__})"
            ) from None
        status = response.status_code
        if status == 200:
            return response
        label = what or where
        if status == 404:
            raise NotFoundError(f"{self.service}: {label} not found (HTTP 404 from {where})")
        if status == 429:
            raise ClientError(
                f"{self.service}: rate limit still exceeded after {self.settings.retries} "
                f"retries (HTTP 429 from {where}); wait a while and try again"
            )
        if status >= 500:
            raise ClientError(
                f"{self.service}: server error HTTP {status} from {where} after "
                f"{self.settings.retries} retries; try again later"
            )
        snippet = self._redact(" ".join(response.text.split()))[:200]
        raise ClientError(
            f"{self.service}: HTTP {status} from {where} for {label}"
            + (f": {snippet}" if snippet else "")
        )

    def _get_json(self, url: str, **kwargs: Any) -> Any:
        response = self._get(url, **kwargs)
        try:
            return response.json()
        except ValueError:
            self._discard(response)
            raise ClientError(
                f"{self.service}: the answer from {_where(url)} is not valid JSON "
                "(truncated or garbled); try again later"
            ) from None


class CrossrefClient(_Service):
    """Crossref REST API (``/works/{doi}``) and BibTeX by DOI content negotiation.

    Parameters
    ----------
    settings : Settings, optional
        Base URLs, contact, timeouts, cache; defaults to :func:`get_settings`.
    session : requests.Session, optional
        Session to share with other clients; defaults to a new :func:`build_session`.
    """

    service = "Crossref"

    def work(self, doi: str, *, refresh: bool = False) -> dict[str, Any]:
        """Metadata of one work (the ``message`` object of ``/works/{doi}``).

        Parameters
        ----------
        doi : str
            Bare DOI or DOI URL.
        refresh : bool
            Ignore the cache and ask the service again.

        Returns
        -------
        dict
            Crossref's record: ``title`` (list), ``container-title`` (list), ``issued``
            (``{"date-parts": [[year, ...]]}``), ``author``, ``volume``, ``issue``,
            ``page``, ``DOI``...

        Raises
        ------
        ValueError
            Malformed DOI (no request is sent).
        NotFoundError
            Crossref does not know the DOI.
        ClientError
            Any other failure.
        """
        bare = _checked_doi(doi)
        url = f"{self.settings.crossref_url}/works/{quote(bare, safe='/')}"
        params = {"mailto": self.settings.contact}
        data = self._get_json(url, params=params, refresh=refresh, what=f"DOI {bare}")
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, dict) or (data.get("status") not in (None, "ok")):
            raise ClientError(f"Crossref: unexpected answer for DOI {bare} (no 'message')")
        return message

    def bibtex(self, doi: str, *, refresh: bool = False) -> str:
        """BibTeX of a work, by content negotiation on the DOI resolver.

        The text is checked: it must parse as exactly one complete BibTeX entry whose
        ``doi`` (when present) is the one asked for; anything else (a truncated answer, an
        HTML page) raises :class:`ClientError` and is evicted from the cache.

        Parameters
        ----------
        doi : str
            Bare DOI or DOI URL.
        refresh : bool
            Ignore the cache and ask again.

        Returns
        -------
        str
            The BibTeX text as served (UTF-8).

        Raises
        ------
        ValueError
            Malformed DOI (no request is sent).
        NotFoundError
            The resolver does not know the DOI.
        ClientError
            Any other failure, including an incomplete entry.
        """
        bare = _checked_doi(doi)
        url = f"{self.settings.doi_url}/{quote(bare, safe='/')}"
        response = self._get(
            url,
            headers={"Accept": "application/x-bibtex"},
            refresh=refresh,
            what=f"DOI {bare}",
        )
        try:
            text = response.content.decode("utf-8")
        except UnicodeDecodeError:
            text = response.content.decode("latin-1")
        try:
            _, _, fields = parse_bibtex_entry(text)
        except ValueError as exc:
            self._discard(response)
            raise ClientError(
                f"DOI content negotiation: unusable BibTeX for DOI {bare}: {exc}"
            ) from None
        served = fields.get("doi")
        if served and normalize_doi(served) != bare:
            self._discard(response)
            raise ClientError(
                f"DOI content negotiation: asked for DOI {bare} but the BibTeX is for {served}"
            )
        return text


def parse_bibtex_entry(text: str) -> tuple[str, str, dict[str, str]]:
    """Parse text that must hold exactly one complete BibTeX entry.

    Parameters
    ----------
    text : str
        BibTeX source.

    Returns
    -------
    tuple
        ``(entry_type, key, fields)``, entry type and field names in lower case.

    Raises
    ------
    ValueError
        If the text is empty, truncated (unbalanced braces), holds a block that does not
        parse, or holds more or fewer than one entry.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty answer")
    if not stripped.startswith("@"):
        raise ValueError(f"not BibTeX (starts with {stripped[:30]!r})")
    depth = 0
    for char in stripped:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            break
    if depth != 0 or not stripped.endswith(("}", ")")):
        raise ValueError("the entry is incomplete (truncated: braces do not balance)")
    library = bibtexparser.parse_string(stripped)
    if library.failed_blocks:
        raise ValueError("the entry does not parse")
    if len(library.entries) != 1:
        raise ValueError(f"expected one entry, found {len(library.entries)}")
    entry = library.entries[0]
    fields = {f.key.lower(): str(f.value).strip() for f in entry.fields}
    return entry.entry_type.lower(), entry.key, fields


class PubMedClient(_Service):
    """NCBI E-utilities for PubMed: ``esearch`` and ``esummary``.

    Requests are spaced to at most 3 per second, or 10 per second when an API key is
    given (argument ``api_key`` or environment variable ``NCBI_API_KEY``). The key is sent
    as the ``api_key`` parameter only; it is excluded from cache keys and cached records,
    redacted from urllib3/requests-cache log lines and error messages, and never shown by
    ``repr``.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`get_settings`.
    session : requests.Session, optional
        Session to share.
    api_key : str, optional
        NCBI API key; defaults to ``$NCBI_API_KEY``.
    """

    service = "NCBI E-utilities"
    tool = "crps-evidence"

    def __init__(
        self,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        *,
        api_key: str | None = None,
    ) -> None:
        super().__init__(settings, session)
        key = api_key if api_key is not None else os.environ.get("NCBI_API_KEY", "")
        self._api_key = key.strip() or None
        self.max_rate = 10 if self._api_key else 3
        if self._api_key:
            _redact_in_logs(self._api_key)
        throttle = _ThrottledAdapter(1.0 / self.max_rate, max_retries=_retry(self.settings))
        self.session.mount(self.settings.eutils_url + "/", throttle)

    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def __repr__(self) -> str:
        state = "set" if self._api_key else "not set"
        return f"PubMedClient({self.settings.eutils_url!r}, api key {state})"

    def _params(self, **params: Any) -> dict[str, Any]:
        base: dict[str, Any] = {"tool": self.tool, "email": self.settings.contact}
        base.update(params)
        base["retmode"] = "json"
        if self._api_key:
            base["api_key"] = self._api_key
        return base

    def esearch(self, term: str, *, retmax: int = 20, refresh: bool = False) -> list[str]:
        """PMIDs matching a PubMed query.

        Parameters
        ----------
        term : str
            PubMed query (field tags such as ``[ti]`` or ``[doi]`` allowed).
        retmax : int
            Most PMIDs to return (E-utilities caps it at 10,000).
        refresh : bool
            Ignore the cache.

        Returns
        -------
        list of str
            PMIDs in PubMed's order.

        Raises
        ------
        ValueError
            Empty query.
        ClientError
            Service failure or unexpected answer.
        """
        if not term.strip():
            raise ValueError("empty PubMed query")
        url = f"{self.settings.eutils_url}/esearch.fcgi"
        params = self._params(db="pubmed", term=term, retmax=int(retmax))
        data = self._get_json(url, params=params, refresh=refresh, what="search")
        result = data.get("esearchresult") if isinstance(data, dict) else None
        if not isinstance(result, dict) or "idlist" not in result:
            message = result.get("ERROR") if isinstance(result, dict) else None
            raise ClientError(
                "NCBI E-utilities: unexpected esearch answer"
                + (f": {self._redact(str(message))}" if message else
                   " (no 'esearchresult.idlist')")
            )
        return [str(pmid) for pmid in result["idlist"]]

    def pmid_for_doi(self, doi: str, *, refresh: bool = False) -> str | None:
        """The PMID of the PubMed record carrying a DOI, if there is exactly one.

        Searches ``"<doi>"[doi]`` and keeps the answer only when PubMed returns a single
        record whose own article ids list the same DOI.

        Parameters
        ----------
        doi : str
            Bare DOI or DOI URL.
        refresh : bool
            Ignore the cache.

        Returns
        -------
        str or None
            The PMID, or ``None`` when PubMed has no record or several.

        Raises
        ------
        ValueError
            Malformed DOI (no request is sent).
        ClientError
            Service failure.
        """
        bare = _checked_doi(doi)
        hits = self.esearch(f'"{bare}"[doi]', retmax=5, refresh=refresh)
        if len(hits) != 1:
            return None
        summary = self.esummary(hits, refresh=refresh).get(hits[0], {})
        dois = {
            normalize_doi(str(a.get("value", "")))
            for a in summary.get("articleids") or []
            if isinstance(a, dict) and a.get("idtype") == "doi"
        }
        return hits[0] if bare in dois else None

    def esummary(
        self, pmids: Iterable[str], *, refresh: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Document summaries of PubMed records.

        Parameters
        ----------
        pmids : iterable of str
            PubMed ids; asked for in batches of 200.
        refresh : bool
            Ignore the cache.

        Returns
        -------
        dict
            PMID to its summary (``title``, ``pubdate``, ``source``, ``fulljournalname``,
            ``volume``, ``issue``, ``pages``, ``authors``, ``articleids``...). PMIDs
            PubMed does not know are absent.

        Raises
        ------
        ValueError
            A malformed PMID (no request is sent).
        ClientError
            Service failure or unexpected answer.
        """
        ids = [str(p).strip() for p in pmids]
        bad = [p for p in ids if not is_valid_pmid(p)]
        if bad:
            raise ValueError(f"malformed PMID(s): {', '.join(map(repr, bad))}")
        ids = list(dict.fromkeys(ids))
        url = f"{self.settings.eutils_url}/esummary.fcgi"
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), ESUMMARY_BATCH):
            batch = ids[start : start + ESUMMARY_BATCH]
            params = self._params(db="pubmed", id=",".join(batch))
            data = self._get_json(url, params=params, refresh=refresh, what="summaries")
            result = data.get("result") if isinstance(data, dict) else None
            if not isinstance(result, dict):
                raise ClientError("NCBI E-utilities: unexpected esummary answer (no 'result')")
            for uid in result.get("uids", []):
                record = result.get(str(uid))
                if isinstance(record, dict) and "error" not in record:
                    found[str(uid)] = record
        return found


class ClinicalTrialsClient(_Service):
    """ClinicalTrials.gov API v2: study search (all pages) and single studies.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`get_settings`.
    session : requests.Session, optional
        Session to share.
    """

    service = "ClinicalTrials.gov"

    def search_studies(
        self,
        condition: str,
        interventions: Sequence[str] | None = None,
        *,
        page_size: int = 100,
        max_pages: int = 50,
        refresh: bool = False,
    ) -> list[dict[str, Any]]:
        """All studies matching a condition and, optionally, intervention terms.

        Follows ``nextPageToken`` until the last page.

        Parameters
        ----------
        condition : str
            ``query.cond`` expression, e.g. ``"complex regional pain syndrome"``.
        interventions : sequence of str, optional
            Terms joined with ``OR`` (each quoted) into ``query.intr``.
        page_size : int
            ``pageSize`` (the API allows up to 1000).
        max_pages : int
            Safety limit on the number of pages.
        refresh : bool
            Ignore the cache.

        Returns
        -------
        list of dict
            Raw study records (``protocolSection`` ...), in the API's order.

        Raises
        ------
        ClientError
            Service failure, malformed answer, repeated page token or too many pages.
        """
        url = f"{self.settings.ctgov_url}/studies"
        params = self.query_params(condition, interventions)
        params.update({"pageSize": int(page_size), "format": "json"})
        studies: list[dict[str, Any]] = []
        seen: set[str] = set()
        token: str | None = None
        for _ in range(max_pages):
            page = dict(params)
            if token:
                page["pageToken"] = token
            data = self._get_json(url, params=page, refresh=refresh, what="study search")
            batch = data.get("studies") if isinstance(data, dict) else None
            if not isinstance(batch, list):
                raise ClientError("ClinicalTrials.gov: unexpected answer (no 'studies' list)")
            studies.extend(s for s in batch if isinstance(s, dict))
            token = data.get("nextPageToken")
            if not token:
                return studies
            if token in seen:
                raise ClientError("ClinicalTrials.gov: the same page token came back twice")
            seen.add(token)
        raise ClientError(
            f"ClinicalTrials.gov: more than {max_pages} pages of {page_size} studies; "
            "narrow the query"
        )

    @staticmethod
    def query_params(condition: str, interventions: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``query.cond`` / ``query.intr`` parameters :meth:`search_studies` sends."""
        if not condition.strip():
            raise ValueError("empty condition")
        params: dict[str, Any] = {"query.cond": condition}
        terms = [t.strip() for t in interventions or () if t.strip()]
        if terms:
            params["query.intr"] = " OR ".join(f'"{t}"' for t in terms)
        return params

    def study(self, nct_id: str, *, refresh: bool = False) -> dict[str, Any]:
        """One study record by NCT id.

        Raises
        ------
        ValueError
            Malformed NCT id (no request is sent).
        NotFoundError
            Unknown study.
        ClientError
            Any other failure.
        """
        nct = nct_id.strip().upper()
        if not is_valid_nct_id(nct):
            raise ValueError(f"malformed NCT id {nct_id!r}: expected 'NCT' and eight digits")
        url = f"{self.settings.ctgov_url}/studies/{nct}"
        data = self._get_json(url, params={"format": "json"}, refresh=refresh, what=nct)
        if not isinstance(data, dict) or "protocolSection" not in data:
            raise ClientError(f"ClinicalTrials.gov: unexpected answer for {nct}")
        return data


def _dig(record: Mapping[str, Any], *path: str) -> Any:
    value: Any = record
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def studies_frame(studies: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Reduce ClinicalTrials.gov v2 study records to a tidy table.

    Parameters
    ----------
    studies : iterable of mapping
        Records as returned by :meth:`ClinicalTrialsClient.search_studies`.

    Returns
    -------
    pandas.DataFrame
        One row per study (duplicates dropped) with :data:`TRIAL_COLUMNS`: ``nct_id``,
        ``title`` (brief title), ``status`` (e.g. ``RECRUITING``), ``phase`` (e.g.
        ``PHASE2/PHASE3``, ``NA``), ``enrollment`` (nullable integer), ``enrollment_type``
        (``ACTUAL``/``ESTIMATED``), ``start_date`` and ``completion_date`` (as registered:
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), ``sponsor`` (lead sponsor). Sorted by
        start date, newest first.

    Raises
    ------
    ClientError
        A record without a well-formed NCT id.
    """
    rows = []
    for study in studies:
        protocol = study.get("protocolSection", {})
        nct = _dig(protocol, "identificationModule", "nctId")
        if not isinstance(nct, str) or not is_valid_nct_id(nct):
            raise ClientError(f"ClinicalTrials.gov: a study record has no valid NCT id ({nct!r})")
        phases = _dig(protocol, "designModule", "phases")
        count = _dig(protocol, "designModule", "enrollmentInfo", "count")
        rows.append(
            {
                "nct_id": nct,
                "title": _dig(protocol, "identificationModule", "briefTitle")
                or _dig(protocol, "identificationModule", "officialTitle"),
                "status": _dig(protocol, "statusModule", "overallStatus"),
                "phase": "/".join(phases) if isinstance(phases, list) and phases else None,
                "enrollment": count if isinstance(count, int) else None,
                "enrollment_type": _dig(protocol, "designModule", "enrollmentInfo", "type"),
                "start_date": _dig(protocol, "statusModule", "startDateStruct", "date"),
                "completion_date": _dig(protocol, "statusModule", "completionDateStruct", "date"),
                "sponsor": _dig(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name"),
            }
        )
    frame = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
    frame = frame.drop_duplicates("nct_id")
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    frame = frame.sort_values(
        ["start_date", "nct_id"], ascending=[False, True], na_position="last", kind="stable"
    )
    return frame.reset_index(drop=True)


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
