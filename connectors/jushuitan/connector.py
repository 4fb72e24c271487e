"""The Jushuitan connector: a declaration on dlt's rest_api plus the gateway SDK's windowed cursor.

Orders (``/open/orders/single/query``) and after-sales (``/open/refund/single/query``) are listed by
modified time in windows of at most 7 days, whole with their items, of every shop or of the ``shops``
listed; SKUs (``/open/sku/query``) the same way from ``catalog_start_date``; stock
(``/open/inventory/query``) per warehouse, each warehouse (``/open/wms/partner/query``) read in the same
windows. Pages are numbered from 1 while ``has_next``; every time is Beijing wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import dlt
from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Cursor, Stream
from connectors.sdk.convert import typed_fields
from connectors.sdk.gateway import GatewayError, utc_converter, windowed_resource
from connectors.sdk.http import paginate_checked
from connectors.sdk.rest import rest_source
from connectors.sdk.session import LoginRefused
from connectors.sdk.spec import typed

from .client import ZONE, call, make_client, pages
from .settings import JushuitanSettings

# Jushuitan stamps ``modified`` to the second and does not say how late a change shows in its queries:
# the lag re-reads the last minute before the newest change seen.
MODIFIED = Cursor("modified", source_timezone=ZONE, lag=60, dedup_on_boundary=True)
ORDERS, REFUNDS, SKUS = "open/orders/single/query", "open/refund/single/query", "open/sku/query"
INVENTORY, WAREHOUSES = "open/inventory/query", "open/wms/partner/query"
ORDER_TIMES = ("order_date", "created", "modified", "pay_date", "send_date")
ORDER_MONEY = ("pay_amount", "paid_amount", "freight", "free_amount")
ITEM_FIELDS = (("price", "decimal"), ("base_price", "decimal"), ("amount", "decimal"), ("qty", "bigint"))
REFUND_TIMES = ("as_date", "modified")
REFUND_MONEY = ("refund", "payment")
SKU_TIMES = ("created", "modified")
SKU_MONEY = ("sale_price", "cost_price")
STOCK_COUNTS = ("qty", "order_lock")


class JushuitanConnector(Connector[JushuitanSettings]):
    name = "jushuitan"
    kind = ConnectorKind.ERP
    settings_model = JushuitanSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("orders", ("o_id",), cursor=MODIFIED,
               column_types=typed((ORDER_TIMES, "timestamp"), (ORDER_MONEY, "decimal"), (("shop_id",), "bigint")),
               description="Orders (orders.single.query) of the shops Jushuitan routes, items nested as "
                           "orders__items; so_id is the shop's own order number, o_id Jushuitan's."),
        Stream("refunds", ("as_id",), cursor=MODIFIED,
               column_types=typed((REFUND_TIMES, "timestamp"), (REFUND_MONEY, "decimal"), (("o_id",), "bigint")),
               description="After-sales cases (售后单) by modified time, items nested as refunds__items."),
        Stream("skus", ("sku_id",), cursor=MODIFIED,
               column_types=typed((SKU_TIMES, "timestamp"), (SKU_MONEY, "decimal")),
               description="SKUs (商品编码 = the merchant SKU) with their style (i_id), name and barcode."),
        Stream("warehouses", ("wms_co_id",), write_disposition="replace",
               description="The merchant's warehouses (主仓 and branches), read whole every run."),
        Stream("inventory", ("wms_co_id", "sku_id"), cursor=MODIFIED,
               column_types=typed((("modified",), "timestamp"), (STOCK_COUNTS, "bigint"), (("wms_co_id",), "bigint")),
               required=("qty",), not_null=("qty",),
               description="Stock per SKU and warehouse: qty on hand, order_lock reserved by orders."),
    )

    def source(self, account: Account[JushuitanSettings]) -> DltSource:
        settings, name = account.settings, account.name
        client = make_client(settings)
        listing = pages(client)
        window = {"cursor": MODIFIED, "account": name, "window": timedelta(days=settings.window_days),
                  "bounds": ("modified_begin", "modified_end")}
        since, catalog_since = settings.start_date, settings.catalog_start_date or settings.start_date
        shops = (lambda: [{"shop_id": shop} for shop in settings.shops]) if settings.shops else None

        warehouses = warehouses_listed(listing, name, settings.stock_page_size)

        def each_warehouse() -> list[dict[str, Any]]:
            """Stock is asked for one warehouse at a time: the warehouses as the run finds them."""
            return [{"wms_co_id": house["wms_co_id"]} for page in warehouses() for house in page]

        resources = [
            windowed_resource(listing, ORDERS, {"page_size": settings.page_size}, **window, initial_value=since,
                              data_selector="data.orders", key="o_id", stream="orders", partitions=shops,
                              convert=self.order_converter(name), **self.resource_hints("orders")),
            windowed_resource(listing, REFUNDS, {"page_size": settings.page_size}, **window, initial_value=since,
                              data_selector="data.datas", key="as_id", stream="refunds", partitions=shops,
                              convert=self.refund_converter(name), **self.resource_hints("refunds")),
            windowed_resource(listing, SKUS, {"page_size": settings.stock_page_size}, **window,
                              initial_value=catalog_since, data_selector="data.datas", key="sku_id", stream="skus",
                              convert=self.sku_converter(name), **self.resource_hints("skus")),
            windowed_resource(listing, INVENTORY, {"page_size": settings.stock_page_size}, **window,
                              initial_value=catalog_since, data_selector="data.inventorys",
                              key=("wms_co_id", "sku_id"), stream="inventory", partitions=each_warehouse,
                              convert=self.stock_converter(name), **self.resource_hints("inventory")),
            dlt.resource(warehouses, **self.resource_hints("warehouses")),
        ]
        return rest_source("jushuitan", client, resources, max_table_nesting=1)

    @staticmethod
    def order_converter(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Times to UTC, money exact; each item carries its o_id, as after-sales name an item by order and
        SKU."""
        times = utc_converter(name, "orders", ZONE, ORDER_TIMES, "o_id")
        money = typed_fields(name, "orders", [(field, "decimal") for field in ORDER_MONEY],
                             record=lambda order: f"o_id {order.get('o_id')}")
        items = typed_fields(name, "orders", ITEM_FIELDS, prefix="items.",
                             record=lambda item: f"o_id {item.get('o_id')} sku_id {item.get('sku_id')}")

        def order(record: dict[str, Any]) -> dict[str, Any]:
            record = money(times(record))
            record["items"] = [items({**item, "o_id": record.get("o_id")}) for item in record.get("items") or []]
            return record

        return order

    @staticmethod
    def refund_converter(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        times = utc_converter(name, "refunds", ZONE, REFUND_TIMES, "as_id")
        money = typed_fields(name, "refunds", [(field, "decimal") for field in REFUND_MONEY],
                             record=lambda case: f"as_id {case.get('as_id')}")
        items = typed_fields(name, "refunds", [("amount", "decimal"), ("qty", "bigint")], prefix="items.",
                             record=lambda item: f"as_id {item.get('as_id')} sku_id {item.get('sku_id')}")

        def case(record: dict[str, Any]) -> dict[str, Any]:
            record = money(times(record))
            record["items"] = [items({**item, "as_id": record.get("as_id")}) for item in record.get("items") or []]
            return record

        return case

    @staticmethod
    def sku_converter(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        times = utc_converter(name, "skus", ZONE, SKU_TIMES, "sku_id")
        money = typed_fields(name, "skus", [(field, "decimal") for field in SKU_MONEY],
                             record=lambda sku: f"sku_id {sku.get('sku_id')}")
        return lambda record: money(times(record))

    @staticmethod
    def stock_converter(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        times = utc_converter(name, "inventory", ZONE, ("modified",), "sku_id")
        counts = typed_fields(name, "inventory", [(field, "bigint") for field in STOCK_COUNTS],
                              record=lambda row: f"wms_co_id {row.get('wms_co_id')} sku_id {row.get('sku_id')}")
        return lambda record: counts(times(record))

    def check(self, account: Account[JushuitanSettings]) -> CheckResult:
        """The warehouse list: proves app key, signature and the refresh token at once."""
        try:
            answer = call(make_client(account.settings), WAREHOUSES, page_index=1, page_size=1)
        except (GatewayError, LoginRefused) as exc:
            return CheckResult(False, f"Jushuitan refused the call: {exc} (check app key/secret and the refresh "
                                      "token)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {account.settings.base_url}: {type(exc).__name__}")
        count = answer.get("data_count", len(answer.get("datas") or []))
        return CheckResult(True, f"{count} warehouses listed", {"warehouses": count})


def warehouses_listed(listing: Any, name: str, page_size: int) -> Callable[[], Iterator[list[dict[str, Any]]]]:
    """Every warehouse, page by page: a short list, read whole each run."""
    def read() -> Iterator[list[dict[str, Any]]]:
        yield from paginate_checked(listing, name, "warehouses", WAREHOUSES, data_selector="data.datas",
                                    params={"page_size": page_size})
    return read
