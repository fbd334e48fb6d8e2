"""NCBI E-utilities for PubMed: ``esearch`` and ``esummary``, throttled to NCBI's rate."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import requests

from ..config import Settings
from ..errors import ClientError
from ..references import is_valid_pmid, normalize_doi
from .crossref import checked_doi
from .http import Service, ThrottledAdapter, redact_in_logs, retry_policy

ESUMMARY_BATCH = 200

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


