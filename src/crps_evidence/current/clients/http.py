"""Shared HTTP machinery of the clients: session, on-disk cache, retries, throttling, errors.

Every client talks to its service through :class:`Service`, on one :class:`requests.Session`
built by :func:`build_session`:

* every request carries a ``(connect, read)`` timeout;
* HTTP 429, 500, 502, 503 and 504 and dropped connections are retried with exponential
  backoff by urllib3's :class:`~urllib3.util.Retry`, which honours ``Retry-After``; a
  connection cut while the body is read is retried the same way;
* a wait longer than ``CRPS_EVIDENCE_NOTICE_WAIT`` (5 s) is announced on the
  ``crps_evidence.current.clients`` logger (what, how long, Ctrl+C to stop), and a ``Retry-After``
  beyond ``CRPS_EVIDENCE_MAX_WAIT`` (60 s) is not waited for: the request fails at once;
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
from urllib3.exceptions import InvalidHeader, MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util.retry import Retry

from ...config import Settings, get_settings
from ...errors import ClientError

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
"""HTTP statuses retried with backoff."""

MAX_RETRY_AFTER = 60.0
"""Default longest wait (seconds) before a retry; ``Retry-After`` asking more fails at once."""

NOTICE_AFTER = 5.0
"""Default wait (seconds) beyond which a retry's wait is announced."""


class NotFoundError(ClientError):
    """The service answered HTTP 404: the DOI, PMID or study does not exist there."""




class _RetryPolicy(Retry):
    """urllib3 ``Retry`` that announces long waits and refuses waits beyond a limit.

    A wait (``Retry-After`` or backoff) longer than ``notice_after`` seconds is announced on
    the ``crps_evidence.current.clients`` logger (what is retried, how long, how to stop); a
    ``Retry-After`` longer than ``max_wait`` is not waited for at all: the answer is handed
    back at once and :meth:`Service._get` explains it.
    """

    def __init__(self, *args: Any, max_wait: float = MAX_RETRY_AFTER,
                 notice_after: float = NOTICE_AFTER,
                 services: tuple[tuple[str, str], ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_wait = max_wait
        self.notice_after = notice_after
        self.services = services
        self.where = ""

    def new(self, **kw: Any) -> _RetryPolicy:
        fresh = super().new(**kw)
        fresh.max_wait, fresh.notice_after = self.max_wait, self.notice_after
        fresh.services, fresh.where = self.services, self.where
        return fresh

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:  # a garbled header: fall back to the exponential backoff
            return None

    def increment(self, method: str | None = None, url: str | None = None,
                  response: Any = None, error: Exception | None = None, _pool: Any = None,
                  _stacktrace: Any = None) -> _RetryPolicy:
        if response is not None and self.respect_retry_after_header:
            asked = self.get_retry_after(response)
            if asked is not None and asked > self.max_wait:
                # Hand the answer back now: raise_on_status=False makes urllib3 return it.
                raise MaxRetryError(_pool, url or "", ResponseError(
                    f"Retry-After {asked:g} s exceeds the {self.max_wait:g} s limit"))
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        if _pool is not None:
            port = f":{_pool.port}" if _pool.port else ""
            path = urlsplit(url or "").path
            fresh.where = f"{_pool.scheme}://{_pool.host}{port}{path}"
        return fresh

    def _service(self) -> str:
        for base, name in self.services:
            if self.where.startswith(base):
                return name
        return urlsplit(self.where).netloc or "the service"

    def sleep(self, response: Any = None) -> None:
        wait = None
        if self.respect_retry_after_header and response is not None:
            wait = self.get_retry_after(response)
        why = "as the server asked (Retry-After)"
        if not wait:
            wait, why = self.get_backoff_time(), "before trying again"
        if wait > self.notice_after:
            last = self.history[-1] if self.history else None
            what = (f"HTTP {last.status}" if last is not None and last.status
                    else type(last.error).__name__ if last is not None and last.error
                    else "no usable answer")
            attempt = len(self.history)
            log.warning(
                "%s: %s from %s; waiting %.0f s %s (retry %d); press Ctrl+C or interrupt "
                "the kernel to stop", self._service(), what, self.where or "the server",
                wait, why, attempt,
            )
        if wait > 0:
            time.sleep(wait)


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


def _service_names(settings: Settings) -> tuple[tuple[str, str], ...]:
    return ((settings.doi_url, "doi.org"), (settings.crossref_url, "Crossref"),
            (settings.eutils_url, "NCBI E-utilities"), (settings.ctgov_url, "ClinicalTrials.gov"))


def retry_policy(settings: Settings) -> Retry:
    """The urllib3 retry policy every adapter uses (see :class:`_RetryPolicy`)."""
    return _RetryPolicy(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.max_wait,
        retry_after_max=10**9,  # see the real value; increment() refuses what is too long
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        max_wait=settings.max_wait,
        notice_after=settings.notice_wait,
        services=_service_names(settings),
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


def _retry_after(response: requests.Response) -> float | None:
    """Seconds a ``Retry-After`` header asks for (``None`` if absent or unreadable)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return Retry(retry_after_max=10**9).parse_retry_after(value)
    except InvalidHeader:
        return None


def _cut_in_body(exc: BaseException) -> bool:
    """Whether a request failed while its body was being read (urllib3 does not retry that).

    A dropped connection shows as ``ChunkedEncodingError`` (requests' name for urllib3's
    ``ProtocolError``, e.g. ``IncompleteRead``), a stalled body as ``ConnectionError``
    wrapping a bare ``ReadTimeoutError``.
    """
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return True
    first = exc.args[0] if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(first, ReadTimeoutError)


def _timed_out(exc: BaseException) -> bool:
    if isinstance(exc, requests.Timeout):
        return True
    first = exc.args[0] if exc.args else None
    return isinstance(first, ReadTimeoutError) or isinstance(
        getattr(first, "reason", None), ReadTimeoutError)


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
        """Evict a response that failed validation from the cache, under every key.

        After a redirect (doi.org to the publisher's or Crossref's service) requests-cache
        stores the answer twice: under the key of the request that was made and under the
        key of the redirected request. Both go, with the aliases of the redirects.
        """
        if not isinstance(self.session, CachedSession):
            return
        cache = self.session.cache
        keys = {getattr(response, "cache_key", None)}
        for hop in (*response.history, response):
            if hop.request is not None:
                keys.add(cache.create_key(hop.request))
        cache.delete(*sorted(k for k in keys if k))

    def _get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        refresh: bool = False,
        what: str = "",
        service: str | None = None,
    ) -> requests.Response:
        """GET ``url``; return the HTTP 200 response or raise :class:`ClientError`.

        Failures urllib3 does not retry (a connection cut while the body is being read)
        are retried here, ``settings.retries`` times with the same backoff.
        """
        name = service or self.service
        where = _where(url)
        kwargs: dict[str, Any] = {
            "params": dict(params or {}),
            "headers": dict(headers or {}),
            "timeout": self.settings.timeout,
        }
        if refresh and isinstance(self.session, CachedSession):
            kwargs["force_refresh"] = True
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.get(url, **kwargs)
                break
            except requests.RequestException as exc:
                if not _cut_in_body(exc):
                    raise self._failure(name, where, exc) from None
                if attempt == attempts and _timed_out(exc):
                    raise self._failure(name, where, exc) from None
                if attempt == attempts:
                    raise ClientError(
                        f"{name}: the connection to {where} was cut while the answer was "
                        f"being read (tried {attempts} times); try again later"
                    ) from None
                self._pause(name, where, attempt)
        return self._checked(name, where, response, what)

    def _pause(self, name: str, where: str, attempt: int) -> None:
        """Back off before retrying a cut body, announcing a long wait."""
        wait = min(self.settings.max_wait, self.settings.backoff_factor * 2 ** (attempt - 1))
        if wait > self.settings.notice_wait:
            log.warning("%s: the connection to %s was cut while reading the answer; waiting "
                        "%.0f s before trying again (retry %d); press Ctrl+C or interrupt the "
                        "kernel to stop", name, where, wait, attempt)
        if wait > 0:
            time.sleep(wait)

    def _failure(self, name: str, where: str, exc: requests.RequestException) -> ClientError:
        """The :class:`ClientError` for a request that raised."""
        if isinstance(exc, requests.ConnectTimeout):
            return ClientError(
                f"{name}: cannot connect to {where} within "
                f"{self.settings.connect_timeout:g} s; check the network connection"
            )
        if _timed_out(exc):
            return ClientError(
                f"{name}: no answer from {where} within "
                f"{self.settings.read_timeout:g} s (tried {self.settings.retries + 1} "
                "times); the service may be down, try again later"
            )
        if isinstance(exc, requests.ConnectionError):
            return ClientError(
                f"{name}: cannot connect to {where}; check the network "
                "connection (the service may be down)"
            )
        return ClientError(f"{name}: request to {where} failed ({type(exc).__name__})")

    def _checked(self, name: str, where: str, response: requests.Response,
                 what: str) -> requests.Response:
        """Return an HTTP 200 response; raise a :class:`ClientError` naming the rest."""
        status = response.status_code
        if status == 200:
            return response
        final = _where(response.url) if response.url else where
        source = where if final == where else f"{final} (redirected from {where})"
        label = what or where
        if status == 404:
            raise NotFoundError(f"{name}: {label} not found (HTTP 404 from {source})")
        asked = _retry_after(response)
        if status in RETRY_STATUSES and asked is not None and asked > self.settings.max_wait:
            raise ClientError(
                f"{name}: HTTP {status} from {source} asks to wait {asked:.0f} s before "
                f"trying again (Retry-After), longer than the {self.settings.max_wait:g} s "
                "this tool waits (CRPS_EVIDENCE_MAX_WAIT); gave up at once: try again later"
            )
        if status == 429:
            raise ClientError(
                f"{name}: rate limit still exceeded after {self.settings.retries} "
                f"retries (HTTP 429 from {source}); wait a while and try again"
            )
        if status >= 500:
            raise ClientError(
                f"{name}: server error HTTP {status} from {source} after "
                f"{self.settings.retries} retries; try again later"
            )
        snippet = self._redact(" ".join(response.text.split()))[:200]
        raise ClientError(
            f"{name}: HTTP {status} from {source} for {label}"
            + (f": {snippet}" if snippet else "")
        )

    def _get_json(self, url: str, **kwargs: Any) -> Any:
        response = self._get(url, **kwargs)
        try:
            return response.json()
        except ValueError:
            self._discard(response)
            raise ClientError(
                f"{kwargs.get('service') or self.service}: the answer from {_where(url)} is "
                "not valid JSON (truncated or garbled); try again later"
            ) from None
