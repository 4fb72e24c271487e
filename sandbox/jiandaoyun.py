"""Jiandaoyun (简道云) open API v5 emulator: one company's 进销存 app rendering the World.

Faithful to the documented behaviour (../shared/reference/erp_systems.md, section 1):

* every call ``POST /api/v5/app/entry/...`` with a JSON body, ``app_id`` and ``entry_id`` in it; auth
  ``Authorization: Bearer <API key>``;
* ``widget/list``: ``{widgets: [{name, label, type, items?}], sysWidgets, dataModifyTime}``, widget names
  ``_widget_<13 digits>``;
* ``data/list``: records sorted by ``_id`` ascending, ``data_id`` = the last ``_id`` of the previous page
  (records after it), ``limit`` 1 to 100 (default 10), ``fields`` narrowing the widgets returned, ``filter``
  ``{rel: and|or, cond: [{field, type, method, value}]}`` with eq, ne, in, nin, range (inclusive, either
  end null: open), empty and not_empty, on widgets and on ``createTime``/``updateTime``; records carry
  ``_id``, ``appId``, ``entryId``, ``creator``, ``updater``, ``createTime``, ``updateTime`` (ISO 8601 UTC with
  milliseconds), number widgets as JSON numbers, member widgets as ``{name, username, ...}``, department
  widgets as ``{name, dept_no}`` and subforms as lists of rows with their own ``_id``;
* ``data/batch_create`` (``data_list`` of ``{widget: {value}}``, at most 100) and ``data/batch_update``
  (``data_ids`` at most 100, one ``data`` for all) with ``transaction_id``: a repeated id replays the first
  answer without writing again (the same id with another body is refused);
* every error is HTTP 400 with ``{code, msg}``; throttling is code 8303 (超出请求频率限制): 50 requests a
  second per key in all, and each endpoint's own limit per key (data/list, data/get, widget/list 30/s;
  batch_create, batch_update 10/s). The other codes are the emulator's own: the vendor's code table was
  not found (``ERRORS``).

Forms: 商品 (the World's SKUs), 库存 (its stock per SKU and warehouse), 客户 (its customers), 销售出库单 (the
orders of the World shop named like the account, the merchant's offline sales booked in
Jiandaoyun, so no web shop's orders are counted twice; lines in the 出库明细 subform) and a 可售库存 form the
stock mirror fills (per SKU and channel: 可售数量 allocated, 在库数量 on hand, 可承诺数量 available to promise). The 数据推送 webhook is not emulated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.idempotency import IdempotencyConflict, IdempotencyStore
from .launch import Launcher, Running, local_port
from .world import World

APP_ID = "5f3a9c0e2b1d4a0006a1b2c3"
ENTRY_IDS = {"商品": "6512a0c1f2e4b2000a8b4c01", "库存": "6512a0c1f2e4b2000a8b4c02", "客户": "6512a0c1f2e4b2000a8b4c03",
             "销售出库单": "6512a0c1f2e4b2000a8b4c04", "可售库存": "6512a0c1f2e4b2000a8b4c09"}
GLOBAL_RATE = 50  # requests per second per key, all endpoints
RATES = {"data/list": 30, "data/get": 30, "widget/list": 30, "data/batch_create": 10, "data/batch_update": 10}
THROTTLED = (8303, "超出请求频率限制")
ERRORS = {"key": (8301, "API Key 无效"), "form": (3005, "表单不存在"), "param": (4000, "请求参数错误"),
          "transaction": (4001, "transaction_id 已被使用")}
MEMBER = {"name": "小简", "username": "xiaojian", "status": 1, "type": 0, "departments": [1]}
MAX_BATCH = 100


def error(kind: str | tuple[int, str], detail: str = "", status: int = 400) -> Response:
    code, msg = ERRORS[kind] if isinstance(kind, str) else kind
    return json_response({"code": code, "msg": f"{msg}{': ' + detail if detail else ''}"}, status)


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def widget(n: int) -> str:
    return f"_widget_{1529400746000 + n}"


@dataclass(frozen=True)
class Widget:
    name: str
    label: str
    type: str
    items: tuple[Widget, ...] = ()


@dataclass
class Form:
    """A form's widgets and its records, as ``(_id, created, updated, {widget name: value})``."""

    name: str
    widgets: tuple[Widget, ...]
    records: Callable[[], list[tuple[str, datetime, datetime, dict[str, Any]]]]
    stored: dict[str, tuple[str, datetime, datetime, dict[str, Any]]] = field(default_factory=dict)

    def name_of(self, label: str) -> str:
        return next(w.name for w in self.widgets if w.label == label)


class JiandaoyunSandbox(HttpSandbox):
    name = "jiandaoyun"

    def __init__(self, world: World, api_key: str, shop: str, app_id: str = APP_ID) -> None:
        super().__init__(world)
        self.api_key, self.shop, self.app_id = api_key, shop, app_id
        self.buckets: dict[str, Bucket] = {}
        self.transactions = IdempotencyStore()
        self.writes: list[dict[str, Any]] = []  # every batch write's body, in arrival order
        self.bodies: list[dict[str, Any]] = []  # every data/list body
        self.routes = Map([Rule("/api/v5/app/entry/<path:call>", endpoint="call", methods=["POST"])])
        self.forms = {ENTRY_IDS[form.name]: form for form in self._forms()}

    def _forms(self) -> list[Form]:
        world = self.world
        w = widget
        product = (Widget(w(1), "商品编号", "text"), Widget(w(2), "商品名称", "text"), Widget(w(3), "规格型号", "text"),
                   Widget(w(4), "单位", "combo"), Widget(w(5), "条码", "text"), Widget(w(6), "销售单价", "number"))
        stock = (Widget(w(11), "商品编号", "text"), Widget(w(12), "仓库", "combo"), Widget(w(13), "库存数量", "number"))
        customer = (Widget(w(21), "客户编号", "text"), Widget(w(22), "客户名称", "text"), Widget(w(23), "联系人", "text"),
                    Widget(w(24), "联系电话", "text"), Widget(w(25), "负责人", "user"))
        lines = (Widget(w(41), "商品编号", "text"), Widget(w(42), "数量", "number"), Widget(w(43), "单价", "number"),
                 Widget(w(44), "金额", "number"))
        outbound = (Widget(w(31), "出库单号", "sn"), Widget(w(32), "出库日期", "datetime"), Widget(w(33), "客户编号", "text"),
                    Widget(w(34), "仓库", "combo"), Widget(w(35), "币种", "combo"), Widget(w(36), "合计金额", "number"),
                    Widget(w(37), "经办人", "user"), Widget(w(38), "部门", "dept"), Widget(w(39), "出库明细", "subform", lines))
        writeback = (Widget(w(51), "商品编号", "text"), Widget(w(52), "渠道", "text"), Widget(w(53), "可售数量", "number"),
                     Widget(w(54), "在库数量", "number"), Widget(w(55), "可承诺数量", "number"))

        def values(widgets: tuple[Widget, ...], *given: Any) -> dict[str, Any]:
            return {wd.name: value for wd, value in zip(widgets, given, strict=True)}

        def products() -> list[tuple[str, datetime, datetime, dict[str, Any]]]:
            return [(f"6512a0c1{1:04x}{s.index:012x}", s.modified_at, s.modified_at, values(
                product, s.code, f"{s.product_zh} {s.variant}", s.variant, "件", s.barcode, float(s.price("CNY"))))
                for s in world.skus]

        def stocks() -> list[tuple[str, datetime, datetime, dict[str, Any]]]:
            return [(f"6512a0c1{2:04x}{n:012x}", r.modified_at, r.modified_at, values(stock, r.sku.code, r.warehouse, r.quantity))
                    for n, r in enumerate(world.stock)]

        def customers() -> list[tuple[str, datetime, datetime, dict[str, Any]]]:
            return [(f"6512a0c1{3:04x}{c.id:012x}", c.created_at, c.updated_at, values(
                customer, f"CUST{c.id}", f"{c.last_name}{c.first_name}", f"{c.first_name} {c.last_name}", c.in_erp[1],
                MEMBER)) for c in world.customers]

        def orders() -> list[tuple[str, datetime, datetime, dict[str, Any]]]:
            return [(f"6512a0c1{4:04x}{o.id % 16**12:012x}", o.created_at, o.updated_at, values(
                outbound, f"XSCK{o.id % 10**9:06d}", stamp(o.created_at), f"CUST{o.customer.id}", "01", o.currency,
                float(o.total), MEMBER, {"name": "销售部", "dept_no": 2},
                [{"_id": f"{line.id:024x}", **values(lines, line.sku.code, line.quantity, float(line.unit_price),
                                                     float(line.amount))} for line in o.lines]))
                for o in sorted(world.orders_of(self.shop), key=lambda o: o.id % 16**12)]

        written = Form("可售库存", writeback, list)
        written.records = lambda: list(written.stored.values())
        return [Form("商品", product, products), Form("库存", stock, stocks), Form("客户", customer, customers),
                Form("销售出库单", outbound, orders), written]

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return error(THROTTLED)

    def server_error(self, request: Request) -> Response:
        return json_response({"code": 5000, "msg": "服务器内部错误"}, 503)

    def fault_scope(self, request: Request) -> str:
        """The path plus the form, so faults can target one form (every form shares the paths)."""
        body = request.get_json(silent=True)
        return f"{request.path}#{body.get('entry_id', '') if isinstance(body, dict) else ''}"

    def authenticate(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return None if scheme == "Bearer" and key == self.api_key else error("key")

    def before_request(self, request: Request) -> Response | None:
        """The key's global 50/s, then the endpoint's own limit."""
        call = request.path.removeprefix("/api/v5/app/entry/")
        with self._lock:
            buckets = [self.buckets.setdefault(name, Bucket(rate, rate)) for name, rate in
                       (("*", GLOBAL_RATE), (call, RATES.get(call, GLOBAL_RATE)))]
        return None if all(bucket.take() for bucket in buckets) else error(THROTTLED)

    # -- endpoints --------------------------------------------------------------------------------------
    def call(self, request: Request, call: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error("param", "请求体不是 JSON 对象")
        form = self.forms.get(str(body.get("entry_id", "")))
        if body.get("app_id") != self.app_id or form is None:
            return error("form", f"app_id {body.get('app_id')!r}, entry_id {body.get('entry_id')!r}")
        handler = {"widget/list": self.widget_list, "data/list": self.data_list,
                   "data/batch_create": self.batch_create, "data/batch_update": self.batch_update}.get(call)
        if handler is None:
            return self.not_found(request)
        try:
            return handler(form, body, request)
        except (TypeError, ValueError, KeyError) as exc:
            return error("param", f"{type(exc).__name__}: {exc}")

    def widget_list(self, form: Form, body: dict[str, Any], request: Request) -> Response:
        def shape(w: Widget) -> dict[str, Any]:
            return {"name": w.name, "label": w.label, "type": w.type, **({"items": [shape(i) for i in w.items]} if w.items else {})}

        return json_response({"widgets": [shape(w) for w in form.widgets], "dataModifyTime": stamp(self.world.now),
                              "sysWidgets": [{"name": n} for n in ("creator", "createTime", "updater", "updateTime")]})

    def data_list(self, form: Form, body: dict[str, Any], request: Request) -> Response:
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= MAX_BATCH:
            return error("param", f"limit 须在 1 到 {MAX_BATCH} 之间")
        after = str(body.get("data_id") or "")
        wanted = set(body.get("fields") or [w.name for w in form.widgets])
        matches = _filter(body.get("filter"))
        page = [r for r in sorted(form.records(), key=lambda r: r[0]) if r[0] > after and matches(r)][:limit]
        with self._lock:
            self.bodies.append(body)
        self.count_records(form.name, len(page))
        return json_response({"data": [{
            "_id": data_id, "appId": self.app_id, "entryId": body["entry_id"], "creator": MEMBER, "updater": MEMBER,
            "createTime": stamp(created), "updateTime": stamp(updated),
            **{name: value for name, value in values.items() if name in wanted}} for data_id, created, updated, values in page]})

    def _transaction(self, body: dict[str, Any], request: Request, write: Callable[[], Response]) -> Response:
        try:
            return self.transactions.answer(body["entry_id"], body.get("transaction_id"), request.get_data(), write)
        except IdempotencyConflict:
            return error("transaction", str(body.get("transaction_id")))

    def batch_create(self, form: Form, body: dict[str, Any], request: Request) -> Response:
        rows = body["data_list"]
        if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_BATCH:
            return error("param", f"data_list 须为 1 到 {MAX_BATCH} 条")

        def write() -> Response:
            now, ids = self.world.now, []
            with self._lock:
                self.writes.append(body)
                for row in rows:
                    data_id = f"6512a0c1{9:04x}{len(form.stored) + 1:012x}"
                    form.stored[data_id] = (data_id, now, now, {name: cell["value"] for name, cell in row.items()})
                    ids.append(data_id)
            return json_response({"status": "success", "success_count": len(ids), "success_ids": ids})

        return self._transaction(body, request, write)

    def batch_update(self, form: Form, body: dict[str, Any], request: Request) -> Response:
        ids, data = body["data_ids"], body["data"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BATCH or not isinstance(data, dict):
            return error("param", f"data_ids 须为 1 到 {MAX_BATCH} 条, data 为对象")

        def write() -> Response:
            now, done = self.world.now, 0
            with self._lock:
                self.writes.append(body)
                for data_id in ids:
                    if data_id in form.stored:
                        _, created, _, values = form.stored[data_id]
                        form.stored[data_id] = (data_id, created, now, {**values, **{n: c["value"] for n, c in data.items()}})
                        done += 1
            return json_response({"status": "success", "success_count": done})

        return self._transaction(body, request, write)


def _filter(given: Any) -> Callable[[tuple[str, datetime, datetime, dict[str, Any]]], bool]:
    """A record predicate from a ``filter``; times compared as instants."""
    if not given:
        return lambda record: True
    conditions = given.get("cond") or []
    combine = any if given.get("rel") == "or" else all

    def value_of(record: tuple[str, datetime, datetime, dict[str, Any]], name: str) -> Any:
        return {"createTime": record[1], "updateTime": record[2]}.get(name, record[3].get(name))

    def comparable(value: Any, like: Any) -> Any:
        if isinstance(like, datetime) and isinstance(value, str):
            return datetime.fromisoformat(value)
        return Decimal(str(value)) if isinstance(like, int | float) and value is not None else value

    def holds(record: tuple[str, datetime, datetime, dict[str, Any]], cond: Mapping[str, Any]) -> bool:
        actual, method, wanted = value_of(record, cond["field"]), cond["method"], cond.get("value") or []
        wanted = [comparable(v, actual) for v in wanted]
        actual = Decimal(str(actual)) if isinstance(actual, int | float) else actual
        checks = {"eq": lambda: actual == wanted[0], "ne": lambda: actual != wanted[0], "in": lambda: actual in wanted,
                  "nin": lambda: actual not in wanted, "empty": lambda: actual in (None, "", []),
                  "not_empty": lambda: actual not in (None, "", []),
                  "range": lambda: actual is not None and (wanted[0] is None or actual >= wanted[0])
                  and (len(wanted) < 2 or wanted[1] is None or actual <= wanted[1])}
        if method not in checks:
            raise ValueError(f"filter method {method!r}")
        return checks[method]()

    return lambda record: combine(holds(record, cond) for cond in conditions)


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = JiandaoyunSandbox(world, credentials.get("api_key", ""), account, str(settings.get("app_id", APP_ID)))
    port = local_port(account, settings)
    return Running(account, "jiandaoyun", sandbox.serve(port=port), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start)
