"""Settings for the literature and registry clients.

Every value has a default and can be overridden by an environment variable, read each time
:func:`get_settings` is called (so a test, or a user, can point the clients at another server
without touching the code):

====================================  ==================================================
Variable                              Meaning (default)
====================================  ==================================================
``CRPS_EVIDENCE_CONTACT``             e-mail sent in the User-Agent, as Crossref's
                                      ``mailto`` and NCBI's ``email`` (a neutral
                                      placeholder; please set your own)
``CRPS_EVIDENCE_CROSSREF_URL``        Crossref REST API (``https://api.crossref.org``)
``CRPS_EVIDENCE_DOI_URL``             DOI resolver for content negotiation
                                      (``https://doi.org``)
``CRPS_EVIDENCE_EUTILS_URL``          NCBI E-utilities
                                      (``https://eutils.ncbi.nlm.nih.gov/entrez/eutils``)
``CRPS_EVIDENCE_CTGOV_URL``           ClinicalTrials.gov API v2
                                      (``https://clinicaltrials.gov/api/v2``)
``CRPS_EVIDENCE_CACHE_DIR``           folder of the on-disk HTTP cache
                                      (``$XDG_CACHE_HOME/crps-evidence``)
``CRPS_EVIDENCE_NO_CACHE``            ``1`` turns the on-disk cache off
``CRPS_EVIDENCE_CACHE_DAYS``          days a cached answer stays valid (``30``)
``CRPS_EVIDENCE_TIMEOUT``             read timeout in seconds (``30``)
``CRPS_EVIDENCE_CONNECT_TIMEOUT``     connect timeout in seconds (``10``)
``CRPS_EVIDENCE_RETRIES``             retries on 429, 5xx and dropped connections (``4``)
``CRPS_EVIDENCE_BACKOFF``             urllib3 backoff factor in seconds (``1.0``)
``CRPS_EVIDENCE_MAX_WAIT``            longest wait before a retry, in seconds (``60``); a
                                      ``Retry-After`` asking for more fails at once
``CRPS_EVIDENCE_NOTICE_WAIT``         waits longer than this many seconds are announced
                                      on the ``crps_evidence.current.clients`` logger (``5``)
``CRPS_EVIDENCE_DEADLINE``            seconds one request may take in all, retries and
                                      waits included (``120``); ``0`` means no deadline
``CRPS_EVIDENCE_MAX_RESPONSE``        largest answer read, in bytes (``50000000``); a
                                      BibTeX entry may be at most 1 MB whatever this says
====================================  ==================================================

The NCBI API key is read from ``NCBI_API_KEY`` by
:class:`crps_evidence.current.clients.PubMedClient` only; it is deliberately *not* part of
:class:`Settings`, so it cannot end up in a repr, a
log line or a cache key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

DEFAULT_CONTACT = "crps-evidence@example.org"
"""Placeholder contact; Crossref and NCBI ask for a real address (set ``CRPS_EVIDENCE_CONTACT``)."""

CROSSREF_URL = "https://api.crossref.org"
DOI_URL = "https://doi.org"
EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
CTGOV_URL = "https://clinicaltrials.gov/api/v2"

_ENV = "CRPS_EVIDENCE_"


def package_version() -> str:
    """Installed version of the package (``0+unknown`` from a bare checkout)."""
    try:
        return metadata.version("crps-evidence")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "crps-evidence"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(_ENV + name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{_ENV}{name}={raw!r} is not a number") from None
    if value < 0:
        raise ValueError(f"{_ENV}{name}={raw!r} must not be negative")
    return value


def _env_url(name: str, default: str) -> str:
    return (os.environ.get(_ENV + name) or default).rstrip("/")


@dataclass(frozen=True)
class Settings:
    """Connection settings shared by every client.

    Attributes
    ----------
    crossref_url, doi_url, eutils_url, ctgov_url : str
        Base URLs (no trailing slash) of Crossref, the DOI resolver, NCBI E-utilities and
        ClinicalTrials.gov API v2.
    contact : str
        E-mail address identifying the user to the services (User-Agent, ``mailto``,
        ``email``).
    cache_dir : Path or None
        Folder of the SQLite HTTP cache; ``None`` turns caching off.
    cache_days : float
        How long a cached answer is reused.
    connect_timeout, read_timeout : float
        Seconds; every request carries both.
    retries : int
        Retries on HTTP 429/500/502/503/504 and on connection or read failures.
    backoff_factor : float
        urllib3 exponential backoff factor (seconds); ``Retry-After`` wins when sent.
    max_wait : float
        Longest wait before a retry (seconds). A service whose ``Retry-After`` asks for
        longer is not waited for: the request fails at once and says so.
    notice_wait : float
        A wait before a retry longer than this (seconds) is announced: which service,
        how long, and that Ctrl+C stops it.
    deadline : float
        Seconds one request may take from the first byte sent to the last byte read,
        every retry and wait included (``0``: none). Read timeouts bound each wait for a
        byte; this bounds the whole, so a server that drips an answer cannot hold a run.
    max_response : int
        The most bytes of an answer that are read; a longer one is refused.
    """

    crossref_url: str = CROSSREF_URL
    doi_url: str = DOI_URL
    eutils_url: str = EUTILS_URL
    ctgov_url: str = CTGOV_URL
    contact: str = DEFAULT_CONTACT
    cache_dir: Path | None = field(default_factory=_default_cache_dir)
    cache_days: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 4
    backoff_factor: float = 1.0
    max_wait: float = 60.0
    notice_wait: float = 5.0
    deadline: float = 120.0
    max_response: int = 50_000_000

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeout passed to every request."""
        return (self.connect_timeout, self.read_timeout)

    @property
    def user_agent(self) -> str:
        """Descriptive User-Agent naming the tool and the contact address."""
        return (
            f"crps-evidence/{package_version()} "
            f"(CRPS evidence notebooks; mailto:{self.contact})"
        )

    def replace(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def get_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from the environment, then apply ``overrides``.

    Parameters
    ----------
    **overrides
        Field values that win over both the defaults and the environment, e.g.
        ``get_settings(read_timeout=2, cache_dir=None)``.

    Returns
    -------
    Settings

    Raises
    ------
    ValueError
        If a numeric environment variable is not a non-negative number.
    """
    no_cache = os.environ.get(_ENV + "NO_CACHE", "").strip().lower() in {"1", "true", "yes"}
    cache_env = os.environ.get(_ENV + "CACHE_DIR")
    cache_dir: Path | None
    if no_cache:
        cache_dir = None
    elif cache_env:
        cache_dir = Path(cache_env).expanduser()
    else:
        cache_dir = _default_cache_dir()
    settings = Settings(
        crossref_url=_env_url("CROSSREF_URL", CROSSREF_URL),
        doi_url=_env_url("DOI_URL", DOI_URL),
        eutils_url=_env_url("EUTILS_URL", EUTILS_URL),
        ctgov_url=_env_url("CTGOV_URL", CTGOV_URL),
        contact=(os.environ.get(_ENV + "CONTACT") or DEFAULT_CONTACT).strip(),
        cache_dir=cache_dir,
        cache_days=_env_float("CACHE_DAYS", 30.0),
        connect_timeout=_env_float("CONNECT_TIMEOUT", 10.0),
        read_timeout=_env_float("TIMEOUT", 30.0),
        retries=int(_env_float("RETRIES", 4)),
        backoff_factor=_env_float("BACKOFF", 1.0),
        max_wait=_env_float("MAX_WAIT", 60.0),
        notice_wait=_env_float("NOTICE_WAIT", 5.0),
        deadline=_env_float("DEADLINE", 120.0),
        max_response=int(_env_float("MAX_RESPONSE", 50_000_000)),
    )
    return settings.replace(**overrides) if overrides else settings
