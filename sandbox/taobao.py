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
TOP's ranges: tid ~ 3.8×10^18, num_iid ~ 6×10^11. Taobao prices include VAT: the World's tax (none in a
marketplace shop) would show as ``adjust_fee``, so ``payment = total_fee + post_fee - discount_fee + adjust_fee``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from .kit import Bucket
from .kit.gateway import GatewaySandbox, Paging, Refused, Window
from .kit.sorted_params import signature_valid, timestamp_fresh
from .kit.stock import StockBook
from .launch import Launcher, Running, local_port
from .world import VARIANTS, Order, OrderLine, World

ZONE = ZoneInfo("Asia/Shanghai")
TID, OID, REFUND_ID = 3_800_000_000_000_000_000, 3_900_000_000_000_000_000, 150_000_000_000_000
NUM_IID, SKU_ID = 600_000_000_000, 4_000_000_000_000
MAX_SKUS = 20
MODIFIED = Window(("start_modified", "end_modified"), timedelta(days=1), Paging(max_page_size=100))
ITEMS = Paging(max_page_size=200)
SUMMARY_FIELDS = {"tid", "status", "type", "created", "modified", "pay_time", "payment", "total_fee", "post_fee",
                  "buyer_nick", "seller_nick"}


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def local(when: datetime | None) -> str | None:
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if when else None


class TaobaoSandbox(GatewaySandbox):
    name, path, zone = "taobao", "/router/rest", "Asia/Shanghai"
    errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "missing": (40, "Missing Required Arguments:{name}", "isv.missing-parameter:{name}"),
        "invalid": (41, "Invalid Arguments:{name}", "isv.invalid-parameter:{name}"),
        "method": (22, "Invalid Method", "isv.method-not-exist"),
        "throttled": (7, "App Call Limited", "accesscontrol.limited-by-app-access-count")}
    required = (("method", 21, "Missing Method"), ("app_key", 28, "Missing App Key"),
                ("timestamp", 31, "Missing Timestamp"), ("sign", 25, "Invalid signature"),
                ("session", 26, "Missing Session"))

    def __init__(self, world: World, shop: str, app_key: str, app_secret: str, session: str) -> None:
        super().__init__(world, {
            "taobao.trades.sold.increment.get": self.trades_increment, "taobao.trade.fullinfo.get": self.fullinfo,
            "taobao.refunds.receive.get": self.refunds, "taobao.items.onsale.get": self.items_onsale,
            "taobao.item.seller.get": self.item_seller, "taobao.item.quantity.update": self.item_quantity,
            "taobao.skus.quantity.update": self.skus_quantity}, Bucket(size=400, rate=400))
        self.shop = world.shop(shop)
        self.app_key, self.app_secret, self.session = app_key, app_secret, session
        self.products = world.products()
        self.stock = StockBook(world)
        self.quantities, self.sku_modified = self.stock.quantities, self.stock.modified
        self._by_tid: dict[str, Order] = {}
        self._indexed = 0

    def answer_key(self, method: str) -> str:
        return method.removeprefix("taobao.").replace(".", "_") + "_response"

    def checks(self, params: dict[str, str]) -> Iterable[tuple[bool, Refused]]:
        yield params["app_key"] == self.app_key, self.refused(29, "Invalid App Key")
        yield (timestamp_fresh(params["timestamp"], self.zone, datetime.now(UTC)),
               self.refused(32, "Invalid Timestamp", sub_msg="timestamp must be within 10 minutes of GMT+8"))
        yield signature_valid(params, self.app_secret), self.refused(25, "Invalid signature")
        yield params["session"] == self.session, self.refused(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        yield (params.get("format") == "json",
               self.refuse("invalid", "format", "the sandbox answers json only"))

    def server_error(self, request: Request) -> Response:
        return self.error_answer(self.refused(15, "Remote service error", "isp.top-remote-connection-timeout",
                                              "远程服务调用超时"))

    # -- trades -----------------------------------------------------------------------------------------------
    def orders(self) -> list[Order]:
        return self.world.orders_of(self.shop.name)

    def trades_increment(self, params: dict[str, str]) -> dict[str, Any]:
        return self.window(params, MODIFIED, "trades", self.orders(), modified=lambda o: o.updated_at,
                           ident=lambda o: o.id, state=self.status, wrap=("trades", "trade"),
                           render=lambda o: self.fields(params, self.render_trade(o), SUMMARY_FIELDS))

    def fullinfo(self, params: dict[str, str]) -> dict[str, Any]:
        tid = self.need(params, "tid")
        if self._indexed != len(self.world.orders):  # the World only ever gains orders
            self._by_tid = {str(TID + o.id): o for o in self.orders()}
            self._indexed = len(self.world.orders)
        order = self._by_tid.get(tid)
        if order is None:
            raise self.refused(15, "Remote service error", "isv.trade-not-exist", f"交易{tid}不存在")
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
        return self.window(params, MODIFIED, "refunds", pairs, modified=lambda p: p[1].created_at,
                           ident=lambda p: p[1].id, state=lambda p: "SUCCESS", wrap=("refunds", "refund"),
                           render=lambda p: self.fields(params, self.render_refund(*p)))

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
        return self.paged(params, ITEMS, sorted(self.products), lambda p: self.fields(params, self.render_item(p)),
                          ("items", "item"))

    def product(self, params: dict[str, str]) -> int:
        num_iid = self.number(params, "num_iid", 0, 1, 10**15)
        if num_iid - NUM_IID not in self.products:
            raise self.refused(15, "Remote service error", "isv.item-not-exist", f"商品{num_iid}不存在")
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
            raise self.refuse("invalid", "skuid_quantities", f"at most {MAX_SKUS} pairs id:quantity")
        self.set_quantities(product, [(kind, ident, qty) for ident, qty in pairs], params.get("type", "1"))
        return {"item": self.render_item(product)}

    def set_quantities(self, product: int, changes: list[tuple[str, str, str]], kind: str) -> None:
        """All or nothing: an unknown SKU or a bad quantity refuses the whole call."""
        by = {"sku_id": {str(SKU_ID + s.index): s for s in self.products[product]},
              "outer_id": {s.code: s for s in self.products[product]}}
        if kind not in ("1", "2"):
            raise self.refuse("invalid", "type")
        new = {}
        for field, ident, qty in changes:
            sku = by[field].get(ident)
            if sku is None:
                raise self.refused(15, "Remote service error", "isv.item-sku-not-exist", f"SKU {ident} 不存在")
            if not qty.lstrip("-").isdigit() or (kind == "1" and int(qty) < 0):
                raise self.refuse("invalid", "quantity")
            new[sku.index] = int(qty)
        self.stock.settle(new, incremental=kind == "2")


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = TaobaoSandbox(world, account, credentials["app_key"], credentials["app_secret"], credentials["session"])
    return Running(account, "taobao", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"session": "6100"})
