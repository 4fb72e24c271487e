"""HTTP plumbing every REST connector shares: one tenacity retry policy, header-driven pacing, and
pagination that turns an unreadable page into a ``SourceDataError`` instead of a bare JSON trace.

dlt's ``RESTClient`` does the paging; we hand it a session from :func:`retrying_session`. dlt's own
retrying client is not used because its ``Retry-After`` parser only accepts whole seconds and Shopify
sends ``Retry-After: 2.0``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.client import PageData
from requests.hooks import default_hooks, dispatch_hook
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .errors import ChannelhubError, SourceDataError

log = logging.getLogger("channelhub.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Attribute a signer sets on a request it signed with a nonce or a timestamp: a callable that signs the
# request again. The retrying session calls it before every resend, since a server that has seen the
# nonce (WooCommerce records it once the request authenticated) refuses the same one twice.
RESIGN = "channelhub_resign"
# Failures of the transport, not of the request: sent again. A body cut mid-way (a reset connection) and a
# body that does not decode as its Content-Encoding says (a proxy hiccup) are read inside send(), so
# they retry like a refused connection. A certificate that fails verification is not transient: see
# CertificateError.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)


class Unreachable(ChannelhubError, requests.ConnectionError):
    """No connection could be made at all (refused, unknown host, connect timeout): a wrong base_url or a
    service that is down. Retried briefly, then said in seconds rather than after minutes of backoff; the
    scheduler's task retries wait out a longer outage."""


def _unreachable(exc: BaseException | None) -> str | None:
    """Why no connection could be made, or None for other failures (a reset mid-response, a read timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return "connect timeout"
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return None
    reason = getattr(exc.args[0], "reason", exc.args[0])
    if isinstance(reason, NameResolutionError):
        return "host name not found"
    if isinstance(reason, NewConnectionError):
        return "connection refused" if "refused" in str(reason).lower() else "no connection"
    return None


class CertificateError(ChannelhubError):
    """The server's TLS certificate failed verification: a wrong host, an expired or self-signed
    certificate, or someone in between. Retrying cannot fix it, so the run fails at once saying so."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a run fails. Defaults suit a nightly sync; tests shrink the waits."""

    max_attempts: int = 8
    initial_wait: float = 0.5
    max_wait: float = 60.0
    timeout: float = 30.0  # seconds to wait for an answer
    connect_timeout: float = 10.0  # seconds to wait for a connection
    unreachable_attempts: int = 3  # tries when no connection can be made at all (about 3 s of backoff)


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds the server asked us to wait: ``Retry-After`` as float seconds or an HTTP date."""
    header = response.headers.get("Retry-After")
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _WaitRetryAfterOrBackoff:
    """tenacity wait: the wait the server asked for (``retry_after``: ``Retry-After`` unless the platform
    says it otherwise) when given, else exponential backoff with jitter."""

    def __init__(self, policy: RetryPolicy,
                 retry_after: Callable[[requests.Response], float | None] = retry_after_seconds) -> None:
        self.policy, self.retry_after = policy, retry_after
        self.backoff = wait_exponential_jitter(initial=policy.initial_wait, max=policy.max_wait)

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            asked = self.retry_after(outcome.result())
            if asked is not None:
                return min(asked, self.policy.max_wait)
        return self.backoff(state)


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    if outcome is None:
        return
    # the exception's class or why no connection was made, not its text: that repeats the URL and its query
    what = (_unreachable(outcome.exception()) or type(outcome.exception()).__name__) if outcome.failed \
        else f"HTTP {outcome.result().status_code}"
    # Only the path: query strings may carry signatures or tokens.
    request = state.args[0] if state.args else None
    path = getattr(request, "path_url", "?").split("?")[0]
    log.warning("retrying %s after %s (attempt %d)", path, what, state.attempt_number)


def _stop_when_unreachable(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    def stop(state: RetryCallState) -> bool:
        outcome = state.outcome
        return (outcome is not None and outcome.failed and _unreachable(outcome.exception()) is not None
                and state.attempt_number >= policy.unreachable_attempts)
    return stop


def retrying_session(policy: RetryPolicy = RetryPolicy(),
                     pacer: Callable[[requests.Response], None] | None = None,
                     also_retry: Callable[[requests.Response], bool] | None = None,
                     before_send: Callable[[requests.PreparedRequest], None] | None = None,
                     retry_after: Callable[[requests.Response], float | None] = retry_after_seconds) -> requests.Session:
    """A session whose ``send`` retries 429/5xx/timeouts under one tenacity policy.

    ``pacer`` sees every response (including the ones that will be retried) and may sleep to stay
    under a rate limit before the server has to answer 429. ``also_retry`` marks other answers as
    "not executed, send again" for APIs that say so in a 200 body (Shopify GraphQL's ``THROTTLED``),
    so they share the same policy instead of a second retry loop around this one. ``before_send`` sees
    every attempt before it leaves and may sleep: a client-side quota (SP-API's token bucket per
    operation) paces first sends and resends alike. ``retry_after`` reads how long a refused answer asks
    to wait, for a platform that says it in its own header (ShipStation's ``X-Rate-Limit-Reset``).
    """
    session = requests.Session()

    def retryable(response: requests.Response) -> bool:
        return response.status_code in RETRY_STATUSES or (also_retry is not None and also_retry(response))

    retrying = Retrying(
        retry=(retry_if_exception_type(TRANSIENT_ERRORS) & retry_if_not_exception_type(requests.exceptions.SSLError))
        | retry_if_result(retryable),
        wait=_WaitRetryAfterOrBackoff(policy, retry_after),
        stop=stop_after_attempt(policy.max_attempts) | _stop_when_unreachable(policy),
        before_sleep=_log_retry,
        retry_error_callback=lambda state: state.outcome.result(),
        reraise=True,
    )
    plain_send = session.send

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", (policy.connect_timeout, policy.timeout))
        started = time.monotonic()
        # requests runs response hooks inside send(), i.e. inside every attempt; dlt's RESTClient installs
        # a raise-for-status hook, which would turn the first 429 into a failure. Hooks see only the
        # response the retry policy settled on.
        hooks, request.hooks = request.hooks, default_hooks()
        attempts: list[None] = []

        def attempt(request: requests.PreparedRequest) -> requests.Response:  # an argument: the retry log names it
            resign = getattr(request, RESIGN, None)
            if resign is not None and attempts:  # a fresh nonce and timestamp for every resend
                resign(request)
            attempts.append(None)
            if before_send is not None:
                before_send(request)
            response = plain_send(request, **kwargs)
            if pacer is not None:
                pacer(response)
            return response

        try:
            response = retrying(attempt, request)
        except requests.exceptions.SSLError as exc:
            host = urlsplit(request.url or "").hostname
            raise CertificateError(f"the TLS certificate of {host} could not be verified ({exc.args[0] if exc.args else exc}); "
                                   "not retried: fix the certificate or the base_url") from exc
        except TRANSIENT_ERRORS as exc:
            why = _unreachable(exc)
            if why is not None:
                parts = urlsplit(request.url or "")
                raise Unreachable(f"cannot reach {parts.scheme}://{parts.netloc} ({why}; {len(attempts)} tries in "
                                  f"{time.monotonic() - started:.0f}s): check the account's base_url and that the "
                                  "service is up") from exc
            raise type(exc)(f"{request.method} {page_of(request)} failed {len(attempts)} times; last: {exc}") from exc
        return dispatch_hook("response", hooks, response, **kwargs)

    session.send = send  # type: ignore[method-assign]
    return session


SECRET_PARAMS = re.compile(r"sign|token|secret|key|pass|auth|session|signature|nonce", re.IGNORECASE)


def page_of(request: requests.PreparedRequest) -> str:
    """The request's path with the query parameters that say which page it is (``page=3``,
    ``page_info=...``, ``starting_after=...``), and without any that may carry a credential or signature."""
    parts = urlsplit(request.url or "")
    kept = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not SECRET_PARAMS.search(name)]
    return parts.path + (f"?{urlencode(kept)}" if kept else "")


class LeakyBucketPacer:
    """Client-side pacing from a ``used/size`` call-limit header (Shopify's
    ``X-Shopify-Shop-Api-Call-Limit: 32/40``). When the bucket is fuller than ``high_water`` we sleep
    long enough for it to leak back, so a well-behaved sync never sees a 429.
    """

    def __init__(self, header: str, leak_per_second: float, high_water: float = 0.8) -> None:
        self.header, self.leak_per_second, self.high_water = header, leak_per_second, high_water
        self._lock = threading.Lock()
        self.slept = 0.0

    def __call__(self, response: requests.Response) -> None:
        value = response.headers.get(self.header)
        if not value or "/" not in value:
            return
        used, size = (float(part) for part in value.split("/", 1))
        excess = used - self.high_water * size
        if excess > 0 and self.leak_per_second > 0:
            pause = excess / self.leak_per_second
            with self._lock:
                self.slept += pause
            time.sleep(pause)


def readable_pages(account: str, stream: str) -> Callable[..., requests.Response]:
    """A response hook (a ``rest_api`` response action, or ``paginate_checked``'s): each page's body is parsed once, with orjson, and a body that is
    not JSON (a truncated page) fails naming the account, stream and page. It is not retried: a retry
    would hide a broken source, and the run fails before the page's rows reach the loader. dlt then
    reads the parsed page instead of decoding the body again."""
    pages = count(1)

    def check(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if not response.ok:  # an error answer is dlt's to raise, with its status
            return response
        number = next(pages)
        try:
            parsed = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            path = urlsplit(response.url).path
            raise SourceDataError(account, stream, f"page {number} of {path} is not valid JSON ({exc})",
                                  record=f"page {number}") from exc
        response.json = lambda **_: parsed  # type: ignore[method-assign]
        return response

    return check


def paginate_checked(client: RESTClient, account: str, stream: str, path: str,
                     hooks: dict[str, list[Callable[..., Any]]] | None = None, **kwargs: Any) -> Iterator[PageData[Any]]:
    """``client.paginate`` with every page read through :func:`readable_pages` (before the caller's own
    response ``hooks``), for resources written by hand (a batched transformer, a windowed read, a key
    listing) rather than declared on ``rest_api``."""
    response_hooks = [readable_pages(account, stream), *(hooks or {}).get("response", [])]
    yield from client.paginate(path, hooks={"response": response_hooks}, **kwargs)
