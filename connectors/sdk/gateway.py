"""Signed-gateway APIs (Taobao TOP, JD JOS, Pinduoduo): one URL, the API named by a parameter, every
request signed over its sorted parameters, errors inside HTTP 200 answers, and list APIs whose time
filter may span only a short window.

What dlt lacks, written once for the family:

* :class:`SortedParamsAuth`: a dlt auth that adds the system parameters and a fresh timestamp and signs
  query and form body together (md5 wrapped in the secret, HMAC-MD5 or HMAC-SHA256, upper-case hex);
  it signs again before every resend (``http.RESIGN``), since the timestamp must be recent;
* :class:`ErrorEnvelopes`: reads ``{"error_response": ...}`` in a 200 answer. Throttling and the
  platform's own transient faults are retried by the shared tenacity policy (``also_retry``), paced by
  the ban the answer announces; any other error fails the call naming the API method and sub-code;
* :func:`windowed_resource`: a dlt resource whose incremental cursor is read in windows of at most the
  platform's span, from the cursor's start to now, several windows at once (``dlt.defer``), each paged
  to its end by a dlt paginator (:class:`LastPageFirstPaginator` for the newest-first increment APIs).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import dlt
import requests
from dlt.common import jsonpath
from dlt.common.configuration import configspec
from dlt.extract.resource import DltResource
from dlt.sources import rest_api
from dlt.sources.helpers.rest_client import RESTClient, redaction
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from .convert import WALL_CLOCK, wall_clock
from .errors import ChannelhubError, SourceDataError
from .http import RESIGN, RetryPolicy, paginate_checked, retrying_session
from .quarantine import quarantining
from .spec import Cursor

# dlt writes each request's URL to its INFO log, masking only the parameter names it knows; these
# gateways carry the seller's session key, the app key and the signature in the query. The set is
# dlt's one hook, process-wide. rest_api copies it, at its import, into the keys it masks in auth
# configs, assuming string values: an auth with a ``session`` attribute (dlt's OAuth2 classes, our
# session login) would then fail its validation. So rest_api is imported first and keeps dlt's set.
# dlt already masks ``access_token`` (Pinduoduo's seller token); Pinduoduo's app key is ``client_id``.
rest_api.SENSITIVE_KEYS  # noqa: B018 (the import above is the point: rest_api has read the set)
redaction.SENSITIVE_PARAMS.update({"session", "app_key", "client_id", "sign"})
FORM = "application/x-www-form-urlencoded"


def sign(params: Mapping[str, Any], secret: str, method: str = "md5") -> str:
    """The family's signature: parameters with a value, sorted by name, written ``k1v1k2v2…``; md5 wraps
    that in the secret, ``hmac`` is HMAC-MD5 and ``hmac-sha256`` HMAC-SHA256 keyed with it; upper hex."""
    text = "".join(f"{key}{value}" for key, value in sorted(params.items()) if key != "sign" and value != "")
    if method == "md5":
        return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest().upper()
    digests = {"hmac": hashlib.md5, "hmac-sha256": hashlib.sha256}
    if method not in digests:
        raise ValueError(f"unknown sign method {method!r} (md5, hmac or hmac-sha256)")
    return hmac.new(secret.encode(), text.encode(), digests[method]).hexdigest().upper()


@configspec
class SortedParamsAuth(AuthConfigBase):
    """Adds ``system`` (app key, session, version, format, sign method: each platform's names) and a
    ``timestamp`` in the platform's zone (``epoch_seconds``: Pinduoduo's UNIX seconds), then ``sign``
    over every query and form parameter. System parameters go in the query, as the official SDKs send
    them; business ones stay where dlt put them, unless ``json_param`` names the one parameter the
    platform wants them packed into as a JSON object (JD's ``360buy_param_json``, keys sorted)."""

    secret: str = None
    system: dict[str, str] = None
    sign_method: str = "md5"
    timezone: str = "Asia/Shanghai"
    timestamp_param: str = "timestamp"
    epoch_seconds: bool = False
    json_param: str | None = None
    method_param: str = "method"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        query = {key: value for key, value in parse_qsl(url.query, keep_blank_values=True)
                 if key not in ("sign", self.timestamp_param)}
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        form = dict(parse_qsl(body, keep_blank_values=True)) if FORM in request.headers.get("Content-Type", "") else {}
        if self.json_param:
            query, form = self.packed(query, form), {}
            for header in ("Content-Type", "Content-Length"):  # the form moved into the query
                request.headers.pop(header, None)
            request.prepare_body(data=None, files=None)
        now = datetime.now(UTC)
        stamp = str(int(now.timestamp())) if self.epoch_seconds else wall_clock(now, self.timezone)
        query |= {**self.system, self.timestamp_param: stamp}
        query["sign"] = sign({**query, **form}, self.secret, self.sign_method)
        request.url = urlunsplit(url._replace(query=urlencode(query)))
        setattr(request, RESIGN, self.__call__)
        return request

    def packed(self, query: dict[str, str], form: dict[str, str]) -> dict[str, str]:
        """Every business parameter (query or form, all but the method) as one JSON object in
        ``json_param``, values as text (JD's gateway reads "2" for a number); one already packed (a
        resent request) is kept."""
        if self.json_param in query:
            return {key: query[key] for key in (self.method_param, self.json_param) if key in query}
        business = {key: value for key, value in {**query, **form}.items()
                    if key != self.method_param and key not in self.system}
        values = dict(sorted(business.items()))
        return {self.method_param: query.get(self.method_param) or form.get(self.method_param, ""),
                self.json_param: json.dumps(values, ensure_ascii=False, separators=(",", ":"))}


class GatewayError(ChannelhubError):
    """An ``error_response`` the platform answered with HTTP 200. Never carries the request's
    parameters: they hold the session key."""

    def __init__(self, method: str, error: Mapping[str, Any], code_field: str = "code",
                 message_field: str = "msg") -> None:
        self.method, self.error = method, dict(error)
        self.code, self.sub_code = error.get(code_field), error.get("sub_code")
        detail = ", ".join(f"{name} {error[name]!r}" for name in ("sub_code", "sub_msg", "request_id")
                           if error.get(name))
        super().__init__(f"{method} failed: error {self.code} {error.get(message_field, '')!r}"
                         + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class ErrorEnvelopes:
    """How a platform writes errors in a 200 answer and which are worth retrying: ``retry_codes`` (flow
    control), and sub-codes starting with one of ``retry_sub_codes`` (the platform's own faults). TOP's
    names are the defaults; Pinduoduo writes ``error_code``/``error_msg`` and names the API in ``type``,
    JD writes ``zh_desc``."""

    retry_codes: frozenset[Any]
    retry_sub_codes: tuple[str, ...] = ()
    method_param: str = "method"
    code_field: str = "code"
    message_field: str = "msg"
    ban: re.Pattern[str] = re.compile(r"ban will last for (\d+) more seconds")
    # JD answers a bad argument inside the method's own answer, not as error_response: this finds it
    # there and writes it as an error (code and message under the fields above), else None
    business: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None

    def error(self, response: requests.Response) -> dict[str, Any] | None:
        try:
            body = response.json()
        except ValueError:  # an unreadable page is the paginator's to report, naming the stream
            return None
        if not isinstance(body, dict):
            return None
        if "error_response" in body or self.business is None:
            return body.get("error_response")
        return self.business(body)

    def retryable(self, response: requests.Response) -> bool:
        error = self.error(response)
        return error is not None and (error.get(self.code_field) in self.retry_codes
                                      or str(error.get("sub_code", "")).startswith(self.retry_sub_codes))

    def pace(self, response: requests.Response, limit: float) -> None:
        """Sleeps out a ban the answer announces (TOP: "This ban will last for 3 more seconds"), at most
        ``limit`` seconds (the policy's longest wait)."""
        error = self.error(response)
        found = self.ban.search(str(error.get("sub_msg", ""))) if error else None
        if found:
            time.sleep(min(float(found.group(1)), limit))

    def raise_for_error(self, response: requests.Response) -> None:
        """An error answer the retries did not cure fails the call, naming the method."""
        error = self.error(response)
        if error is not None:
            request = response.request
            body = request.body if isinstance(request.body, str) else (request.body or b"").decode(errors="replace")
            params = dict(parse_qsl(urlsplit(request.url or "").query)) | dict(parse_qsl(body))
            raise GatewayError(params.get(self.method_param, "?"), error, self.code_field, self.message_field)

    def session(self, policy: RetryPolicy) -> requests.Session:
        """The shared retrying session, taught this platform's envelopes."""
        session = retrying_session(policy, pacer=lambda response: self.pace(response, policy.max_wait),
                                   also_retry=self.retryable)
        send = session.send

        def checked(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            # not a session hook: requests lets a request's own hooks (dlt's) replace the session's
            response = send(request, **kwargs)
            self.raise_for_error(response)
            return response

        session.send = checked  # type: ignore[method-assign]
        return session


def call(client: Mapping[str, Any], path: str, method: str, answer_key: str, *, method_param: str = "method",
         **params: Any) -> dict[str, Any]:
    """One API call outside a dlt resource (writes, health checks), as a form POST through the client's
    auth and retrying session, the API named in ``method_param`` (Pinduoduo: ``type``): the answer under
    ``answer_key``; an error answer raises :class:`GatewayError` (the session's envelope check), another
    HTTP status ``HTTPError``."""
    url = f"{client['base_url'].rstrip('/')}/{path}"
    response = client["session"].post(url, data={method_param: method, **params}, auth=client["auth"])
    if response.status_code != 200:
        raise requests.HTTPError(f"{method}: HTTP {response.status_code}", response=response)
    return response.json()[answer_key]


class LastPageFirstPaginator(BasePaginator):
    """Page 1 (learning ``total_results``), then the last page back to page 2, then page 1 again: the
    platforms' advice for their increment APIs (newest first). A record modified during the read leaves
    the window and shifts the ones after it towards page 1, onto pages not read yet; paging forwards
    would skip the one shifted onto a page already read. Records read twice are the caller's to drop."""

    def __init__(self, total_path: str, page_size: int, page_param: str = "page_no") -> None:
        super().__init__()
        self.total_path, self.page_size, self.page_param = jsonpath.compile_path(total_path), page_size, page_param
        self._pages: list[int] | None = None

    def init_request(self, request: Any) -> None:
        self._pages = None
        request.params[self.page_param] = 1

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        if self._pages is None:
            found = jsonpath.find_values(self.total_path, response.json())
            last = math.ceil(int(found[0] if found else 0) / self.page_size)
            self._pages = [*range(last, 1, -1), 1] if last > 1 else []
        self._has_next_page = bool(self._pages)

    def update_request(self, request: Any) -> None:
        if self._pages:  # dlt asks for the next request before it looks at has_next_page
            request.params[self.page_param] = self._pages.pop(0)


def windows(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end]`` cut into windows of ``size``; each window ends where the next starts, so a
    record stamped on a boundary is inside whichever way the platform reads its bounds."""
    while start < end:
        yield start, min(start + size, end)
        start += size


def windowed_resource(client: RESTClient, path: str, params: Mapping[str, Any], *, cursor: Cursor,
                      initial_value: datetime, window: timedelta, bounds: tuple[str, str], data_selector: str,
                      key: str | tuple[str, ...], convert: Callable[[dict[str, Any]], dict[str, Any]],
                      account: str, stream: str, render_bound: Callable[[datetime], str] | None = None,
                      partitions: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
                      **hints: Any) -> DltResource:
    """The records changed since the cursor's start (lag applied) up to now, in windows of ``window``,
    several read at once. The client's paginator pages each window; ``convert`` makes the cursor field a
    UTC datetime before dlt's incremental sees it. A record this run already yielded (on a window
    boundary, or page 1 read again) is dropped; ``key`` names its field, or fields.
    Bounds are written as the platform's wall clock unless ``render_bound`` says otherwise (Pinduoduo:
    epoch seconds). ``partitions``, when given, lists (once per run) the parameters of each part an API
    answers only one at a time (Jushuitan's stock: one warehouse per call): every window is read once
    per part. ``hints`` (name, write disposition, columns) go to ``dlt.resource``."""
    start_param, end_param = bounds
    incremental = cursor.incremental(initial_value)
    render = render_bound or (lambda when: wall_clock(when, cursor.source_timezone))
    convert = quarantining(convert)  # a record that cannot be read is set aside, not the window

    @dlt.defer
    def read(low: datetime, high: datetime, part: Mapping[str, Any]) -> list[dict[str, Any]]:
        span = {start_param: render(low), end_param: render(high)}
        return [converted for page in paginate_checked(client, account, stream, path, data_selector=data_selector,
                                                       params={**params, **part, **span})
                for record in page if (converted := convert(record)) is not None]

    def changed(since: Any = incremental) -> Iterator[Any]:
        """One deferred read per window (and part): dlt's thread pool reads several at once."""
        parts = list(partitions()) if partitions is not None else [{}]
        for low, high in windows(since.start_value, datetime.now(UTC).replace(microsecond=0), window):
            for part in parts:
                yield read(low, high, part)

    seen: set[Any] = set()
    fields = (key,) if isinstance(key, str) else key

    def first_sighting(record: dict[str, Any]) -> bool:
        identity = tuple(record[field] for field in fields)
        fresh = identity not in seen
        seen.add(identity)
        return fresh

    return dlt.resource(changed, **{"primary_key": key, **hints}).add_filter(first_sighting)


def utc_converter(account: str, stream: str, zone: str, fields: tuple[str, ...],
                  key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Turns the zone-less ``fields`` of a record (written in ``zone``) into UTC datetimes in place; a
    value that is not such a time fails naming the account, stream, record and field."""
    tz = ZoneInfo(zone)

    def convert(record: dict[str, Any]) -> dict[str, Any]:
        for field in fields:
            value = record.get(field)
            if value in (None, ""):
                continue
            try:
                record[field] = datetime.strptime(value, WALL_CLOCK).replace(tzinfo=tz).astimezone(UTC)
            except (TypeError, ValueError):
                raise SourceDataError(account, stream, f"{value!r} is not a time 'yyyy-MM-dd HH:mm:ss'",
                                      record=f"{key} {record.get(key)}", field=field) from None
        return record

    return convert
