"""The WooCommerce connector: a declaration on dlt's rest_api (streams, client, one endpoint each)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient
from requests import RequestException

from connectors.sdk import (
    Account,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    SourceDataError,
    Stream,
    paginate_checked,
    quarantining,
)
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import make_client
from .settings import WooCommerceSettings
from .stock import WooCommerceStockWriter

# WooCommerce writes every date twice: in the site's zone without an offset, and as ``*_gmt``. The
# cursor reads the GMT twin; the local twins land as text so nothing reads them as UTC.
MAX_PER_PAGE = 100  # WooCommerce's largest per_page
MODIFIED = Cursor("date_modified_gmt", source_timezone="UTC", lag=2, dedup_on_boundary=True)
LOCAL_DATES = ("date_created", "date_modified", "date_paid", "date_completed")
GMT_DATES = tuple(f"{name}_gmt" for name in LOCAL_DATES)
MONEY = ("discount_total", "shipping_total", "total_tax", "total")
# Where the Shipment Tracking extension keeps an order's waybills (a list in the order's meta)
TRACKING_META = "_wc_shipment_tracking_items"


def with_shipment_tracking(account: str, order: dict[str, Any]) -> dict[str, Any]:
    """The order with the waybills the store recorded (Shipment Tracking's meta) lifted into
    ``shipment_tracking``: one child row each, the provider named (a listed one's slug or the custom
    name) and ``date_shipped`` (a Unix timestamp of the ship date) as a UTC time. Raises
    :class:`SourceDataError` naming the order and field when a waybill cannot be read."""
    meta = order.get("meta_data") or []
    recorded = [item for entry in meta if isinstance(entry, dict) and entry.get("key") == TRACKING_META
                for item in (entry.get("value") or [])]
    if not recorded:
        return order
    record, rows = str(order.get("id")), []
    for item in recorded:
        try:
            shipped = datetime.fromtimestamp(int(item["date_shipped"]), UTC) if item.get("date_shipped") else None
            number = str(item["tracking_number"]).strip()
        except (KeyError, TypeError, ValueError, OverflowError):
            raise SourceDataError(account, "orders", f"unreadable shipment tracking item {item!r:.120}",
                                  record=record, field=f"meta_data.{TRACKING_META}") from None
        rows.append({"tracking_id": item.get("tracking_id"), "tracking_number": number, "shipped_at": shipped,
                     "provider": item.get("tracking_provider") or item.get("custom_tracking_provider")})
    kept = [entry for entry in meta if not (isinstance(entry, dict) and entry.get("key") == TRACKING_META)]
    return {**order, "meta_data": kept, "shipment_tracking": rows}


class WooCommerceConnector(Connector[WooCommerceSettings]):
    name = "woocommerce"
    kind = ConnectorKind.CHANNEL
    settings_model = WooCommerceSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("orders", ("id",), cursor=MODIFIED,
               column_types=typed((LOCAL_DATES, "text"), (GMT_DATES, "timestamp"), (MONEY, "decimal")),
               description="Orders with their line items, refund summaries and the couriers' waybills the "
                           "store recorded (Shipment Tracking; shipment_tracking) as nested tables."),
        Stream("products", ("id",), column_types=typed((LOCAL_DATES[:2], "text"), (GMT_DATES[:2], "timestamp"),
                                                        (("stock_quantity",), "bigint")),
               description="Products, read whole every run (variations' stock does not move the product's date)."),
        Stream("variations", ("id",), column_types=(("date_modified", "text"), ("date_modified_gmt", "timestamp"),
                                                    ("stock_quantity", "bigint")),
               description="Variations of each product: the merchant SKU and its stock quantity."),
    )

    def source(self, account: Account[WooCommerceSettings]) -> DltSource:
        settings = account.settings
        start = settings.start_date.replace(tzinfo=None).isoformat(timespec="seconds")
        ordered = {"per_page": settings.page_size, "orderby": "id", "order": "asc"}
        orders, products, variations = self.streams
        source = rest_source("woocommerce", make_client(settings), [
            resource_config(orders, {"path": "orders", "params": {**ordered, "dates_are_gmt": "true"}},
                            start_param="modified_after", initial_value=start, account=account.name),
            resource_config(products, {"path": "products", "params": ordered}, account=account.name),
            resource_config(variations, {"path": "products/{resources.products.id}/variations", "params": ordered},
                            include_from_parent=["id"], account=account.name),
        ], max_table_nesting=1)
        source.resources["orders"].add_map(quarantining(partial(with_shipment_tracking, account.name)), insert_at=1)
        return source

    def source_keys(self, account: Account[WooCommerceSettings], stream: Stream) -> list[tuple[int]]:
        """Every id the store lists of the stream (``_fields=id``, WordPress's field filter, 100 a page;
        variations product by product), for the reconciliation: an order deleted or trashed, a product or
        a variation deleted, is never listed as modified, so nothing else would tell."""
        client = RESTClient(**make_client(account.settings))

        def ids(path: str) -> list[int]:
            pages = paginate_checked(client, account.name, stream.name, path,
                                     params={"_fields": "id", "per_page": MAX_PER_PAGE})
            return [item["id"] for page in pages for item in page]
        if stream.name == "variations":
            return [(variation,) for product in ids("products") for variation in ids(f"products/{product}/variations")]
        return [(key,) for key in ids(stream.name)]

    def check(self, account: Account[WooCommerceSettings]) -> CheckResult:
        """One order, to prove the key can read orders and learn how many there are."""
        settings = account.settings
        client = make_client(settings)
        try:
            response = client["session"].get(f"{settings.api_root}/orders", params={"per_page": 1},
                                              auth=client["auth"])
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {settings.base_url}: {type(exc).__name__}")
        if response.status_code != 200:
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            return CheckResult(False, f"WooCommerce answered HTTP {response.status_code}: "
                                      f"{body.get('message', response.reason)} (check the REST API key's read access)")
        total = int(response.headers.get("X-WP-Total", 0))
        return CheckResult(True, f"{settings.base_url}: {total} orders readable", {"orders": total})

    def stock_writer(self, account: Account[WooCommerceSettings]) -> WooCommerceStockWriter:
        return WooCommerceStockWriter(account.settings)
