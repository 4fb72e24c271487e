"""The base of signed single-endpoint ("gateway") sandboxes: Taobao TOP, JD JOS and Pinduoduo.

Every call goes to one path and names its API in a parameter; every answer is HTTP 200, either the
API's body wrapped in ``{"<answer key>": {...}}`` or ``{"error_response": {...}}``. What the family
shares lives here, what differs is a subclass's data:

* method dispatch (``methods``: API name -> handler of the parameters), each authenticated call logged;
* system-parameter checks as a table (``required``: missing parameter -> error) plus the subclass's
  value checks (``checks``: app key, timestamp, signature, session, format, in the platform's order);
* a per-app call bucket whose refusals are an error answer, counted in ``throttled``;
* argument validators raising the platform's missing/invalid-argument errors (:meth:`need`,
  :meth:`number`, :meth:`when`, :meth:`fields`);
* numbered pages answered with a total or with ``has_next`` (:meth:`paged`), and the modified-window
  listing on them (:meth:`window`): a span cap, newest first.

Error numbers, messages and sub-codes are the subclass's (``errors``), so each platform answers in its
own words.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..world import World
from .bucket import Bucket
from .paging import numbered_page
from .server import HttpSandbox, json_response
from .sorted_params import parse_timestamp, request_params

Handler = Callable[[dict[str, str]], dict[str, Any]]


class Refused(Exception):
    """An error answer: its fields as the platform writes them (``code``, ``msg``, ``sub_code``...)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.body = body


@dataclass(frozen=True)
class Paging:
    """A platform's numbered pages: the page and size parameters, the default and largest size, and the
    answer's total (or, when ``has_next_param`` is ``"true"``, its ``has_next``)."""

    max_page_size: int
    page: tuple[str, str] = ("page_no", "page_size")
    default_page_size: int = 40
    total_key: str = "total_results"
    has_next_param: str = "use_has_next"


@dataclass(frozen=True)
class Window:
    """A platform's modified-window listing: the bound parameters, how long a window may be (and how its
    error says so), and how its pages are numbered."""

    bounds: tuple[str, str]
    max_span: timedelta
    paging: Paging
    span_text: str = "one day"


class GatewaySandbox(HttpSandbox):
    path: ClassVar[str]
    zone: ClassVar[str]
    # kind -> (code, message, sub_code); messages and sub-codes may name the argument as {name}.
    # Kinds: missing, invalid (arguments), method (unknown API), throttled (the call bucket).
    errors: ClassVar[Mapping[str, tuple[Any, str, str]]]
    required: ClassVar[tuple[tuple[str, Any, str], ...]]  # (system parameter, code, message) when missing
    code_field, message_field = "code", "msg"  # Pinduoduo: error_code, error_msg
    method_param = "method"  # the parameter naming the API (Pinduoduo: type)
    secret_params: ClassVar[frozenset[str]] = frozenset({"session", "sign"})  # never logged (Pinduoduo: access_token)

    def __init__(self, world: World, methods: Mapping[str, Handler], calls: Bucket) -> None:
        super().__init__(world)
        self.methods = dict(methods)
        self.calls = calls  # the per-app flow control; tests shrink it
        self.ban_seconds, self.throttled = 1, 0  # the ban a throttled answer announces; how many it refused
        self.after_listing: Callable[[dict[str, str]], None] | None = None  # tests: change the shop between pages
        self.log: list[tuple[str, dict[str, str]]] = []  # (method, parameters) of each authenticated call
        self._requests = threading.local()
        self.routes = Map([Rule(self.path, endpoint="gateway", methods=["GET", "POST"])])

    # -- what a platform supplies ---------------------------------------------------------------------
    @abstractmethod
    def answer_key(self, method: str) -> str:
        """The key a method's answer is wrapped in."""

    @abstractmethod
    def checks(self, params: dict[str, str]) -> Iterable[tuple[bool, Refused]]:
        """(holds, error when it does not) for each value check of the system parameters, in order."""

    # -- answers ----------------------------------------------------------------------------------------
    def refused(self, code: Any, msg: str, sub_code: str = "", sub_msg: str = "") -> Refused:
        return Refused({self.code_field: code, self.message_field: msg, "sub_code": sub_code, "sub_msg": sub_msg})

    def refuse(self, kind: str, name: str = "", sub_msg: str = "") -> Refused:
        """The platform's error of ``kind`` (see ``errors``) about argument ``name``."""
        code, msg, sub_code = self.errors[kind]
        return self.refused(code, msg.format(name=name), sub_code.format(name=name), sub_msg)

    def answer(self, key: str, body: dict[str, Any]) -> Response:
        """Empty and null fields left out, as the platforms leave them out; a request id added."""
        body = {k: v for k, v in {**body, "request_id": f"{self.stats.requests:x}sbx"}.items() if v not in ("", None)}
        return json_response({key: body})

    def error_answer(self, error: Refused) -> Response:
        return self.answer("error_response", error.body)

    def fault_scope(self, request: Request) -> str:
        """The path plus the API method, so faults can target one API (every call shares one path)."""
        return f"{request.path}?method={request_params(request).get(self.method_param, '')}"

    def rate_limited(self, request: Request) -> Response:
        return self.error_answer(self.refuse("throttled", sub_msg=f"This ban will last for {self.ban_seconds} "
                                                                  "more seconds"))

    def authenticate(self, request: Request) -> Response | None:
        params = request_params(request)
        missing = next((self.refused(code, msg) for name, code, msg in self.required if not params.get(name)), None)
        failed = missing or next((error for holds, error in self.checks(params) if not holds), None)
        if failed is not None:
            return self.error_answer(failed)
        self._requests.params = params
        return None

    def before_request(self, request: Request) -> Response | None:
        if self.calls.take():
            return None
        with self._lock:
            self.throttled += 1
        return self.rate_limited(request)

    def gateway(self, request: Request) -> Response:
        params = self._requests.params
        method = params[self.method_param]
        handler = self.methods.get(method)
        if handler is None:
            return self.error_answer(self.refuse("method", sub_msg=method))
        with self._lock:
            self.log.append((method, {k: v for k, v in params.items() if k not in self.secret_params}))
        try:
            return self.answer(self.answer_key(method), handler(params))
        except Refused as exc:
            return self.error_answer(exc)

    def calls_to(self, method: str) -> list[dict[str, str]]:
        """The parameters of every logged call of ``method``, in arrival order."""
        return [params for logged, params in self.log if logged == method]

    # -- arguments ----------------------------------------------------------------------------------------
    def need(self, params: dict[str, str], name: str) -> str:
        if not params.get(name):
            raise self.refuse("missing", name)
        return params[name]

    def number(self, params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
        value = params.get(name, str(default))
        if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
            raise self.refuse("invalid", name, f"{name} must be between {low} and {high}")
        return int(value)

    def when(self, params: dict[str, str], name: str) -> datetime:
        """A wall-clock time in the platform's zone (an epoch number is refused: these APIs want text)."""
        stamp = parse_timestamp(self.need(params, name), self.zone)
        if stamp is None or params[name].isdigit():
            raise self.refuse("invalid", name, "yyyy-MM-dd HH:mm:ss")
        return stamp

    def fields(self, params: dict[str, str], record: dict[str, Any], allowed: set[str] | None = None) -> dict[str, Any]:
        """The ``fields`` a call asked for (of those ``allowed``), nulls left out."""
        wanted = {name.strip() for name in self.need(params, "fields").split(",")}
        return {k: v for k, v in record.items() if k in wanted and (allowed is None or k in allowed) and v is not None}

    def window(self, params: dict[str, str], spec: Window, stream: str, items: Iterable[Any], *,
               modified: Callable[[Any], datetime], ident: Callable[[Any], Any], render: Callable[[Any], dict],
               wrap: tuple[str, str], state: Callable[[Any], str] | None = None) -> dict[str, Any]:
        """The items modified within the call's bounds (both inclusive, at most ``spec.max_span`` apart),
        newest first, filtered on ``status`` if asked: one page of them (:meth:`paged`), counted as
        ``<stream>_listed``."""
        start, end = (self.when(params, bound) for bound in spec.bounds)
        if end < start or end - start > spec.max_span:
            raise self.refuse("invalid", spec.bounds[1], f"{spec.bounds[1]} must follow {spec.bounds[0]} by at "
                                                         f"most {spec.span_text}")
        chosen = sorted((i for i in items if start <= modified(i) <= end), key=lambda i: (modified(i), ident(i)),
                        reverse=True)
        if params.get("status") and state is not None:
            chosen = [i for i in chosen if state(i) == params["status"]]
        return self.paged(params, spec.paging, chosen, render, wrap, stream=f"{stream}_listed")

    def paged(self, params: dict[str, str], spec: Paging, items: Sequence[Any], render: Callable[[Any], dict],
              wrap: tuple[str, str], stream: str | None = None) -> dict[str, Any]:
        """One numbered page of ``items``, rendered and wrapped as the platform wraps lists (left out when
        empty), with the total or ``has_next``; counted as ``stream`` when given."""
        page = self.number(params, spec.page[0], 1, 1, 10**6)
        size = self.number(params, spec.page[1], spec.default_page_size, 1, spec.max_page_size)
        listing = numbered_page(items, page, size)
        chunk = [render(item) for item in listing.items]
        if stream is not None:
            self.count_records(stream, len(chunk))
        if self.after_listing is not None:
            self.after_listing(params)
        listed = {wrap[0]: {wrap[1]: chunk}} if chunk else {}
        if params.get(spec.has_next_param, "").lower() == "true":
            return {"has_next": listing.has_next, **listed}
        return {spec.total_key: listing.total, **listed}
