"""JD Open Platform (JOS, 京东宙斯) emulator: the ``/routerjson`` gateway for one POP shop of the World.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 5a, thin in
places; what was not found is marked *assumed*):

* one gateway, GET or POST (form or query), the API named by ``method``; system parameters
  ``app_key``, ``access_token`` (the shop's authorisation), ``timestamp`` ("yyyy-MM-dd HH:mm:ss" GMT+8,
  or with milliseconds and an offset as JD's Python SDK writes it; ±6 minutes per JD's error table),
  ``v=2.0``, optional ``format=json``; every business parameter travels as ONE JSON object in
  ``360buy_param_json``; ``sign`` = UPPER(MD5(secret + k1v1k2v2… + secret)) over all parameters but
  ``sign`` (checked by ``kit.sorted_params``). JD's Python SDK sends an absolute-form request target
  and a Host without the port: the server routes on the path alone;
* answers are HTTP 200: ``{"<method, dots as _>_responce": {"code": "0", ...}}`` (JD's spelling) or
  ``{"error_response": {"code", "zh_desc", "en_desc"}}`` with the gateway codes of JD's published
  table: 2 App Call Limited, 4/5 missing/unsupported version, 7/8 missing/invalid timestamp, 11/12
  missing/invalid signature, 14/15 missing/invalid method, 19 token expired or absent (a published
  fixture), 67 backend service error (transient; *assumed* from the same table's family). Missing or
  unknown ``app_key`` answers 10/11-style codes are not in the found table: *assumed* 9/10;
* a business error (a bad argument) is not an ``error_response``: the method's own answer says it,
  ``searchorderinfo_result.apiResult.success = false`` for order search, ``{success: false,
  errorCode, errorMessage}`` in the result object of the others (codes here are the sandbox's own;
  JD's per-API codes were not found);
* ``jingdong.pop.order.search``: ``start_date``..``end_date`` (wall clock, *assumed* at most 30 days
  apart), ``dateType`` 0 = modified time (1 = created), ``order_state`` (comma-separated, required),
  ``optional_fields``, ``page`` from 1, ``page_size`` ≤ 100, always newest first here (``sortType`` is
  read as 1: the sandbox does not serve the oldest-first order); answer
  ``searchorderinfo_result: {apiResult, orderTotal, orderInfoList: [{orderId, orderState, payType,
  orderTotalPrice, orderSellerPrice, orderPayment, freightPrice, sellerDiscount, orderStartTime,
  paymentConfirmTime, orderEndTime, modified, pin, consigneeInfo, itemInfoList: [{skuId, outerSkuId,
  wareId, skuName, jdPrice, itemTotal}]}]}``; buyer and receiver fields are masked as JOS sends them
  (``张**``, ``138****5678``, ``jd_******``): nothing here can unmask them;
* refunds: ``jingdong.pop.afs.soa.refundapply.queryPageList`` (退款审核单) by review time
  ``checkTimeStart``..``checkTimeEnd``, ``pageIndex``, ``pageSize`` ≤ 50; ``applyRefundSum`` in fen
  (分); status 1 = approved. Order-level: JD names no SKU on a refund application;
* SKUs: ``jingdong.sku.read.searchSkuList`` (``wareId``, ``page``, ``pageSize`` ≤ 100, ``field``)
  answering ``page: {data: [{skuId, wareId, outerId, jdPrice, stockNum, modified, ...}], pageNo,
  pageSize, totalItem}``; stock set by ``jingdong.stock.write.updateSkuStock`` (``skuId``,
  ``stockNum``, optional ``storeId``): one SKU per call, no batch form, no compare-and-set.

Money is a string with 2 decimals in CNY; refund sums are fen. Times are Shanghai wall clock. Ids in
JD's ranges: orderId ~ 2.8×10^11, wareId ~ 10^11, skuId ~ 10^11. JD prices include VAT (a marketplace
shop of the World has no tax on top): ``orderPayment`` = ``orderSellerPrice`` + ``freightPrice``.
"""

from __future__ import annotations

import json
import re
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
from .world import VARIANTS, Order, World

ZONE = ZoneInfo("Asia/Shanghai")
ORDER_ID, FIRST_ORDER = 280_000_000_000, 5_000_000_000  # World order ids start after FIRST_ORDER
WARE_ID, SKU_ID, REFUND_ID, VENDER_ID = 100_000_000_000, 100_100_000_000, 900_000_000, 10_086_001
PARAM_JSON = "360buy_param_json"
ORDERS = Window(("start_date", "end_date"), timedelta(days=30), Paging(100, ("page", "page_size"), 20, "orderTotal"),
                span_text="30 days")
REFUNDS = Window(("checkTimeStart", "checkTimeEnd"), timedelta(days=30),
                 Paging(50, ("pageIndex", "pageSize"), 10, "totalCount"), span_text="30 days")
SKUS = Paging(100, ("page", "pageSize"), 20, "totalItem")
STATES = frozenset({"WAIT_SELLER_STOCK_OUT", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L", "TRADE_CANCELED", "LOCKED",
                    "POP_ORDER_PAUSE", "WAIT_SELLER_DELIVERY"})
COD, ONLINE = "1-货到付款", "4-在线支付"


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def local(when: datetime | None) -> str | None:
    return when.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if when else None


def masked_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"{digits[:3]}****{digits[-4:]}"


class BusinessError(Refused):
    """A refused argument, said inside the method's own answer under ``result_key``."""


class JdSandbox(GatewaySandbox):
    name, path, zone = "jd", "/routerjson", "Asia/Shanghai"
    message_field = "zh_desc"
    errors: ClassVar[dict[str, tuple[Any, str, str]]] = {
        "missing": ("missing", "缺少必选参数:{name}", ""), "invalid": ("invalid", "参数错误:{name}", ""),
        "method": ("15", "不存在的方法名", ""), "throttled": ("2", "限制时间内调用失败次数", "")}
    required = (("method", "14", "缺少方法名参数"), ("v", "4", "缺少版本参数"), ("app_key", "9", "缺少AppKey参数"),
                ("timestamp", "7", "缺少时间戳参数"), ("sign", "11", "缺少签名参数"),
                ("access_token", "19", "Token已过期或者不存在，请重新授权访问"))
    secret_params: ClassVar[frozenset[str]] = frozenset({"access_token", "sign"})

    def __init__(self, world: World, shop: str, app_key: str, app_secret: str, access_token: str) -> None:
        super().__init__(world, {
            "jingdong.pop.order.search": self.order_search,
            "jingdong.pop.afs.soa.refundapply.queryPageList": self.refund_applies,
            "jingdong.sku.read.searchSkuList": self.search_skus,
            "jingdong.stock.write.updateSkuStock": self.update_stock}, Bucket(size=400, rate=400))
        self.shop = world.shop(shop)
        self.app_key, self.app_secret, self.access_token = app_key, app_secret, access_token
        self.products = world.products()
        self.stock = StockBook(world)
        self.quantities, self.sku_modified = self.stock.quantities, self.stock.modified
        self.sku_of = {SKU_ID + sku.index: sku for sku in world.skus}

    def answer_key(self, method: str) -> str:
        return method.replace(".", "_") + "_responce"

    def refused(self, code: Any, msg: str, sub_code: str = "", sub_msg: str = "") -> Refused:
        """JOS writes a gateway error as code, zh_desc and en_desc (no sub-codes)."""
        return Refused({"code": str(code), "zh_desc": msg, "en_desc": sub_msg or msg})

    def refuse(self, kind: str, name: str = "", sub_msg: str = "") -> Refused:
        if kind in ("missing", "invalid"):
            text = f"{'缺少必选参数' if kind == 'missing' else '参数错误'}:{name}" + (f" ({sub_msg})" if sub_msg else "")
            return BusinessError({"success": False, "errorCode": f"{kind}-parameter", "errorMessage": text})
        return super().refuse(kind, name, sub_msg)

    def checks(self, params: dict[str, str]) -> Iterable[tuple[bool, Refused]]:
        yield params["v"] == "2.0", self.refused("5", "不支持的版本号", sub_msg="Unsupported Version")
        yield params["app_key"] == self.app_key, self.refused("10", "无效的AppKey", sub_msg="Invalid App Key")
        yield (timestamp_fresh(params["timestamp"], self.zone, datetime.now(UTC), skew_seconds=360),
               self.refused("8", "非法的时间戳参数", sub_msg="Invalid Timestamp"))
        yield signature_valid(params, self.app_secret), self.refused("12", "无效签名", sub_msg="Invalid Signature")
        yield (params["access_token"] == self.access_token,
               self.refused("19", "Token已过期或者不存在，请重新授权访问", sub_msg="Token expired"))
        yield params.get("format", "json") == "json", self.refused("21", "不支持的格式", sub_msg="json only")

    def authenticate(self, request: Request) -> Response | None:
        """The system checks, then the business parameters unpacked from ``360buy_param_json`` (as text,
        so handlers read them like query parameters)."""
        refused = super().authenticate(request)
        if refused is not None:
            return refused
        params = self._requests.params
        try:
            business = json.loads(params.get(PARAM_JSON) or "{}")
        except ValueError:
            business = None
        if not isinstance(business, dict):
            return self.error_answer(self.refused("62", "360buy_param_json不是JSON对象",
                                                  sub_msg="360buy_param_json is not a JSON object"))
        params.update({key: value if isinstance(value, str) else json.dumps(value)
                       for key, value in business.items() if key not in params})
        return None

    def gateway(self, request: Request) -> Response:
        """A business error is answered inside the method's answer, under the result key it names."""
        method = self._requests.params.get("method", "")
        answer = super().gateway(request)
        failure = getattr(self._requests, "business", None)
        if failure is None:
            return answer
        self._requests.business = None
        result_key, body = failure
        return self.answer(self.answer_key(method), {"code": "0", **({result_key: body} if result_key else body)})

    def business(self, result_key: str | None, handler: Any, params: dict[str, str]) -> dict[str, Any]:
        """``handler``'s result under ``result_key`` (None: the result is the answer itself)."""
        try:
            result = handler(params)
            return {"code": "0", **({result_key: result} if result_key else result)}
        except BusinessError as exc:
            body = exc.body
            if result_key == "searchorderinfo_result":  # order search wraps its verdict in apiResult
                body = {"apiResult": {"success": False, "numberCode": 10100001, "englishErrCode": body["errorCode"],
                                      "chineseErrCode": body["errorMessage"]}}
            self._requests.business = (result_key, body)
            return {}

    def rate_limited(self, request: Request) -> Response:
        return self.error_answer(self.refused("2", "限制时间内调用失败次数", sub_msg="App Call Limited"))

    def server_error(self, request: Request) -> Response:
        return self.error_answer(self.refused("67", "平台连接后端服务错误", sub_msg="Backend service error"))

    # -- orders -----------------------------------------------------------------------------------------------
    def order_search(self, params: dict[str, str]) -> dict[str, Any]:
        return self.business("searchorderinfo_result", self._order_search, params)

    def _order_search(self, params: dict[str, str]) -> dict[str, Any]:
        states = {state.strip() for state in self.need(params, "order_state").split(",")}
        if not states <= STATES:
            raise self.refuse("invalid", "order_state", ", ".join(sorted(states - STATES)))
        by_created = params.get("dateType", "0") == "1"
        orders = [order for order in self.world.orders_of(self.shop.name) if self.state(order) in states]
        listed = self.window(params, ORDERS, "orders", orders,
                             modified=lambda o: o.created_at if by_created else o.updated_at, ident=lambda o: o.id,
                             render=self.render_order, wrap=("orderInfoList", "order"))
        found = listed.get("orderInfoList", {}).get("order", [])
        self.count_records("orders", len(found))  # whole orders: the contract counts what was served
        return {"apiResult": {"success": True, "numberCode": 0}, "orderTotal": listed["orderTotal"],
                "orderInfoList": found}

    @staticmethod
    def state(order: Order) -> str:
        if order.financial_status in ("voided", "refunded"):
            return "TRADE_CANCELED"
        return "FINISHED_L" if order.fulfillment_status == "fulfilled" else "WAIT_SELLER_STOCK_OUT"

    def render_order(self, order: Order) -> dict[str, Any]:
        state, customer = self.state(order), order.customer
        online = order.financial_status not in ("pending", "voided")  # unpaid orders are cash on delivery
        return {
            "orderId": str(ORDER_ID + order.id - FIRST_ORDER), "venderId": str(VENDER_ID), "orderType": "22",
            "payType": ONLINE if online else COD, "orderState": state, "orderStateRemark": state,
            "orderTotalPrice": money(order.subtotal), "orderSellerPrice": money(order.subtotal - order.discount),
            "orderPayment": money(order.total), "freightPrice": money(order.shipping),
            "sellerDiscount": money(order.discount), "orderStartTime": local(order.created_at),
            "paymentConfirmTime": local(order.created_at) if online else None,
            "orderEndTime": local(order.updated_at) if state in ("FINISHED_L", "TRADE_CANCELED") else None,
            "modified": local(order.updated_at), "pin": f"jd_{'*' * 6}",
            "consigneeInfo": {"fullname": f"{customer.last_name[:1]}**", "mobile": masked_phone(customer.phone),
                              "telephone": masked_phone(customer.phone), "fullAddress": "上海市浦东新区****",
                              "province": "上海", "city": "上海市", "county": "浦东新区"},
            "itemInfoList": [{"skuId": str(SKU_ID + line.sku.index), "outerSkuId": line.sku.code,
                              "wareId": str(WARE_ID + line.sku.index // len(VARIANTS)),
                              "skuName": f"{line.sku.product_zh} {line.sku.variant}", "jdPrice": money(line.unit_price),
                              "itemTotal": str(line.quantity), "productNo": line.sku.barcode}
                             for line in order.lines],
        }

    # -- refunds ------------------------------------------------------------------------------------------
    def refund_applies(self, params: dict[str, str]) -> dict[str, Any]:
        return self.business("queryResult", self._refund_applies, params)

    def _refund_applies(self, params: dict[str, str]) -> dict[str, Any]:
        pairs = [(order, refund) for order in self.world.orders_of(self.shop.name) for refund in order.refunds]
        listed = self.window(params, REFUNDS, "refunds", pairs, modified=lambda p: p[1].created_at,
                             ident=lambda p: p[1].id, render=lambda p: self.render_refund(*p), wrap=("result", "apply"))
        return {"success": True, "totalCount": listed["totalCount"],
                "result": listed.get("result", {}).get("apply", [])}

    @staticmethod
    def render_refund(order: Order, refund: Any) -> dict[str, Any]:
        applied = refund.created_at - timedelta(hours=2)
        return {"id": REFUND_ID + refund.id // 100 - FIRST_ORDER, "orderId": ORDER_ID + order.id - FIRST_ORDER,
                "buyerId": f"jd_{'*' * 6}", "buyerName": f"{order.customer.last_name[:1]}**",
                "applyTime": local(applied), "checkTime": local(refund.created_at), "status": 1,
                "applyRefundSum": int(refund.amount * 100), "checkUserName": "客服01"}

    # -- SKUs and stock -----------------------------------------------------------------------------------
    def search_skus(self, params: dict[str, str]) -> dict[str, Any]:
        return self.business("page", self._search_skus, params)

    def _search_skus(self, params: dict[str, str]) -> dict[str, Any]:
        skus = sorted(self.world.skus, key=lambda s: s.index)
        if params.get("wareId"):
            ware = self.number(params, "wareId", 0, 1, 10**15) - WARE_ID
            skus = [s for s in skus if s.index // len(VARIANTS) == ware]
        listed = self.paged(params, SKUS, skus, self.render_sku, ("data", "sku"))
        fields = {name.strip() for name in params.get("field", "").split(",") if name.strip()}
        data = [{k: v for k, v in sku.items() if not fields or k in fields or k in ("skuId", "wareId")}
                for sku in listed.get("data", {}).get("sku", [])]
        return {"data": data, "pageNo": int(params.get("page", 1)), "pageSize": int(params.get("pageSize", 20)),
                "totalItem": listed["totalItem"]}

    def render_sku(self, sku: Any) -> dict[str, Any]:
        return {"skuId": SKU_ID + sku.index, "wareId": WARE_ID + sku.index // len(VARIANTS), "outerId": sku.code,
                "skuName": f"{sku.product_zh} {sku.variant}", "jdPrice": money(sku.price("CNY")),
                "stockNum": self.quantities[sku.index], "status": 1, "saleAttrs": [{"attrValues": [sku.variant]}],
                "modified": local(self.sku_modified[sku.index])}

    def update_stock(self, params: dict[str, str]) -> dict[str, Any]:
        return self.business(None, self._update_stock, params)

    def _update_stock(self, params: dict[str, str]) -> dict[str, Any]:
        sku = self.sku_of.get(self.number(params, "skuId", 0, 1, 10**15))
        if sku is None:
            raise self.refuse("invalid", "skuId", "该SKU不存在")
        self.stock.settle({sku.index: self.number(params, "stockNum", 0, 0, 10**7)})
        return {"success": True}


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = JdSandbox(world, account, credentials["app_key"], credentials["app_secret"], credentials["access_token"])
    return Running(account, "jd", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"access_token": "jd-token-"})
