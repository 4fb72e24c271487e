"""Pinduoduo Open Platform (拼多多开放平台) emulator: the ``/api/router`` gateway for one shop of the World.

Faithful to what is documented (../shared/reference/commerce_apis.md, section 5b), the rest marked:

* one gateway, GET or POST form, the API named by ``type``; system parameters ``client_id``,
  ``access_token`` (the shop's), ``timestamp`` (UNIX seconds, ±10 minutes; epoch milliseconds are
  accepted too, as the public ``pddsdk`` client sends them), ``data_type`` JSON, ``version`` V1 and
  ``sign`` = upper MD5(client_secret + sorted k1v1k2v2… + client_secret) over query and form together
  (checked by ``kit.sorted_params``). Verified by the reference file;
* every answer is HTTP 200: ``{"<answer key>": {...}}`` or ``{"error_response": {"error_code",
  "error_msg", "sub_code", "sub_msg", "request_id"}}`` (field names verified; 10019 "access_token已过期"
  as the reference file quotes it). The other numbers are the sandbox's choice, as commonly quoted and
  not verified against PDD's (non-public) table: 10000 参数错误 (missing or invalid arguments, a window
  over 30 minutes, a stale timestamp), 10001 unknown ``type``, 10016 unknown ``client_id``, 20004 sign
  check failed, 70031 flow control (a kit Bucket), 50000 system error (the server-error fault);
* orders: ``pdd.order.number.list.increment.get`` (``start_updated_at``..``end_updated_at`` in UNIX
  seconds, both inclusive here, at most 30 minutes apart; ``is_lucky_flag``, ``order_status`` and
  ``refund_status`` required, 5 = all; ``page``, ``page_size`` ≤ 100; newest ``updated_at`` first;
  ``total_count``, or ``has_next`` with ``use_has_next``) answers under
  ``order_sn_increment_get_response`` with whole orders in ``order_sn_list``, items in ``item_list``;
  after-sales: ``pdd.refund.list.increment.get`` (same windows, ``after_sales_status`` and
  ``after_sales_type`` required, 1 = all) under ``refund_increment_get_response.refund_list``. The API
  names and parameters are verified (docs.rs pdd); the root keys and bodies are as commonly quoted;
* goods: ``pdd.goods.list.get`` (paged, ``goods_list_get_response``: ``total_count``, ``goods_list``
  with ``sku_list``: ``sku_id``, ``outer_id`` = merchant SKU, ``sku_quantity``),
  ``pdd.goods.detail.get`` (``goods_id``; ``goods_detail_get_response.sku_list``: ``sku_id``,
  ``quantity``, ``out_sku_sn``) and ``pdd.goods.quantity.update`` (``goods_id``, ``sku_id`` or
  ``outer_id``, ``quantity``, ``update_type`` 1 full | 2 incremental; one SKU per call, no batch form;
  ``goods_quantity_update_response.is_success``): parameters from a proxy's copy of PDD's docs, answer
  shapes as commonly quoted. PDD has no compare-and-set.

Money in orders is a JSON number in yuan; after-sales' ``refund_amount`` is whole fen (分). Times are
Beijing wall clock ("yyyy-MM-dd HH:mm:ss"). Receivers come as PDD sends them: ``receiver_name``,
``receiver_phone``, ``receiver_address`` encrypted (``~AgAAAA…~``, not decryptable here either) beside
their ``*_mask`` forms ("李**", "138****5678"). Statuses: ``order_status`` 1 待发货, 2 已发货待签收,
3 已签收; ``confirm_status`` 0 未成交 (unpaid), 1 已成交, 2 已取消; ``refund_status`` 1 无售后,
4 退款成功; after-sales ``after_sales_status`` 10 退款成功, ``after_sales_type`` 2 仅退款. PDD prices
include VAT: the World's tax (none in a marketplace shop) would show as the seller's price change
``order_change_amount``, so ``pay_amount = goods_amount + postage - discount_amount + order_change_amount``. Ids are
in PDD's shapes: ``order_sn`` "yyMMdd-" + 15 digits, goods_id ~ 10^11, sku_id ~ 10^12.
"""

from __future__ import annotations

import base64
import hashlib
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
from .world import VARIANTS, Order, Refund, Sku, World

ZONE = ZoneInfo("Asia/Shanghai")
ORDER_NO, AFTER_SALES_ID, GOODS_ID, SKU_ID = 100_000_000_000_000, 10_000_000_000_000, 100_000_000_000, 1_000_000_000_000
PAGES = Paging(max_page_size=100, page=("page", "page_size"), default_page_size=100, total_key="total_count")
UPDATED = Window(("start_updated_at", "end_updated_at"), timedelta(minutes=30), PAGES, span_text="30 minutes")
PAY_TYPES = ("WEIXIN", "ALIPAY", "WEIXIN", "QQ")
ROOTS = {"pdd.order.number.list.increment.get": "order_sn_increment_get_response",
         "pdd.refund.list.increment.get": "refund_increment_get_response",
         "pdd.goods.list.get": "goods_list_get_response", "pdd.goods.detail.get": "goods_detail_get_response",
         "pdd.goods.quantity.update": "goods_quantity_update_response"}


def local(when: datetime | None) -> str | None:
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if when else None


def yuan(amount: Decimal) -> float:
    """Order money as PDD writes it: a JSON number in yuan."""
    return float(amount)


def encrypted(kind: str, value: str) -> str:
    """PDD's encrypted receiver field: ``~`` + base64 ciphertext + ``~``; an opaque stand-in here."""
    digest = base64.b64encode(hashlib.sha256(f"{kind}:{value}".encode()).digest()).decode()
    return f"~AgAAAA{digest[:36]}~"


def order_sn(order: Order) -> str:
    return f"{order.created_at.astimezone(ZONE):%y%m%d}-{ORDER_NO + order.id:015d}"


class PinduoduoSandbox(GatewaySandbox):
    name, path, zone = "pinduoduo", "/api/router", "Asia/Shanghai"
    code_field, message_field, method_param = "error_code", "error_msg", "type"
    secret_params: ClassVar[frozenset[str]] = frozenset({"access_token", "sign"})
    errors: ClassVar[dict[str, tuple[int, str, str]]] = {
        "missing": (10000, "参数错误", "isv.missing-parameter:{name}"),
        "invalid": (10000, "参数错误", "isv.invalid-parameter:{name}"),
        "method": (10001, "type不存在", "isv.type-not-exist"),
        "throttled": (70031, "调用过于频繁，请调整调用频率", "isv.api-limited")}
    required = (("type", 10000, "参数错误: type"), ("client_id", 10000, "参数错误: client_id"),
                ("timestamp", 10000, "参数错误: timestamp"), ("sign", 10000, "参数错误: sign"),
                ("access_token", 10000, "参数错误: access_token"))

    def __init__(self, world: World, shop: str, client_id: str, client_secret: str, access_token: str) -> None:
        super().__init__(world, {
            "pdd.order.number.list.increment.get": self.orders_increment,
            "pdd.refund.list.increment.get": self.refunds_increment, "pdd.goods.list.get": self.goods_list,
            "pdd.goods.detail.get": self.goods_detail, "pdd.goods.quantity.update": self.quantity_update},
            Bucket(size=400, rate=400))
        self.shop = world.shop(shop)
        self.client_id, self.client_secret, self.access_token = client_id, client_secret, access_token
        self.products = world.products()
        self.stock = StockBook(world)
        self.quantities = self.stock.quantities

    def answer_key(self, method: str) -> str:
        return ROOTS[method]

    def checks(self, params: dict[str, str]) -> Iterable[tuple[bool, Refused]]:
        yield params["client_id"] == self.client_id, self.refused(10016, "client_id不存在")
        yield (timestamp_fresh(params["timestamp"], self.zone, datetime.now(UTC)),
               self.refuse("invalid", "timestamp", "timestamp must be UNIX seconds within 10 minutes of the server"))
        yield signature_valid(params, self.client_secret), self.refused(20004, "签名sign校验失败")
        yield params["access_token"] == self.access_token, self.refused(10019, "access_token已过期")
        yield (params.get("data_type", "JSON") == "JSON",
               self.refuse("invalid", "data_type", "the sandbox answers JSON only"))

    def rate_limited(self, request: Request) -> Response:
        return self.error_answer(self.refuse("throttled"))

    def server_error(self, request: Request) -> Response:
        return self.error_answer(self.refused(50000, "系统内部错误", "isp.system-error", "服务暂时不可用"))

    def when(self, params: dict[str, str], name: str) -> datetime:
        """PDD's window bounds are UNIX seconds (a wall-clock text is refused)."""
        value = self.need(params, name)
        if not value.isdigit():
            raise self.refuse("invalid", name, f"{name} must be a UNIX timestamp in seconds")
        return datetime.fromtimestamp(int(value), UTC)

    @staticmethod
    def flat(answer: dict[str, Any], key: str) -> dict[str, Any]:
        """PDD lists are plain arrays, empty when nothing matched (the kit's pages wrap them as TOP does)."""
        return {**answer, key: answer.get(key, {}).get("list", [])}

    # -- orders -----------------------------------------------------------------------------------------------
    def orders(self) -> list[Order]:
        return self.world.orders_of(self.shop.name)

    def orders_increment(self, params: dict[str, str]) -> dict[str, Any]:
        for name in ("is_lucky_flag", "order_status", "refund_status"):
            self.need(params, name)
        wanted = {name: params[name] for name in ("order_status", "refund_status") if params[name] != "5"}
        orders = [o for o in self.orders() if all(str(self.statuses(o)[n]) == v for n, v in wanted.items())]
        return self.flat(self.window(params, UPDATED, "orders", orders, modified=lambda o: o.updated_at,
                                     ident=lambda o: o.id, render=self.render_order, wrap=("order_sn_list", "list")),
                         "order_sn_list")

    @staticmethod
    def statuses(order: Order) -> dict[str, int]:
        confirm = {"pending": 0, "voided": 2}.get(order.financial_status, 1)
        return {"confirm_status": confirm, "order_status": 3 if order.fulfillment_status == "fulfilled" else 1,
                "refund_status": 4 if order.refunds else 1}

    def render_order(self, order: Order) -> dict[str, Any]:
        statuses, customer = self.statuses(order), order.customer
        paid = statuses["confirm_status"] == 1
        shipped = statuses["order_status"] == 3
        phone = "".join(ch for ch in customer.phone if ch.isdigit())[-11:]
        address = f"上海市上海市浦东新区世纪大道{customer.id % 1000}号"
        return {
            "order_sn": order_sn(order), **statuses, "trade_type": 0, "is_lucky_flag": 1,
            "pay_type": PAY_TYPES[order.id % len(PAY_TYPES)] if paid else None,
            "pay_no": f"4200{order.id:016d}" if paid else None,
            "created_time": local(order.created_at), "confirm_time": local(order.created_at) if paid else None,
            "pay_time": local(order.created_at) if paid else None,
            "shipping_time": local(order.updated_at) if shipped else None,
            "receive_time": local(order.updated_at) if shipped else None, "updated_at": local(order.updated_at),
            "goods_amount": yuan(order.subtotal), "discount_amount": yuan(order.discount),
            "seller_discount": yuan(order.discount), "platform_discount": 0.0, "postage": yuan(order.shipping),
            "order_change_amount": yuan(order.tax), "pay_amount": yuan(order.total),
            "receiver_name": encrypted("name", customer.last_name + customer.first_name),
            "receiver_name_mask": f"{customer.last_name[0]}**",
            "receiver_phone": encrypted("phone", phone), "receiver_phone_mask": f"{phone[:3]}****{phone[-4:]}",
            "receiver_address": encrypted("address", address), "receiver_address_mask": "上海市上海市浦东新区****",
            "province": "上海市", "city": "上海市", "town": "浦东新区",
            "item_list": [{"goods_id": GOODS_ID + line.sku.index // len(VARIANTS), "sku_id": SKU_ID + line.sku.index,
                           "outer_id": line.sku.code, "outer_goods_id": line.sku.code.rsplit("-", 1)[0],
                           "goods_name": line.sku.product_zh, "goods_spec": f"尺码:{line.sku.variant}",
                           "goods_count": line.quantity, "goods_price": yuan(line.unit_price)}
                          for line in order.lines],
        }

    def refunds_increment(self, params: dict[str, str]) -> dict[str, Any]:
        for name in ("after_sales_status", "after_sales_type"):
            self.need(params, name)
        pairs = [(order, refund) for order in self.orders() for refund in order.refunds]
        return self.flat(self.window(params, UPDATED, "refunds", pairs, modified=lambda p: p[1].created_at,
                                     ident=lambda p: p[1].id, render=lambda p: self.render_refund(*p),
                                     wrap=("refund_list", "list")), "refund_list")

    @staticmethod
    def render_refund(order: Order, refund: Refund) -> dict[str, Any]:
        line_id, quantity = refund.lines[0]
        sku = next(line.sku for line in order.lines if line.id == line_id)
        return {"id": AFTER_SALES_ID + refund.id, "order_sn": order_sn(order),
                "goods_id": GOODS_ID + sku.index // len(VARIANTS), "sku_id": SKU_ID + sku.index, "outer_id": sku.code,
                "goods_number": quantity, "refund_amount": int(refund.amount * 100),  # fen
                "after_sales_status": 10, "after_sales_type": 2,
                "created_time": local(refund.created_at), "updated_time": local(refund.created_at)}

    # -- goods and stock -------------------------------------------------------------------------------------
    def render_sku(self, sku: Sku) -> dict[str, Any]:
        return {"sku_id": SKU_ID + sku.index, "outer_id": sku.code, "outer_goods_id": sku.code.rsplit("-", 1)[0],
                "sku_quantity": self.quantities[sku.index], "spec": f"尺码:{sku.variant}", "is_sku_onsale": 1}

    def render_goods(self, product: int) -> dict[str, Any]:
        skus = self.products[product]
        return {"goods_id": GOODS_ID + product, "goods_name": skus[0].product_zh, "is_onsale": 1,
                "goods_quantity": sum(self.quantities[s.index] for s in skus),
                "sku_list": [self.render_sku(s) for s in skus]}

    def goods_list(self, params: dict[str, str]) -> dict[str, Any]:
        return self.flat(self.paged(params, PAGES, sorted(self.products), self.render_goods, ("goods_list", "list")),
                         "goods_list")

    def product(self, params: dict[str, str]) -> int:
        goods_id = self.number(params, "goods_id", 0, 1, 10**15)
        if goods_id - GOODS_ID not in self.products:
            raise self.refuse("invalid", "goods_id", f"商品{goods_id}不存在")
        return goods_id - GOODS_ID

    def goods_detail(self, params: dict[str, str]) -> dict[str, Any]:
        product = self.product(params)
        return {"goods_id": GOODS_ID + product, "goods_name": self.products[product][0].product_zh,
                "sku_list": [{"sku_id": SKU_ID + s.index, "quantity": self.quantities[s.index], "out_sku_sn": s.code,
                              "spec": f"尺码:{s.variant}"} for s in self.products[product]]}

    def quantity_update(self, params: dict[str, str]) -> dict[str, Any]:
        """One SKU, by ``sku_id`` or ``outer_id``; ``update_type`` 1 sets it, 2 moves it."""
        skus = self.products[self.product(params)]
        by_id, by_code = {str(SKU_ID + s.index): s for s in skus}, {s.code: s for s in skus}
        sku = by_id.get(params.get("sku_id", "")) or by_code.get(params.get("outer_id", ""))
        if sku is None:
            raise self.refuse("invalid", "sku_id", "the goods has no such SKU")
        kind, quantity = params.get("update_type", "1"), self.need(params, "quantity")
        if kind not in ("1", "2") or not quantity.lstrip("-").isdigit() or (kind == "1" and int(quantity) < 0):
            raise self.refuse("invalid", "quantity" if kind in ("1", "2") else "update_type")
        self.stock.settle({sku.index: int(quantity)}, incremental=kind == "2")
        return {"is_success": True}


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = PinduoduoSandbox(world, account, credentials["client_id"], credentials["client_secret"],
                               credentials["access_token"])
    return Running(account, "pinduoduo", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {})  # PDD's ids, secrets and tokens are plain hex: no prefix to imitate
