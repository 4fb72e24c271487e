"""Taobao/Tmall Open Platform (TOP) emulator: the ``/router/rest`` gateway for one shop of the World.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 4):

* one gateway, GET or POST form, the API named by ``method``; system parameters ``app_key``,
  ``session``, ``timestamp`` ("yyyy-MM-dd HH:mm:ss" in GMT+8, or epoch milliseconds as the official
  Python SDK sends it; ±10 minutes), ``v``, ``format=json``, ``sign_method`` md5 | hmac | hmac-sha256
  and ``sign`` over query and form together (checked by ``kit.sorted_params``);
* every answer is HTTP 200: ``{"<method without taobao., dots as _>_response": {...}}`` with lists
  wrapped (``"trades": {"trade": [...]}``), empty lists and null fields left out; or
  ``{"error_response": {"code", "msg", "sub_code", "sub_msg", "request_id"}}``: 7 app call limited
  (a kit Bucket; its sub_msg announces the ban), 15 remote service error (``isp.*`` transient,
  ``isv.*`` the caller's), 21/22 missing/invalid method, 25 invalid signature, 26/27 missing/invalid
  session, 28/29 missing/invalid app key, 31/32 missing/invalid timestamp, 40/41 missing/invalid
  arguments. Only 15 and 27 are verified against published answers; the other numbers follow TOP's
  error table as commonly quoted;
* trades: ``taobao.trades.sold.increment.get`` (``start_modified``..``end_modified``, both inclusive
  here since the docs do not say, at most one day apart; ``page_no``, ``page_size`` ≤ 100,
  ``use_has_next``; newest ``modified`` first; only summary fields, ``orders`` is not among them) and
  ``taobao.trade.fullinfo.get`` (``tid``, sub-orders in ``orders.order``);
  ``taobao.refunds.receive.get`` windowed the same way;
* items: ``taobao.items.onsale.get`` (paged, ``total_results``), ``taobao.item.seller.get`` with
  ``skus.sku`` (sku_id, outer_id = merchant SKU, quantity); quantities set by
  ``taobao.item.quantity.update`` and ``taobao.skus.quantity.update`` (≤ 20 SKUs by skuid or outerid,
  type 1 full, 2 incremental). TOP has no compare-and-set.

Money is a string with 2 decimals in CNY; times are Shanghai wall-clock without a zone. Ids are in
TOP's ranges: tid ~ 3.8×10^18, num_iid ~ 6×10^11. Taobao prices include VAT: the World's tax is shown
as ``adjust_fee``, so ``payment = total_fee + post_fee - discount_fee + adjust_fee``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.paging import numbered_page
from .kit.sorted_params import parse_timestamp, request_params, signature_valid, timestamp_fresh
from .launch import Launcher, Running, local_port
from .world import VARIANTS, Order, OrderLine, Sku, World

ZONE = ZoneInfo("Asia/Shanghai")
TID, OID, REFUND_ID = 3_800_000_000_000_000_000, 3_900_000_000_000_000_000, 150_000_000_000_000
NUM_IID, SKU_ID = 600_000_000_000, 4_000_000_000_000
MAX_SPAN, MAX_SKUS = timedelta(days=1), 20
SUMMARY_FIELDS = {"tid", "status", "type", "created", "modified", "pay_time", "payment", "total_fee", "post_fee",
                  "buyer_nick", "seller_nick"}


class TopError(Exception):
    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(msg)
        self.body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def local(when: datetime | None) -> str | None:
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if when else None


class TaobaoSandbox(HttpSandbox):
    name = "taobao"

    def __init__(self, world: World, shop: str, app_key: str, app_secret: str, session: str) -> None:
        super().__init__(world)
        self.shop = world.shop(shop)
        self.app_key, self.app_secret, self.session = app_key, app_secret, session
        self.calls = Bucket(size=400, rate=400)  # per-app flow control; tests shrink it
        self.ban_seconds, self.throttled = 1, 0  # the ban code 7 announces; how many calls it refused
        self.after_listing: Callable[[dict[str, str]], None] | None = None
        self.log: list[tuple[str, dict[str, str]]] = []  # (method, parameters) of each authenticated call
        self.products: dict[int, list[Sku]] = {}
        for sku in world.skus:
            self.products.setdefault(sku.index // len(VARIANTS), []).append(sku)
        self.quantities = {sku.index: sum(r.quantity for r in world.stock if r.sku is sku) for sku in world.skus}
        self.sku_modified = {sku.index: sku.modified_at for sku in world.skus}
        self._requests = threading.local()
        self._by_tid: dict[str, Order] = {}
        self._indexed = 0
        self.routes = Map([Rule("/router/rest", endpoint="gateway", methods=["GET", "POST"])])
        self.methods: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "taobao.trades.sold.increment.get": self.trades_increment, "taobao.trade.fullinfo.get": self.fullinfo,
            "taobao.refunds.receive.get": self.refunds, "taobao.items.onsale.get": self.items_onsale,
            "taobao.item.seller.get": self.item_seller, "taobao.item.quantity.update": self.item_quantity,
            "taobao.skus.quantity.update": self.skus_quantity}

    # -- the gateway ----------------------------------------------------------------------------------------
    def error(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> Response:
        return self._answer({"error_response": TopError(code, msg, sub_code, sub_msg).body})

    def _answer(self, payload: dict[str, Any]) -> Response:
        body = next(iter(payload.values()))
        body.update(request_id=f"{self.stats.requests:x}sbx")
        body = {key: value for key, value in body.items() if value not in ("", None)}
        return json_response({next(iter(payload)): body})

    def fault_scope(self, request: Request) -> str:
        """The path plus the API method, so faults can target one API (every call shares one path)."""
        return f"{request.path}?method={request_params(request).get('method', '')}"

    def rate_limited(self, request: Request) -> Response:
        return self.error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                          f"This ban will last for {self.ban_seconds} more seconds")

    def server_error(self, request: Request) -> Response:
        return self.error(15, "Remote service error", "isp.top-remote-connection-timeout", "远程服务调用超时")

    def authenticate(self, request: Request) -> Response | None:
        params = request_params(request)
        checks = [("method", 21, "Missing Method"), ("app_key", 28, "Missing App Key"),
                  ("timestamp", 31, "Missing Timestamp"), ("sign", 25, "Invalid signature"),
                  ("session", 26, "Missing Session")]
        for name, code, msg in checks:
            if not params.get(name):
                return self.error(code, msg)
        if params["app_key"] != self.app_key:
            return self.error(29, "Invalid App Key")
        if not timestamp_fresh(params["timestamp"], "Asia/Shanghai", datetime.now(UTC)):
            return self.error(32, "Invalid Timestamp", sub_msg="timestamp must be within 10 minutes of GMT+8")
        if not signature_valid(params, self.app_secret):
            return self.error(25, "Invalid signature")
        if params["session"] != self.session:
            return self.error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        if params.get("format") != "json":
            return self.error(41, "Invalid Arguments:format", "isv.invalid-parameter", "the sandbox answers json only")
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
        handler = self.methods.get(params["method"])
        if handler is None:
            return self.error(22, "Invalid Method", "isv.method-not-exist", params["method"])
        with self._lock:
            self.log.append((params["method"], {k: v for k, v in params.items() if k not in ("session", "sign")}))
        try:
            body = handler(params)
        except TopError as exc:
            return self._answer({"error_response": exc.body})
        return self._answer({params["method"].removeprefix("taobao.").replace(".", "_") + "_response": body})

    # -- arguments ----------------------------------------------------------------------------------------
    @staticmethod
    def need(params: dict[str, str], name: str) -> str:
        if not params.get(name):
            raise TopError(40, f"Missing Required Arguments:{name}", f"isv.missing-parameter:{name}")
        return params[name]

    @staticmethod
    def number(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
        value = params.get(name, str(default))
        if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
            raise TopError(41, f"Invalid Arguments:{name}", f"isv.invalid-parameter:{name}",
                           f"{name} must be between {low} and {high}")
        return int(value)

    def when(self, params: dict[str, str], name: str) -> datetime:
        stamp = parse_timestamp(self.need(params, name), "Asia/Shanghai")
        if stamp is None or params[name].isdigit():
            raise TopError(41, f"Invalid Arguments:{name}", f"isv.invalid-parameter:{name}", "yyyy-MM-dd HH:mm:ss")
        return stamp

    @staticmethod
    def fields(params: dict[str, str], record: dict[str, Any], allowed: set[str] | None = None) -> dict[str, Any]:
        wanted = {name.strip() for name in TaobaoSandbox.need(params, "fields").split(",")}
        return {k: v for k, v in record.items() if k in wanted and (allowed is None or k in allowed) and v is not None}

    def _window(self, params: dict[str, str], stream: str, items: list[Any], modified: Callable[[Any], datetime],
                ident: Callable[[Any], int], state: Callable[[Any], str], render: Callable[[Any], dict[str, Any]],
                wrap: tuple[str, str]) -> dict[str, Any]:
        """A ``start_modified``..``end_modified`` listing: at most a day, newest first, paged."""
        start, end = self.when(params, "start_modified"), self.when(params, "end_modified")
        if end < start or end - start > MAX_SPAN:
            raise TopError(41, "Invalid Arguments:end_modified", "isv.invalid-parameter:end_modified",
                           "end_modified must follow start_modified by at most one day")
        page, size = self.number(params, "page_no", 1, 1, 10**6), self.number(params, "page_size", 40, 1, 100)
        chosen = sorted((i for i in items if start <= modified(i) <= end), key=lambda i: (modified(i), ident(i)),
                        reverse=True)
        if params.get("status"):
            chosen = [i for i in chosen if state(i) == params["status"]]
        listing = numbered_page(chosen, page, size)
        chunk = [render(item) for item in listing.items]
        self.count_records(f"{stream}_listed", len(chunk))
        if self.after_listing is not None:  # tests: change the shop between two pages of a read
            self.after_listing(params)
        listed = {wrap[0]: {wrap[1]: chunk}} if chunk else {}
        if params.get("use_has_next", "").lower() == "true":
            return {"has_next": listing.has_next, **listed}
        return {"total_results": listing.total, **listed}

    # -- trades -----------------------------------------------------------------------------------------------
    def orders(self) -> list[Order]:
        return self.world.orders_of(self.shop.name)

    def trades_increment(self, params: dict[str, str]) -> dict[str, Any]:
        return self._window(params, "trades", self.orders(), lambda o: o.updated_at, lambda o: o.id, self.status,
                            lambda o: self.fields(params, self.render_trade(o), SUMMARY_FIELDS), ("trades", "trade"))

    def fullinfo(self, params: dict[str, str]) -> dict[str, Any]:
        tid = self.need(params, "tid")
        if self._indexed != len(self.world.orders):  # the World only ever gains orders
            self._by_tid = {str(TID + o.id): o for o in self.orders()}
            self._indexed = len(self.world.orders)
        order = self._by_tid.get(tid)
        if order is None:
            raise TopError(15, "Remote service error", "isv.trade-not-exist", f"交易{tid}不存在")
        self.count_records("trades", 1)
        return {"trade": self.fields(params, self.render_trade(order))}

    @staticmethod
    def status(order: Order) -> str:
        if order.financial_status == "pending":
            return "WAIT_BUYER_PAY"
        if order.financial_status in ("voided", "refunded"):
            return "TRADE_CLOSED_BY_TAOBAO" if order.financial_status == "voided" else "TRADE_CLOSED"
        return "TRADE_FINISHED" if order.fulfillment_status == "fulfilled" else "WAIT_SELLER_SEND_GOODS"

    def render_trade(self, order: Order) -> dict[str, Any]:
        status, customer = self.status(order), order.customer
        refunded = {line_id for refund in order.refunds for line_id, _ in refund.lines}
        return {
            "tid": TID + order.id, "status": status, "type": "fixed", "created": local(order.created_at),
            "modified": local(order.updated_at),
            "pay_time": None if order.financial_status in ("pending", "voided") else local(order.created_at),
            "consign_time": local(order.updated_at) if order.fulfillment_status == "fulfilled" else None,
            "end_time": local(order.updated_at) if status.startswith(("TRADE_FINISHED", "TRADE_CLOSED")) else None,
            "payment": money(order.total), "total_fee": money(order.subtotal), "post_fee": money(order.shipping),
            "discount_fee": money(order.discount), "adjust_fee": money(order.tax),
            "buyer_nick": f"{customer.first_name[0].lower()}***{customer.id % 10}", "seller_nick": self.shop.name,
            "orders": {"order": [self.render_suborder(order, line, status, line.id in refunded)
                                 for line in order.lines]},
        }

    @staticmethod
    def render_suborder(order: Order, line: OrderLine, status: str, refunded: bool) -> dict[str, Any]:
        sku = line.sku
        return {"oid": OID + line.id, "num_iid": NUM_IID + sku.index // len(VARIANTS),
                "sku_id": str(SKU_ID + sku.index),
                "outer_sku_id": sku.code, "outer_iid": sku.code.rsplit("-", 1)[0], "title": sku.product_zh,
                "sku_properties_name": f"尺码:{sku.variant}", "num": line.quantity, "price": money(line.unit_price),
                "total_fee": money(line.amount), "payment": money(line.amount), "status": status,
                "refund_status": "SUCCESS" if refunded else "NO_REFUND"}

    def refunds(self, params: dict[str, str]) -> dict[str, Any]:
        pairs = [(order, refund) for order in self.orders() for refund in order.refunds]
        return self._window(params, "refunds", pairs, lambda p: p[1].created_at, lambda p: p[1].id,
                            lambda p: "SUCCESS",
                            lambda p: self.fields(params, self.render_refund(*p)), ("refunds", "refund"))

    @staticmethod
    def render_refund(order: Order, refund: Any) -> dict[str, Any]:
        line_id, quantity = refund.lines[0]
        line = next(line for line in order.lines if line.id == line_id)
        return {"refund_id": REFUND_ID + refund.id, "tid": TID + order.id, "oid": OID + line_id, "num": quantity,
                "outer_id": line.sku.code, "total_fee": money(line.amount), "refund_fee": money(refund.amount),
                "status": "SUCCESS", "created": local(refund.created_at), "modified": local(refund.created_at)}

    # -- items and stock ------------------------------------------------------------------------------------
    def render_item(self, product: int) -> dict[str, Any]:
        skus = self.products[product]
        return {"num_iid": NUM_IID + product, "title": skus[0].product_zh, "outer_id": skus[0].code.rsplit("-", 1)[0],
                "approve_status": "onsale", "price": money(skus[0].price("CNY")),
                "num": sum(self.quantities[s.index] for s in skus),
                "modified": local(max(self.sku_modified[s.index] for s in skus)),
                "skus": {"sku": [{"sku_id": SKU_ID + s.index, "outer_id": s.code, "quantity": self.quantities[s.index],
                                  "price": money(s.price("CNY")), "properties_name": f"20509:{s.index}:尺码:{s.variant}",
                                  "modified": local(self.sku_modified[s.index])} for s in skus]}}

    def items_onsale(self, params: dict[str, str]) -> dict[str, Any]:
        page, size = self.number(params, "page_no", 1, 1, 10**6), self.number(params, "page_size", 40, 1, 200)
        listing = numbered_page(sorted(self.products), page, size)
        chunk = [self.fields(params, self.render_item(p)) for p in listing.items]
        return {"total_results": listing.total, **({"items": {"item": chunk}} if chunk else {})}

    def product(self, params: dict[str, str]) -> int:
        num_iid = self.number(params, "num_iid", 0, 1, 10**15)
        if num_iid - NUM_IID not in self.products:
            raise TopError(15, "Remote service error", "isv.item-not-exist", f"商品{num_iid}不存在")
        return num_iid - NUM_IID

    def item_seller(self, params: dict[str, str]) -> dict[str, Any]:
        return {"item": self.fields(params, self.render_item(self.product(params)))}

    def item_quantity(self, params: dict[str, str]) -> dict[str, Any]:
        product = self.product(params)
        key = ("sku_id", params["sku_id"]) if params.get("sku_id") else ("outer_id", params.get("outer_id", ""))
        self.set_quantities(product, [(*key, self.need(params, "quantity"))], params.get("type", "1"))
        return {"item": self.render_item(product)}

    def skus_quantity(self, params: dict[str, str]) -> dict[str, Any]:
        product = self.product(params)
        kind, text = (("sku_id", params["skuid_quantities"]) if params.get("skuid_quantities")
                      else ("outer_id", self.need(params, "outerid_quantities")))
        pairs = [part.split(":", 1) for part in text.split(";") if part]
        if len(pairs) > MAX_SKUS or any(len(pair) != 2 for pair in pairs):
            raise TopError(41, "Invalid Arguments:skuid_quantities", "isv.invalid-parameter",
                           f"at most {MAX_SKUS} pairs id:quantity")
        self.set_quantities(product, [(kind, ident, qty) for ident, qty in pairs], params.get("type", "1"))
        return {"item": self.render_item(product)}

    def set_quantities(self, product: int, changes: list[tuple[str, str, str]], kind: str) -> None:
        """All or nothing: an unknown SKU or a bad quantity refuses the whole call."""
        by = {"sku_id": {str(SKU_ID + s.index): s for s in self.products[product]},
              "outer_id": {s.code: s for s in self.products[product]}}
        if kind not in ("1", "2"):
            raise TopError(41, "Invalid Arguments:type", "isv.invalid-parameter:type")
        with self._lock:
            new = {}
            for field, ident, qty in changes:
                sku = by[field].get(ident)
                if sku is None:
                    raise TopError(15, "Remote service error", "isv.item-sku-not-exist", f"SKU {ident} 不存在")
                if not qty.lstrip("-").isdigit() or (kind == "1" and int(qty) < 0):
                    raise TopError(41, "Invalid Arguments:quantity", "isv.invalid-parameter:quantity")
                new[sku.index] = int(qty) if kind == "1" else max(0, self.quantities[sku.index] + int(qty))
            now = self.world.tick(1)
            for index, quantity in new.items():
                self.quantities[index], self.sku_modified[index] = quantity, now

    def sell(self, sku_index: int, quantity: int) -> None:
        """A sale on Taobao: stock goes down under whoever last set it."""
        with self._lock:
            self.quantities[sku_index] -= quantity


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = TaobaoSandbox(world, account, credentials["app_key"], credentials["app_secret"], credentials["session"])
    return Running(account, "taobao", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"session": "6100"})
