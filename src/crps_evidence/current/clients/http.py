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
  validation are evicted again; a cache that cannot be opened (a read-only or broken
  folder) is left out, with one warning, and the run goes on without it;
* every answer is read in pieces and refused beyond ``settings.max_response`` bytes (or
  the smaller limit a client asks for: a BibTeX entry is kilobytes), and every request has
  one overall deadline, ``settings.deadline`` seconds, retries and waits included: a server
  that sends one byte at a time cannot hold a run, whatever the read timeout.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_cache import CachedSession
from requests_cache.policy.settings import DEFAULT_IGNORED_PARAMS
from urllib3.exceptions import (
    DecodeError,
    InvalidHeader,
    MaxRetryError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
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


# ------------------------------------------------------------ size cap and deadline

#: Bytes read from the socket at a time (``read1``: whatever has arrived, up to this).
CHUNK = 65536


class _TooLarge(Exception):
    """The answer is longer than the request's limit (raised by the adapter)."""


class _OutOfTime(Exception):
    """The request's overall deadline passed (raised by the adapter or a retry wait)."""


@dataclass
class _Limits:
    """The size cap and the deadline of the request running in this thread."""

    max_bytes: int
    deadline: float | None  # time.monotonic() value, or None
    cancelled: threading.Event = field(default_factory=threading.Event)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self) -> None:
        left = self.remaining()
        if self.cancelled.is_set() or (left is not None and left <= 0):
            raise _OutOfTime

    def timeout(self, timeout: Any) -> Any:
        """The adapter's ``(connect, read)`` timeout, none longer than the time left."""
        left = self.remaining()
        if left is None:
            return timeout
        left = max(left, 0.01)
        if isinstance(timeout, tuple):
            return tuple(left if t is None else min(t, left) for t in timeout)
        return left if timeout is None else min(timeout, left)


_current = threading.local()


def _limits() -> _Limits | None:
    return getattr(_current, "limits", None)


def _set_socket_timeout(raw: Any, seconds: float | None) -> None:
    """Shorten the wait for the next bytes to what is left of the deadline (best effort)."""
    if seconds is None:
        return
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.01))
        except OSError:  # pragma: no cover - closed meanwhile
            pass


def _read_bounded(response: requests.Response, limits: _Limits) -> None:
    """Read the body in pieces into ``response``, within the size cap and the deadline.

    urllib3's errors are raised as requests raises them from ``iter_content``, so the
    retry logic of :meth:`Service._get` treats a cut body the same way.
    """
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read
    read_timeout = None
    chunks, size = [], 0
    try:
        while True:
            limits.check()
            left = limits.remaining()
            _set_socket_timeout(raw, left if read_timeout is None or left is None
                                else min(left, read_timeout))
            chunk = read(CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_bytes:
                raise _TooLarge(size)
            chunks.append(chunk)
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except ReadTimeoutError as exc:
        if limits.remaining() is not None and limits.remaining() <= 0.05:
            raise _OutOfTime from None
        raise requests.ConnectionError(exc) from None
    response._content = b"".join(chunks)
    response._content_consumed = True


class BoundedAdapter(HTTPAdapter):
    """HTTP adapter that reads every answer within the size cap and deadline of its request.

    The limits are those of the :meth:`Service._get` call running in the thread; without
    one (a session used directly) the adapter behaves as requests' own.
    """

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, **kwargs: Any) -> requests.Response:
        limits = _limits()
        if limits is None:
            return super().send(request, stream=stream, timeout=timeout, **kwargs)
        limits.check()
        response = super().send(request, stream=True, timeout=limits.timeout(timeout),
                                **kwargs)
        try:
            _read_bounded(response, limits)
        except BaseException:
            response.close()
            raise
        return response




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
        limits = _limits()
        left = limits.remaining() if limits is not None else None
        if left is not None and wait >= left:
            raise _OutOfTime  # the wait would end past the request's deadline
        if wait > 0:
            time.sleep(wait)


class ThrottledAdapter(BoundedAdapter):
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
    session: requests.Session | None = None
    if settings.cache_dir is not None:
        session = _cached_session(settings)
    if session is None:
        session = requests.Session()
    adapter = BoundedAdapter(max_retries=retry_policy(settings))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = settings.user_agent
    return session


_cache_warned: set[str] = set()


def _cached_session(settings: Settings) -> CachedSession | None:
    """The SQLite-cached session, or ``None`` (said once per folder) when it cannot be opened."""
    assert settings.cache_dir is not None
    path = settings.cache_dir / "http_cache.sqlite"
    try:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        session = CachedSession(
            cache_name=str(path),
            backend="sqlite",
            expire_after=timedelta(days=settings.cache_days),
            allowable_codes=(200,),
            allowable_methods=("GET", "HEAD"),
            match_headers=["Accept"],
            # Credentials are neither part of a cache key nor stored in the cache.
            ignored_parameters=(*DEFAULT_IGNORED_PARAMS, "api_key"),
        )
        # Opening is lazy: touch the database now, so a read-only folder or a file that
        # is not a database shows here and not in the middle of a request.
        session.cache.responses.get("crps-evidence-cache-probe")
        session.cache.responses["crps-evidence-cache-probe"] = None
        del session.cache.responses["crps-evidence-cache-probe"]
    except (OSError, sqlite3.Error) as exc:
        if str(path) not in _cache_warned:
            _cache_warned.add(str(path))
            log.warning("the HTTP cache %s cannot be used (%s: %s); going on without a "
                        "cache (set CRPS_EVIDENCE_CACHE_DIR to a writable folder, or "
                        "CRPS_EVIDENCE_NO_CACHE=1)", path, type(exc).__name__, exc)
        return None
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
        max_bytes: int | None = None,
    ) -> requests.Response:
        """GET ``url``; return the HTTP 200 response or raise :class:`ClientError`.

        Failures urllib3 does not retry (a connection cut while the body is being read)
        are retried here, ``settings.retries`` times with the same backoff. The answer is
        refused beyond ``max_bytes`` (default ``settings.max_response``), and the whole
        request, retries included, must end within ``settings.deadline`` seconds: it runs
        in a worker thread that is abandoned (and stops at its next read) when time is up.
        """
        name = service or self.service
        where = _where(url)
        limit = self.settings.max_response if max_bytes is None else max_bytes
        deadline = self.settings.deadline
        limits = _Limits(limit, time.monotonic() + deadline if deadline else None)
        outcome: dict[str, Any] = {}

        def work() -> None:
            _current.limits = limits
            try:
                outcome["response"] = self._attempts(url, name, where, params, headers,
                                                     refresh, what)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc
            finally:
                _current.limits = None

        if not deadline:
            work()
        else:
            worker = threading.Thread(target=work, name="crps-evidence-request", daemon=True)
            worker.start()
            worker.join(deadline)
            if worker.is_alive():
                limits.cancelled.set()  # the worker gives up at its next read or retry
                worker.join(0.1)
        error = outcome.get("error")
        if "response" not in outcome and (error is None or isinstance(error, _OutOfTime)):
            raise ClientError(
                f"{name}: no complete answer from {where} within {deadline:g} s, the "
                "deadline for one request (retries and waits included; "
                "CRPS_EVIDENCE_DEADLINE); the service is too slow or not answering, try "
                "again later")
        if isinstance(error, _TooLarge):
            raise ClientError(
                f"{name}: the answer from {where} for {what or where} is larger than "
                f"{limit:,} bytes, more than such an answer can be; refused (nothing kept)")
        if error is not None:
            raise error
        return outcome["response"]

    def _attempts(self, url: str, name: str, where: str, params: Mapping[str, Any] | None,
                  headers: Mapping[str, str] | None, refresh: bool, what: str
                  ) -> requests.Response:
        """The attempts of :meth:`_get`, in the worker thread (limits in ``_current``)."""
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
                limits = _limits()
                left = limits.remaining() if limits is not None else None
                if left is not None and left <= 0.05:
                    raise _OutOfTime from None  # the timeouts were cut to the deadline
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
        limits = _limits()
        if limits is not None:
            limits.check()
            left = limits.remaining()
            if left is not None and wait >= left:
                raise _OutOfTime  # waiting would end past the deadline: say so now
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
