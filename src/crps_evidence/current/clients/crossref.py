"""Crossref REST API (``/works/{doi}``) and BibTeX by DOI content negotiation (doi.org)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import bibtexparser

from ...errors import ClientError
from ...evidence.references import doi_problem, normalize_doi, quiet_bibtexparser
from .http import Service

#: The longest BibTeX answer read: one entry is a few kilobytes.
BIBTEX_MAX_BYTES = 1_000_000


def checked_doi(doi: str) -> str:
    """The bare, lower-case DOI, or :class:`ValueError` for a malformed one.

    >>> checked_doi("https://doi.org/10.5555/ABC")
    '10.5555/abc'
    """
    bare = normalize_doi(doi)
    problem = doi_problem(bare)
    if problem:
        shown = doi if len(doi) <= 80 else doi[:80] + "..."
        raise ValueError(
            f"malformed DOI {shown!r}: {problem}; expected '10.<registrant>/<suffix>' "
            "(a https://doi.org/ prefix is accepted)"
        )
    return bare


def doi_path(doi: str) -> str:
    """A checked DOI percent-encoded for a URL path (``/`` kept, nothing else special).

    >>> doi_path("10.1002/(sici)1097-4636(199812)43:4<448::aid-jbm14>3.0.co;2-h")
    '10.1002/%28sici%291097-4636%28199812%2943%3A4%3C448%3A%3Aaid-jbm14%3E3.0.co%3B2-h'
    """
    return quote(checked_doi(doi), safe="/")


class CrossrefClient(Service):
    """Crossref REST API (``/works/{doi}``) and BibTeX by DOI content negotiation.

    Parameters
    ----------
    settings : Settings, optional
        Base URLs, contact, timeouts, cache; defaults to :func:`get_settings`.
    session : requests.Session, optional
        Session to share with other clients; defaults to a new :func:`build_session`.
    """

    service = "Crossref"
    resolver = "doi.org"
    """Label of the DOI resolver in messages (BibTeX comes from there, not from Crossref)."""

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
        bare = checked_doi(doi)
        url = f"{self.settings.crossref_url}/works/{doi_path(bare)}"
        params = {"mailto": self.settings.contact}
        data = self._get_json(url, params=params, refresh=refresh, what=f"DOI {bare}")
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, dict) or (data.get("status") not in (None, "ok")):
            raise ClientError(f"Crossref: unexpected answer for DOI {bare} (no 'message')")
        return message

    def bibtex(self, doi: str, *, refresh: bool = False) -> str:
        """BibTeX of a work, by content negotiation on the DOI resolver.

        The answer is read up to :data:`BIBTEX_MAX_BYTES` (a longer one is refused) and
        checked: it must parse as exactly one complete BibTeX entry whose
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
        bare = checked_doi(doi)
        url = f"{self.settings.doi_url}/{doi_path(bare)}"
        response = self._get(
            url,
            headers={"Accept": "application/x-bibtex"},
            refresh=refresh,
            what=f"DOI {bare}",
            service=self.resolver,
            max_bytes=BIBTEX_MAX_BYTES,
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
                f"{self.resolver}: unusable BibTeX for DOI {bare}{_via(response)}: {exc}"
            ) from None
        served = fields.get("doi")
        if served and normalize_doi(served) != bare:
            self._discard(response)
            raise ClientError(
                f"{self.resolver}: asked for DOI {bare} but the BibTeX{_via(response)} is for "
                f"{served}"
            )
        return text


def _via(response: Any) -> str:
    """`` (served by <host> after a redirect)`` when the resolver redirected, else ``""``."""
    if not getattr(response, "history", None):
        return ""
    return f" (served by {urlsplit(response.url).netloc} after a redirect)"


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
    with quiet_bibtexparser():
        library = bibtexparser.parse_string(stripped)
    if library.failed_blocks:
        raise ValueError("the entry does not parse")
    if len(library.entries) != 1:
        raise ValueError(f"expected one entry, found {len(library.entries)}")
    entry = library.entries[0]
    fields = {f.key.lower(): str(f.value).strip() for f in entry.fields}
    return entry.entry_type.lower(), entry.key, fields


