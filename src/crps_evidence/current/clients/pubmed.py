"""NCBI E-utilities for PubMed: ``esearch`` and ``esummary``, throttled to NCBI's rate."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

import requests

from ...config import Settings
from ...errors import ClientError
from ...evidence.references import is_valid_pmid, normalize_doi
from .crossref import checked_doi
from .http import Service, ThrottledAdapter, redact_in_logs, retry_policy

ESUMMARY_BATCH = 200

ESEARCH_LIMIT = 10_000
"""Most records ``esearch`` hands out for one search (``retstart`` + ``retmax``)."""

DATE_TYPES = ("edat", "pdat", "mdat")
"""``datetype`` values: Entrez date (entered PubMed), publication date, modification date."""


class SearchHits(NamedTuple):
    """What one PubMed search found (every page of it).

    Attributes
    ----------
    count : int
        Records PubMed counts for the search.
    pmids : list of str
        Their PMIDs, in PubMed's order (most recent first), without duplicates.
    notes : list of str
        PubMed's own remarks on the query (phrases or fields it did not recognise, output
        messages), worth reading: a term PubMed ignored is a term the search did not use.
    """

    count: int
    pmids: list[str]
    notes: list[str]


def _notes(result: dict[str, Any]) -> list[str]:
    """PubMed's errorlist/warninglist remarks, as short sentences."""
    labels = {
        "phrasesnotfound": "phrase not found",
        "fieldsnotfound": "field not found",
        "phrasesignored": "phrase ignored",
        "quotedphrasesnotfound": "quoted phrase not found",
        "outputmessages": "message",
    }
    notes = []
    for block in ("errorlist", "warninglist"):
        found = result.get(block)
        if not isinstance(found, dict):
            continue
        for name, label in labels.items():
            for item in found.get(name) or []:
                if str(item).strip() and str(item) != "No items found.":
                    notes.append(f"{label}: {item}")
    return notes


def _eutils_date(value: date | str, name: str) -> str:
    """``YYYY/MM/DD`` for E-utilities from a date or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} {value!r}: expected a date as YYYY-MM-DD") from None
    return value.strftime("%Y/%m/%d")


class PubMedClient(Service):
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
            redact_in_logs(self._api_key)
        throttle = ThrottledAdapter(1.0 / self.max_rate, max_retries=retry_policy(self.settings))
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
        params = self._params(db="pubmed", term=term, retmax=int(retmax))
        result = self._esearch_result(params, refresh)
        return [str(pmid) for pmid in result["idlist"]]

    def _esearch_result(self, params: dict[str, Any], refresh: bool) -> dict[str, Any]:
        url = f"{self.settings.eutils_url}/esearch.fcgi"
        data = self._get_json(url, params=params, refresh=refresh, what="search")
        result = data.get("esearchresult") if isinstance(data, dict) else None
        if not isinstance(result, dict) or "idlist" not in result:
            message = result.get("ERROR") if isinstance(result, dict) else None
            raise ClientError(
                "NCBI E-utilities: unexpected esearch answer"
                + (f": {self._redact(str(message))}" if message else
                   " (no 'esearchresult.idlist')")
            )
        return result

    def search(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "edat",
        page_size: int = 1000,
        refresh: bool = False,
    ) -> SearchHits:
        """Every PMID a PubMed query finds, optionally within a date range, page by page.

        Pages of ``page_size`` are asked for with ``retstart`` until PubMed's count is
        reached (each request throttled like every other, and cached).

        Parameters
        ----------
        term : str
            PubMed query.
        mindate, maxdate : date or str, optional
            First and last day (inclusive, ``YYYY-MM-DD`` or :class:`datetime.date`);
            E-utilities needs both or neither. Without ``mindate`` every record up to
            ``maxdate`` is asked for.
        datetype : str
            Which date the range applies to: ``edat`` (the day the record entered PubMed,
            right for "what is new since"), ``pdat`` (publication) or ``mdat``
            (modification).
        page_size : int
            ``retmax`` of each page (at most 10,000).
        refresh : bool
            Ignore the cache.

        Returns
        -------
        SearchHits
            Count, PMIDs (PubMed's order, no duplicates) and PubMed's remarks on the query.

        Raises
        ------
        ValueError
            Empty query, a malformed date, an unknown ``datetype`` or a bad page size (no
            request is sent).
        ClientError
            Service failure, unexpected answer, or more records than esearch hands out
            (10,000: narrow the query or the date range).

        Examples
        --------
        >>> from crps_evidence.current.clients import PubMedClient
        >>> hits = PubMedClient().search("ketamine AND crps", mindate="2026-01-01",
        ...                              maxdate="2026-06-30")      # doctest: +SKIP
        >>> hits.count, hits.pmids[:2]                               # doctest: +SKIP
        """
        if not term.strip():
            raise ValueError("empty PubMed query")
        if datetype not in DATE_TYPES:
            raise ValueError(f"datetype {datetype!r}: expected one of {', '.join(DATE_TYPES)}")
        if not 1 <= int(page_size) <= ESEARCH_LIMIT:
            raise ValueError(f"page_size {page_size!r}: expected 1 to {ESEARCH_LIMIT}")
        dates: dict[str, str] = {}
        if mindate is not None or maxdate is not None:
            if maxdate is None:
                raise ValueError("a search with mindate needs a maxdate (E-utilities asks both)")
            dates = {"datetype": datetype, "maxdate": _eutils_date(maxdate, "maxdate"),
                     "mindate": _eutils_date(mindate if mindate is not None else "1800-01-01",
                                             "mindate")}
            if dates["mindate"] > dates["maxdate"]:
                raise ValueError(f"mindate {mindate} is after maxdate {maxdate}")
        pmids: dict[str, None] = {}
        notes: list[str] = []
        count = 0
        start = 0
        while True:
            params = self._params(db="pubmed", term=term, retmax=int(page_size),
                                  retstart=start, **dates)
            result = self._esearch_result(params, refresh)
            try:
                count = int(result.get("count", 0))
            except (TypeError, ValueError):
                raise ClientError("NCBI E-utilities: esearch answer without a numeric "
                                  f"count ({result.get('count')!r})") from None
            if start == 0:
                notes = _notes(result)
                if count > ESEARCH_LIMIT:
                    raise ClientError(
                        f"NCBI E-utilities: the search finds {count} records, more than the "
                        f"{ESEARCH_LIMIT} esearch hands out; narrow the query or the date range"
                    )
            page = [str(p) for p in result["idlist"]]
            pmids.update(dict.fromkeys(page))
            start += len(page)
            if not page or start >= count:
                return SearchHits(count, list(pmids), notes)

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
        bare = checked_doi(doi)
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


