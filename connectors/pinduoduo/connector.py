"""The Pinduoduo connector: a declaration on dlt's rest_api plus the gateway SDK's windowed cursor.

``pdd.order.number.list.increment.get`` lists the orders updated in windows of at most 30 minutes, each
order whole with its items in ``item_list``, so no per-order call follows. After-sales are listed in the
same windows by ``pdd.refund.list.increment.get``; SKUs come with their goods from ``pdd.goods.list.get``.
Window bounds and the signed timestamp are UNIX seconds; every time in an answer is Beijing wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

import dlt
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Cursor, Stream
from connectors.sdk.convert import typed_fields
from connectors.sdk.gateway import GatewayError, LastPageFirstPaginator, utc_converter, windowed_resource
from connectors.sdk.http import paginate_checked
from connectors.sdk.quarantine import quarantining
from connectors.sdk.rest import rest_source
from connectors.sdk.spec import typed

from .client import PATH, ROOTS, ZONE, call, make_client
from .settings import PinduoduoSettings
from .stock import PinduoduoStockWriter

# PDD advises ending a window no later than now - 3 minutes, as a change can take that long to show in
# the increment APIs. The windows run to now and the lag re-reads the last 3 minutes before the newest
# change seen, which catches the same late arrivals a run later.
UPDATED_AT = Cursor("updated_at", source_timezone=ZONE, lag=180, dedup_on_boundary=True)
ORDER_TIMES = ("created_time", "confirm_time", "pay_time", "shipping_time", "receive_time", "updated_at")
ORDER_MONEY = ("goods_amount", "discount_amount", "seller_discount", "platform_discount", "postage",
               "order_change_amount", "pay_amount")
REFUND_TIMES = ("created_time", "updated_time")
INCREMENT, REFUNDS, GOODS = "pdd.order.number.list.increment.get", "pdd.refund.list.increment.get", "pdd.goods.list.get"


def epoch_seconds(when: datetime) -> str:
    return str(int(when.timestamp()))


class PinduoduoConnector(Connector[PinduoduoSettings]):
    name = "pinduoduo"
    kind = ConnectorKind.CHANNEL
    settings_model = PinduoduoSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("orders", ("order_sn",), cursor=UPDATED_AT,
               column_types=typed((ORDER_TIMES, "timestamp"), (ORDER_MONEY, "decimal")),
               description="Orders (pdd.order.number.list.increment.get) with their items, nested as "
                           "orders__item_list; receiver fields as PDD sends them: encrypted and masked."),
        Stream("refunds", ("id",), cursor=replace(UPDATED_AT, field="updated_time"),  # the after-sales' name
               column_types=typed((REFUND_TIMES, "timestamp"), (("refund_amount",), "bigint")),
               description="After-sales (pdd.refund.list.increment.get), one per order item; refund_amount "
                           "in whole fen as PDD sends it (staging makes it yuan)."),
        Stream("skus", ("sku_id",), column_types=(("sku_quantity", "bigint"),),
               description="SKUs of each goods (pdd.goods.list.get): outer_id is the merchant SKU; "
                           "sku_quantity the stock Pinduoduo sells; goods_id names the goods."),
    )

    def source(self, account: Account[PinduoduoSettings]) -> DltSource:
        settings, name = account.settings, account.name
        client = make_client(settings)
        window = {"cursor": UPDATED_AT, "initial_value": settings.start_date, "account": name,
                  "window": timedelta(minutes=settings.window_minutes), "render_bound": epoch_seconds,
                  "bounds": ("start_updated_at", "end_updated_at")}

        def gateway(api: str) -> RESTClient:
            return RESTClient(settings.base_url, auth=client["auth"], session=client["session"],
                              paginator=LastPageFirstPaginator(f"{ROOTS[api]}.total_count", settings.page_size,
                                                               page_param="page"))

        order_times = utc_converter(name, "orders", ZONE, ORDER_TIMES, "order_sn")
        order_money = typed_fields(name, "orders", [(field, "decimal") for field in ORDER_MONEY],
                                   record=lambda order: f"order_sn {order.get('order_sn')}")
        item_money = typed_fields(name, "orders", [("goods_price", "decimal")], prefix="item_list.",
                                  record=lambda item: f"order_sn {item.get('order_sn')} sku_id {item.get('sku_id')}")

        def order(record: dict[str, Any]) -> dict[str, Any]:
            """Times to UTC, money exact; each item carries its order_sn, as after-sales name an item by
            order_sn and sku_id (PDD gives items no id of their own)."""
            record = order_money(order_times(record))
            record["item_list"] = [item_money({**item, "order_sn": record.get("order_sn")})
                                   for item in record.get("item_list") or []]
            return record

        orders = windowed_resource(
            gateway(INCREMENT), PATH, {"type": INCREMENT, "page_size": settings.page_size, "is_lucky_flag": 0,
                                       "order_status": 5, "refund_status": 5}, **window,
            data_selector=f"{ROOTS[INCREMENT]}.order_sn_list", key="order_sn", stream="orders", convert=order,
            **self.resource_hints("orders"))
        refunds = windowed_resource(
            gateway(REFUNDS), PATH, {"type": REFUNDS, "page_size": settings.page_size, "after_sales_status": 1,
                                     "after_sales_type": 1}, **{**window, "cursor": self.stream("refunds").cursor},
            data_selector=f"{ROOTS[REFUNDS]}.refund_list", key="id", stream="refunds",
            convert=utc_converter(name, "refunds", ZONE, REFUND_TIMES, "id"), **self.resource_hints("refunds"))
        return rest_source("pinduoduo", client, [orders, refunds, self.skus(settings, client, name)],
                           max_table_nesting=1)

    def skus(self, settings: PinduoduoSettings, client: dict[str, Any], name: str) -> DltResource:
        """Every goods' SKUs, each stamped with its goods: the goods list carries them whole, so one
        listing reads them all; the goods row itself adds nothing the SKUs need."""
        listing = RESTClient(settings.base_url, auth=client["auth"], session=client["session"],
                             paginator=PageNumberPaginator(base_page=1, page=1, page_param="page", total_path=None))
        quantity = quarantining(typed_fields(name, "skus", [("sku_quantity", "bigint")],
                                             record=lambda sku: f"sku_id {sku.get('sku_id')}"))

        def skus() -> Iterator[list[dict[str, Any]]]:
            for page in paginate_checked(listing, name, "skus", PATH, data_selector=f"{ROOTS[GOODS]}.goods_list",
                                         params={"type": GOODS, "page_size": settings.page_size}):
                stamped = ({**sku, "goods_id": goods["goods_id"], "goods_name": goods.get("goods_name")}
                           for goods in page for sku in goods.get("sku_list") or [])
                yield [sku for sku in map(quantity, stamped) if sku is not None]

        return dlt.resource(skus, **self.resource_hints("skus"))

    def check(self, account: Account[PinduoduoSettings]) -> CheckResult:
        """One goods of the shop: proves client id, signature and the shop's access token at once."""
        try:
            answer = call(make_client(account.settings), GOODS, page=1, page_size=1)
        except GatewayError as exc:
            return CheckResult(False, f"Pinduoduo refused the call: {exc} (check client id/secret and the "
                                      "access token)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {account.settings.base_url}: {type(exc).__name__}")
        return CheckResult(True, f"{answer.get('total_count', 0)} goods listed",
                           {"goods": answer.get("total_count", 0)})

    def stock_writer(self, account: Account[PinduoduoSettings]) -> PinduoduoStockWriter:
        return PinduoduoStockWriter(account.settings)
