"""The JD connector: a declaration on dlt's rest_api plus the gateway SDK's windowed cursor.

Orders follow JOS's POP route: ``jingdong.pop.order.search`` by modified time (``dateType`` 0), every
state asked for, newest first, whole orders with their items (``itemInfoList``) in each page. Refund
applications (退款审核单) are listed by review time in the same kind of windows; SKUs, with the stock
JD sells and the merchant's ``outerId``, page through ``jingdong.sku.read.searchSkuList``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Cursor, Stream, quarantining
from connectors.sdk.convert import typed_fields
from connectors.sdk.gateway import GatewayError, LastPageFirstPaginator, utc_converter, windowed_resource
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import PATH, ZONE, call, make_client, root
from .settings import JdSettings
from .stock import SKU_FIELDS, JdStockWriter

# JOS stamps ``modified`` to the second and does not say how late a change reaches order search: the
# lag re-reads the last 30 s. Refund applications are final once reviewed (``checkTime``).
MODIFIED = Cursor("modified", source_timezone=ZONE, lag=30, dedup_on_boundary=True)
CHECKED = Cursor("checkTime", source_timezone=ZONE, lag=30, dedup_on_boundary=True)
ORDER_TIMES = ("orderStartTime", "paymentConfirmTime", "orderEndTime", "modified")
ORDER_MONEY = ("orderTotalPrice", "orderSellerPrice", "orderPayment", "freightPrice", "sellerDiscount")
# every state of a POP order: order search answers only the states it is asked for
ORDER_STATES = ("WAIT_SELLER_STOCK_OUT,WAIT_SELLER_DELIVERY,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,"
                "LOCKED,POP_ORDER_PAUSE")
ORDER_SEARCH, REFUND_APPLIES = "jingdong.pop.order.search", "jingdong.pop.afs.soa.refundapply.queryPageList"
SKU_SEARCH = "jingdong.sku.read.searchSkuList"


class JdConnector(Connector[JdSettings]):
    name = "jd"
    kind = ConnectorKind.CHANNEL
    settings_model = JdSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("orders", ("orderId",), cursor=MODIFIED, column_types=typed((ORDER_TIMES, "timestamp"),
                                                                           (ORDER_MONEY, "decimal")),
               description="POP orders (jingdong.pop.order.search) with their items, nested as orders__item_info_list; "
                           "receiver fields masked as JD sends them."),
        Stream("refunds", ("id",), cursor=CHECKED, column_types=typed((("applyTime", "checkTime"), "timestamp"),
                                                                      (("applyRefundSum", "orderId"), "bigint")),
               description="Refund applications (退款审核单) by review time; apply_refund_sum in fen."),
        Stream("skus", ("skuId",), column_types=(("modified", "timestamp"), ("jdPrice", "decimal"),
                                                 ("stockNum", "bigint"), ("wareId", "bigint")),
               description="SKUs: outer_id is the merchant SKU; stock_num the stock JD sells; ware_id the product."),
    )

    def source(self, account: Account[JdSettings]) -> DltSource:
        settings, name = account.settings, account.name
        client = make_client(settings)
        window = {"initial_value": settings.start_date, "account": name,
                  "window": timedelta(minutes=settings.window_minutes)}

        def gateway(method: str, total: str, page_param: str, page_size: int) -> RESTClient:
            return RESTClient(settings.base_url, auth=client["auth"], session=client["session"],
                              paginator=LastPageFirstPaginator(f"{root(method)}.{total}", page_size, page_param))

        item_money = typed_fields(name, "orders", [("jdPrice", "decimal")],
                                  record=lambda item: f"skuId {item.get('skuId')}", prefix="itemInfoList.")
        order_times = utc_converter(name, "orders", ZONE, ORDER_TIMES, "orderId")

        def order(record: dict[str, Any]) -> dict[str, Any]:
            record = order_times(record)
            record["itemInfoList"] = [item_money(item) for item in record.get("itemInfoList") or []]
            return record

        orders = windowed_resource(
            gateway(ORDER_SEARCH, "searchorderinfo_result.orderTotal", "page", settings.page_size), PATH,
            {"method": ORDER_SEARCH, "order_state": ORDER_STATES, "dateType": 0, "sortType": 1,
             "page_size": settings.page_size}, cursor=MODIFIED, bounds=("start_date", "end_date"), **window,
            data_selector=f"{root(ORDER_SEARCH)}.searchorderinfo_result.orderInfoList", key="orderId",
            stream="orders", convert=order, **self.resource_hints("orders"))
        refunds = windowed_resource(
            gateway(REFUND_APPLIES, "queryResult.totalCount", "pageIndex", settings.refund_page_size), PATH,
            {"method": REFUND_APPLIES, "pageSize": settings.refund_page_size}, cursor=CHECKED,
            bounds=("checkTimeStart", "checkTimeEnd"), **window,
            data_selector=f"{root(REFUND_APPLIES)}.queryResult.result", key="id", stream="refunds",
            convert=utc_converter(name, "refunds", ZONE, ("applyTime", "checkTime"), "id"),
            **self.resource_hints("refunds"))
        _, _, skus = self.streams
        return rest_source("jd", client, [
            orders, refunds,
            resource_config(skus, {
                "path": PATH, "data_selector": f"{root(SKU_SEARCH)}.page.data",
                "paginator": PageNumberPaginator(base_page=1, page=1, page_param="page", total_path=None),
                "params": {"method": SKU_SEARCH, "pageSize": settings.page_size, "field": SKU_FIELDS}},
                processing_steps=[{"map": quarantining(utc_converter(name, "skus", ZONE, ("modified",), "skuId"))}],
                account=name),
        ], max_table_nesting=1)

    def check(self, account: Account[JdSettings]) -> CheckResult:
        """One SKU of the shop: proves app key, signature and the shop's access token at once."""
        try:
            answer = call(make_client(account.settings), SKU_SEARCH, page=1, pageSize=1, field="skuId")
        except GatewayError as exc:
            return CheckResult(False, f"JOS refused the call: {exc} (check app key/secret and the access token)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {account.settings.base_url}: {type(exc).__name__}")
        total = answer.get("page", {}).get("totalItem", 0)
        return CheckResult(True, f"{total} SKUs", {"skus": total})

    def stock_writer(self, account: Account[JdSettings]) -> JdStockWriter:
        return JdStockWriter(account.settings)
