"""Jushuitan (聚水潭) open platform emulator, version 2: one merchant's OMS rendering the World.

Faithful to what the reference documents (../shared/reference/erp_systems.md, section 6), the rest
marked as the sandbox's choice:

* every call a POST form with ``app_key``, ``access_token``, ``timestamp`` (UNIX seconds; ±10 minutes
  here, the real tolerance is not documented), ``charset=utf-8``, ``version=2``, ``biz`` (the business
  parameters as one JSON object) and ``sign = md5_hex_lower(app_secret + k1v1k2v2…)`` over every other
  parameter sorted by name (verified here by :func:`signature_valid`, written from the reference, not
  from the connector). Verified by the reference;
* the token: ``POST /openWeb/auth/refreshToken`` (``app_key``, ``timestamp``, ``grant_type=refresh_token``,
  ``charset``, ``refresh_token``, ``scope=all``, ``sign``) answers ``data.access_token``,
  ``refresh_token`` and ``expires_in`` (seconds). The refresh token stays valid (whether Jushuitan
  retires the old one on refresh is not documented) and access tokens expire after ``token_lifetime``;
* every answer ``{"code", "msg", "data"}``; code 0 is success. 199 (flow control: a kit ``Bucket`` per
  app) and 200 (daily quota, not emulated) are from the reference; the other codes are the sandbox's
  choice: 100 sign, 101 app_key, 102 access_token, 103 timestamp, 104 refresh_token, 110 arguments (a
  missing window, one longer than 7 days, a page_size over the cap);
* lists page by ``page_index`` (from 1) and ``page_size``, answering ``page_index``, ``page_size``,
  ``data_count``, ``page_count`` and ``has_next`` (has_next and page_index verified, the counts'
  names not); windows ``modified_begin``..``modified_end`` (Beijing wall clock, both inclusive here, at
  most 7 days apart) unless ids are given. The order of a page is not documented: oldest change first here;
* ``/open/orders/single/query`` (page_size ≤ 50; ``shop_id``, ``status``, ``so_ids`` filters) →
  ``data.orders``: co_id, shop_id, shop_name, o_id, so_id, order_date, created, modified, pay_date,
  send_date, status (WaitPay, WaitConfirm, Sent, Cancelled of the documented set), order_type,
  pay_amount, paid_amount, freight, free_amount, receiver_* masked, items[] (oi_id, sku_id, i_id, name,
  properties_value, qty, price, base_price, amount: the item fields are UNVERIFIED);
* ``/open/refund/single/query`` (after-sales; the path and fields are UNVERIFIED) → ``data.datas``: as_id,
  as_date, o_id, so_id, shop_id, type, status, refund, payment, modified, items[] (asi_id, sku_id, qty, amount);
* ``/open/sku/query`` (page_size ≤ 100) → ``data.datas``: sku_id (the merchant's 商品编码), i_id, name,
  properties_value, sku_code (barcode), sale_price, cost_price, enabled, created, modified;
* ``/open/wms/partner/query`` → ``data.datas``: wms_co_id, name, is_main, status;
* ``/open/inventory/query`` (page_size ≤ 100; ``wms_co_id`` 0 or absent = every warehouse summed,
  else that one; ``sku_ids`` ≤ 100 instead of a window) → ``data.inventorys``: sku_id, i_id, name, qty,
  order_lock (what open orders reserve, in the main warehouse), wms_co_id, modified.

The orders are those of the World shops the account routes (``shops``; the launcher takes the World shop
named like the account, as the Guanjiapo sandbox books its sales), each a Jushuitan shop: an OMS holds
the orders of channel shops, so the World gives it shops no other sandbox serves and nothing is counted
twice. A World without such a shop (the shipped demo's) gives no orders. Money is yuan as JSON numbers,
times are Beijing wall clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.paging import numbered_page
from .kit.sorted_params import parse_timestamp, timestamp_fresh
from .kit.tokens import TokenIssuer
from .launch import Launcher, Running, local_port
from .world import CENT, WAREHOUSES, Order, Refund, Sku, StockRecord, World

ZONE = ZoneInfo("Asia/Shanghai")
CO_ID = 10_174_001  # the merchant's company id; its main warehouse (主仓) has it as wms_co_id
SHOP_ID, O_ID, OI_ID, AS_ID = 16_000_001, 30_000_000, 900_000_000, 70_000_000
MAX_SPAN = timedelta(days=7)
TOKEN_PATH = "/openWeb/auth/refreshToken"
ERRORS = {"sign": (100, "签名错误"), "app_key": (101, "app_key不存在"), "token": (102, "access_token无效或已过期"),
          "timestamp": (103, "timestamp已过期"), "refresh": (104, "refresh_token无效"), "argument": (110, "参数错误"),
          "throttled": (199, "接口调用频率超限，请稍后再试")}
SYSTEM = ("app_key", "access_token", "timestamp", "charset", "version", "biz", "sign")


class Refused(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        code, msg = ERRORS[kind]
        super().__init__(f"{code} {msg}")
        self.code, self.msg = code, f"{msg}: {detail}" if detail else msg


def local(when: datetime | None) -> str | None:
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if when else None


def signature_valid(params: Mapping[str, str], secret: str) -> bool:
    """``md5_hex_lower(secret + k1v1k2v2…)`` over every parameter but ``sign``, sorted by name in byte order."""
    pairs = sorted((name.encode(), value.encode()) for name, value in params.items() if name != "sign")
    expected = hashlib.md5(secret.encode() + b"".join(name + value for name, value in pairs)).hexdigest()
    return hmac.compare_digest(params.get("sign", "").lower(), expected)


def warehouse_id(code: str) -> int:
    """The World's warehouse ``01`` is the main warehouse (wms_co_id = co_id); each other a branch."""
    return CO_ID + [wh for wh, *_ in WAREHOUSES].index(code)


def o_id(order: Order) -> int:
    return O_ID + order.id - 5_000_000_000


class JushuitanSandbox(HttpSandbox):
    name = "jushuitan"

    def __init__(self, world: World, account: str, app_key: str, app_secret: str, refresh_token: str, *,
                 shops: Sequence[str] | None = None, token_lifetime: float = 30 * 86_400) -> None:
        super().__init__(world)
        self.app_key, self.app_secret = app_key, app_secret
        self.tokens = TokenIssuer(app_key, app_secret, frozenset({refresh_token}), lifetime=token_lifetime, prefix="")
        self.shop_ids = {name: SHOP_ID + n for n, name in enumerate(shops or (account,))}
        self.calls = Bucket(size=100, rate=100)  # flow control per app: the real quotas are not documented
        self.throttled = 0
        self.log: list[tuple[str, dict[str, Any]]] = []  # (path, biz) of every authenticated call
        handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "/open/orders/single/query": self.orders, "/open/refund/single/query": self.after_sales,
            "/open/sku/query": self.skus, "/open/wms/partner/query": self.warehouses,
            "/open/inventory/query": self.inventory}
        self.handlers = handlers
        self.routes = Map([Rule(TOKEN_PATH, endpoint="refresh", methods=["POST"]),
                           *(Rule(path, endpoint="api", methods=["POST"]) for path in handlers)])

    # -- envelope -----------------------------------------------------------------------------------------
    @staticmethod
    def envelope(data: Any, code: int = 0, msg: str = "执行成功") -> Response:
        return json_response({"code": code, "msg": msg, "data": data})

    def refusal(self, error: Refused) -> Response:
        return self.envelope(None, error.code, error.msg)

    def rate_limited(self, request: Request) -> Response:
        return self.refusal(Refused("throttled"))

    def server_error(self, request: Request) -> Response:
        return json_response({"code": 500, "msg": "系统繁忙，请稍后再试", "data": None}, 502)

    # -- authentication -------------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        form = {key: request.form.getlist(key)[-1] for key in request.form}
        try:
            self.verify(request.path, form)
        except Refused as error:
            return self.refusal(error)
        return None

    def verify(self, path: str, form: dict[str, str]) -> None:
        token_call = path == TOKEN_PATH
        needed = ("app_key", "timestamp", "grant_type", "refresh_token", "sign") if token_call else SYSTEM
        missing = [name for name in needed if not form.get(name)]
        if missing:
            raise Refused("argument", f"缺少{','.join(missing)}")
        if form["app_key"] != self.app_key:
            raise Refused("app_key")
        if not form["timestamp"].isdigit() or not timestamp_fresh(form["timestamp"], "Asia/Shanghai", datetime.now(UTC)):
            raise Refused("timestamp", "UNIX seconds within 10 minutes of the server")
        if not signature_valid(form, self.app_secret):
            raise Refused("sign")
        if not token_call:
            if self.tokens.check(form["access_token"]) is not None:
                raise Refused("token")
            if form["version"] != "2" or form["charset"].lower() != "utf-8":
                raise Refused("argument", "version must be 2 and charset utf-8")

    def before_request(self, request: Request) -> Response | None:
        if self.calls.take():
            return None
        with self._lock:
            self.throttled += 1
        return self.rate_limited(request)

    def refresh(self, request: Request) -> Response:
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return self.refusal(Refused("argument", "grant_type must be refresh_token"))
        status, body = self.tokens.grant({"grant_type": "refresh_token", "client_id": self.app_key,
                                          "client_secret": self.app_secret, "refresh_token": form["refresh_token"]})
        if status != 200:
            return self.refusal(Refused("refresh"))
        return self.envelope({"access_token": body["access_token"], "expires_in": body["expires_in"],
                              "refresh_token": body["refresh_token"], "scope": form.get("scope", "all")})

    def api(self, request: Request) -> Response:
        try:
            biz = json.loads(request.form["biz"])
        except ValueError:
            biz = None
        if not isinstance(biz, dict):
            return self.refusal(Refused("argument", "biz must be a JSON object"))
        with self._lock:
            self.log.append((request.path, biz))
        try:
            return self.envelope(self.handlers[request.path](biz))
        except Refused as error:
            return self.refusal(error)

    def calls_to(self, path: str) -> list[dict[str, Any]]:
        """The ``biz`` of every authenticated call of ``path``, in arrival order."""
        return [biz for logged, biz in self.log if logged == path]

    # -- arguments and pages ------------------------------------------------------------------------------
    @staticmethod
    def number(biz: dict[str, Any], name: str, default: int, high: int) -> int:
        value = biz.get(name, default)
        if isinstance(value, bool) or not str(value).isdigit() or not 1 <= int(value) <= high:
            raise Refused("argument", f"{name}须在1到{high}之间")
        return int(value)

    @staticmethod
    def window(biz: dict[str, Any]) -> tuple[datetime, datetime]:
        """``modified_begin``..``modified_end``, both required, at most 7 days apart."""
        bounds = [parse_timestamp(str(biz.get(name) or ""), "Asia/Shanghai") for name in ("modified_begin", "modified_end")]
        if None in bounds or any(str(biz[name]).isdigit() for name in ("modified_begin", "modified_end")):
            raise Refused("argument", "modified_begin和modified_end必填，格式yyyy-MM-dd HH:mm:ss")
        begin, end = bounds
        if end < begin or end - begin > MAX_SPAN:
            raise Refused("argument", "modified_begin和modified_end间隔不能超过七天")
        return begin, end

    def page(self, biz: dict[str, Any], items: Sequence[Any], render: Callable[[Any], dict[str, Any]], key: str,
             stream: str, max_size: int, default_size: int = 30) -> dict[str, Any]:
        listing = numbered_page(items, self.number(biz, "page_index", 1, 10**6),
                                self.number(biz, "page_size", default_size, max_size))
        chunk = [render(item) for item in listing.items]
        self.count_records(stream, len(chunk))
        return {"page_index": listing.number, "page_size": listing.size, "data_count": listing.total,
                "page_count": listing.pages, "has_next": listing.has_next, key: chunk}

    def changed(self, biz: dict[str, Any], items: Iterable[Any], modified: Callable[[Any], datetime],
                ident: Callable[[Any], Any]) -> list[Any]:
        """The items modified within the window, oldest change first."""
        begin, end = self.window(biz)
        return sorted((i for i in items if begin <= modified(i).replace(microsecond=0) <= end),
                      key=lambda i: (modified(i), ident(i)))

    @staticmethod
    def ids(biz: dict[str, Any], name: str) -> set[str] | None:
        """A comma-separated id list (at most 100), or None when not given."""
        if not biz.get(name):
            return None
        ids = {part.strip() for part in str(biz[name]).split(",") if part.strip()}
        if len(ids) > 100:
            raise Refused("argument", f"{name}最多100个")
        return ids

    # -- orders and after-sales ------------------------------------------------------------------------------
    def held(self, biz: dict[str, Any]) -> list[tuple[int, Order]]:
        """(shop_id, order) of the shops routed here, or of the one ``shop_id`` asked for."""
        wanted = biz.get("shop_id")
        return [(shop_id, order) for name, shop_id in self.shop_ids.items()
                if wanted in (None, "", shop_id, str(shop_id)) for order in self.world.orders_of(name)]

    @staticmethod
    def status(order: Order) -> str:
        if order.financial_status == "pending":
            return "WaitPay"
        if order.financial_status == "voided":
            return "Cancelled"
        return "Sent" if order.fulfillment_status == "fulfilled" else "WaitConfirm"

    def orders(self, biz: dict[str, Any]) -> dict[str, Any]:
        so_ids = self.ids(biz, "so_ids")
        held = self.held(biz)
        if so_ids is not None:
            chosen = [pair for pair in held if str(pair[1].id) in so_ids]
        else:
            chosen = self.changed(biz, held, lambda p: p[1].updated_at, lambda p: p[1].id)
        if biz.get("status"):
            chosen = [pair for pair in chosen if self.status(pair[1]) == biz["status"]]
        return self.page(biz, chosen, lambda p: self.render_order(*p), "orders", "orders", 50)

    def render_order(self, shop_id: int, order: Order) -> dict[str, Any]:
        paid = order.financial_status not in ("pending", "voided")
        customer, status = order.customer, self.status(order)
        phone = "".join(ch for ch in customer.phone if ch.isdigit())[-11:]
        return {
            "co_id": CO_ID, "shop_id": shop_id, "shop_name": order.shop, "o_id": o_id(order), "so_id": str(order.id),
            "order_date": local(order.created_at), "created": local(order.created_at),
            "modified": local(order.updated_at), "pay_date": local(order.created_at) if paid else None,
            "send_date": local(order.updated_at) if status == "Sent" else None, "status": status,
            "order_type": "普通订单", "pay_amount": float(order.total),
            "paid_amount": float(order.total) if paid else 0.0, "freight": float(order.shipping),
            "free_amount": float(order.discount), "receiver_name": f"{customer.last_name[0]}**",
            "receiver_mobile": f"{phone[:3]}****{phone[-4:]}", "receiver_state": "上海", "receiver_city": "上海市",
            "receiver_district": "浦东新区", "wms_co_id": CO_ID,
            "items": [{"oi_id": OI_ID + line.id % 10**8, "sku_id": line.sku.code, "i_id": line.sku.code.rsplit("-", 1)[0],
                       "name": line.sku.product_zh, "properties_value": f"尺码:{line.sku.variant}", "qty": line.quantity,
                       "price": float(line.unit_price), "base_price": float(line.unit_price),
                       "amount": float(line.amount), "outer_oi_id": str(line.id)} for line in order.lines],
        }

    def after_sales(self, biz: dict[str, Any]) -> dict[str, Any]:
        cases = [(shop_id, order, refund) for shop_id, order in self.held(biz) for refund in order.refunds]
        chosen = self.changed(biz, cases, lambda c: c[2].created_at, lambda c: c[2].id)
        return self.page(biz, chosen, lambda c: self.render_after_sale(*c), "datas", "refunds", 50)

    @staticmethod
    def render_after_sale(shop_id: int, order: Order, refund: Refund) -> dict[str, Any]:
        lines, as_id = {line.id: line for line in order.lines}, AS_ID + refund.id % 10**7
        return {"as_id": as_id, "as_date": local(refund.created_at), "outer_as_id": str(refund.id),
                "o_id": o_id(order), "so_id": str(order.id), "shop_id": shop_id, "type": "仅退款",
                "status": "Confirmed", "refund": float(refund.amount), "payment": 0.0,
                "modified": local(refund.created_at),
                "items": [{"asi_id": as_id * 10 + n, "sku_id": lines[line_id].sku.code, "qty": quantity,
                           "amount": float(refund.amount) if n == 0 else 0.0, "type": "退货"}
                          for n, (line_id, quantity) in enumerate(refund.lines)]}

    # -- SKUs, warehouses, stock -------------------------------------------------------------------------------
    def skus(self, biz: dict[str, Any]) -> dict[str, Any]:
        wanted = self.ids(biz, "sku_ids")
        if wanted is not None:
            chosen = [sku for sku in self.world.skus if sku.code in wanted]
        else:
            chosen = self.changed(biz, self.world.skus, lambda s: s.modified_at, lambda s: s.index)
        return self.page(biz, chosen, self.render_sku, "datas", "skus", 100)

    @staticmethod
    def render_sku(sku: Sku) -> dict[str, Any]:
        return {"sku_id": sku.code, "i_id": sku.code.rsplit("-", 1)[0], "name": sku.product_zh,
                "properties_value": f"尺码:{sku.variant}", "sku_code": sku.barcode,
                "sale_price": float(sku.price("CNY")), "cost_price": float((sku.price("CNY") / 2).quantize(CENT)),
                "enabled": 1, "created": local(sku.modified_at), "modified": local(sku.modified_at)}

    def warehouses(self, biz: dict[str, Any]) -> dict[str, Any]:
        return self.page(biz, WAREHOUSES, lambda wh: {"wms_co_id": warehouse_id(wh[0]), "name": wh[2],
                                                      "is_main": wh[0] == WAREHOUSES[0][0], "status": "生效"},
                         "datas", "warehouses", 100)

    def inventory(self, biz: dict[str, Any]) -> dict[str, Any]:
        house = biz.get("wms_co_id") or 0
        records = self.world.stock if not house else [r for r in self.world.stock if warehouse_id(r.warehouse) == int(house)]
        wanted = self.ids(biz, "sku_ids")
        if wanted is not None:
            records = [r for r in records if r.sku.code in wanted]
        else:
            records = self.changed(biz, records, lambda r: r.modified_at, lambda r: (r.sku.index, r.warehouse))
        if not house:  # every warehouse summed: one row per SKU
            summed: dict[int, list[StockRecord]] = {}
            for record in records:
                summed.setdefault(record.sku.index, []).append(record)
            records = [StockRecord(rs[0].sku, "", sum(r.quantity for r in rs), 0, max(r.modified_at for r in rs))
                       for rs in summed.values()]
        locked = self.order_locks()
        return self.page(biz, records, lambda r: self.render_stock(r, int(house), locked), "inventorys",
                         "inventory", 100)

    def order_locks(self) -> Counter[str]:
        """SKU -> units reserved by orders paid and not yet sent (held in the main warehouse)."""
        locks: Counter[str] = Counter()
        for _, order in self.held({}):
            if self.status(order) == "WaitConfirm":
                locks.update({line.sku.code: line.quantity for line in order.lines})
        return locks

    @staticmethod
    def render_stock(record: StockRecord, house: int, locked: Counter[str]) -> dict[str, Any]:
        main = house in (0, CO_ID)
        return {"sku_id": record.sku.code, "i_id": record.sku.code.rsplit("-", 1)[0], "name": record.sku.product_zh,
                "qty": record.quantity, "order_lock": locked[record.sku.code] if main else 0,
                "wms_co_id": warehouse_id(record.warehouse) if record.warehouse else 0,
                "modified": local(record.modified_at)}


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = JushuitanSandbox(world, account, credentials["app_key"], credentials["app_secret"],
                               credentials["refresh_token"])
    return Running(account, "jushuitan", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {})  # Jushuitan's keys, secrets and tokens are plain hex: no prefix to imitate
