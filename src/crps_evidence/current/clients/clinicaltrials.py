"""ClinicalTrials.gov API v2: study search (all pages), single studies and a tidy table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ...errors import ClientError
from .http import Service

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


def is_valid_nct_id(nct_id: str) -> bool:
    """Whether ``nct_id`` is a ClinicalTrials.gov identifier (``NCT`` and eight digits).

    >>> is_valid_nct_id("NCT01234567"), is_valid_nct_id("nct1234")
    (True, False)
    """
    return bool(NCT_PATTERN.match(nct_id))



class ClinicalTrialsClient(Service):
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
        interventions: Sequence[str] | str | None = None,
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
        interventions : sequence of str or str, optional
            Terms joined with ``OR`` (each quoted) into ``query.intr``; a single string is
            a ready ``query.intr`` expression, sent as it is (a recorded search).
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
    def query_params(condition: str, interventions: Sequence[str] | str | None = None
                     ) -> dict[str, Any]:
        """The ``query.cond`` / ``query.intr`` parameters :meth:`search_studies` sends.

        >>> ClinicalTrialsClient.query_params("crps", ["a b", "c"])["query.intr"]
        '"a b" OR "c"'
        >>> ClinicalTrialsClient.query_params("crps", '"a b" OR c')["query.intr"]
        '"a b" OR c'
        """
        if not condition.strip():
            raise ValueError("empty condition")
        params: dict[str, Any] = {"query.cond": condition}
        if isinstance(interventions, str):
            if interventions.strip():
                params["query.intr"] = interventions.strip()
            return params
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


