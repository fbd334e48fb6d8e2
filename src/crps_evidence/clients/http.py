"""Shared HTTP machinery of the clients: session, on-disk cache, retries, throttling, errors.

Every client talks to its service through :class:`Service`, on one :class:`requests.Session`
built by :func:`build_session`:

* every request carries a ``(connect, read)`` timeout;
* HTTP 429, 500, 502, 503 and 504 and dropped connections are retried with exponential
  backoff by urllib3's :class:`~urllib3.util.Retry`, which honours ``Retry-After``;
* the User-Agent names the tool and the contact address (``CRPS_EVIDENCE_CONTACT``);
* successful (HTTP 200) answers are kept in an on-disk SQLite cache; answers that fail
  validation are evicted again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from ..config import Settings, get_settings
from ..errors import ClientError

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
"""HTTP statuses retried with backoff."""

MAX_RETRY_AFTER = 120.0
"""Longest ``Retry-After`` (seconds) the clients will wait before giving up."""


class NotFoundError(ClientError):
    """The service answered HTTP 404: the DOI, PMID or study does not exist there."""




class _CappedRetry(Retry):
    """urllib3 ``Retry`` that never sleeps longer than :data:`MAX_RETRY_AFTER`."""

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER)


class ThrottledAdapter(HTTPAdapter):
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


def retry_policy(settings: Settings) -> Retry:
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
    adapter = HTTPAdapter(max_retries=retry_policy(settings))
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


def redact_in_logs(secret: str) -> None:
    marker = hash(secret)
    if marker in _redacted:
        return
    _redacted.add(marker)
    redactor = _RedactFilter(secret)
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(redactor)


class Service:
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


