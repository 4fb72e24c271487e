"""The dlt source of one Shopify shop.

Incremental streams send ``order=updated_at asc&updated_at_min=<cursor start>`` on the first page (plus
``status=any`` for orders, whose default is *open* only) and then follow ``Link`` headers. The cursor
range is closed and deduplicated on the primary key by dlt, so records sharing the boundary timestamp
are neither lost nor loaded twice; the declared lag (300 s) re-reads late-visible updates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import Connector, Cursor, Stream, paginate_checked

from .client import make_client
from .convert import Converter
from .settings import ShopifySettings

SHOP_ZONE = "shop zone (offset in each value)"
DEFAULT_LAG = 300.0
INVENTORY_ITEM_IDS_PER_CALL = 100  # inventory_items.json accepts at most 100 ids


def _cursor() -> Cursor:
    """Shopify's lists are eventually consistent: an order written just before a run can become visible
    with an ``updated_at`` older than records already seen, hence the lag."""
    return Cursor(field="updated_at", source_timezone=SHOP_ZONE, lag=DEFAULT_LAG, dedup_on_boundary=True)


# Deleted orders come from ``Order/destroy`` events, read by their own ``created_at``.
DELETIONS = Cursor(field="created_at", source_timezone=SHOP_ZONE, lag=DEFAULT_LAG, dedup_on_boundary=True)


STREAMS = (
    Stream("orders", ("id",), cursor=_cursor(),
           description="Orders with line items, refunds and shipping lines; deleted orders are removed"),
    Stream("products", ("id",), cursor=_cursor(), description="Products with their variants (variant.sku)"),
    Stream("customers", ("id",), cursor=_cursor()),
    Stream("inventory_items", ("id",), column_types=(("country_code_of_origin", "text"),),
           description="Cost and SKU of the variants read by this run's products"),
    Stream("locations", ("id",), column_types=(("address1", "text"), ("city", "text")),
           description="Every location, read in full each run (a handful of rows)"),
    Stream("inventory_levels", ("inventory_item_id", "location_id"), cursor=_cursor(),
           description="Available quantity per inventory item and location"),
)
DELETED_FLAG = "_shopify_deleted"
# Declared on both resources writing ``orders``: dlt keeps the table hints of the resource it saw last.
DELETED_COLUMN = {DELETED_FLAG: {"data_type": "bool", "hard_delete": True}}


def _iso(value: datetime) -> str:
    return value.isoformat()


@dlt.source(name="shopify")
def shopify_source(connector: Connector, account: str, settings: ShopifySettings) -> Any:
    client = make_client(settings)
    limit = settings.page_size

    def cursor(name: str) -> dlt.sources.incremental:
        declared = connector.stream(name).cursor
        assert declared is not None
        return declared.incremental(settings.start_date)

    orders_cursor, deletions_cursor = cursor("orders"), DELETIONS.incremental(settings.start_date)
    products_cursor, customers_cursor, levels_cursor = (
        cursor("products"), cursor("customers"), cursor("inventory_levels"))

    def pages(stream: str, path: str, params: dict[str, Any], converter: Converter,
              selector: str | None = None) -> Iterator[list[dict[str, Any]]]:
        for page in paginate_checked(client, account, stream, path, params={"limit": limit, **params},
                                     data_selector=selector or stream):
            yield [converter.record(record) for record in page]

    def updated_since(incremental: dlt.sources.incremental) -> dict[str, str]:
        return {"order": "updated_at asc", "updated_at_min": _iso(incremental.start_value)}

    @dlt.resource(**connector.resource_hints("orders"), columns=DELETED_COLUMN)
    def orders(updated_at: dlt.sources.incremental = orders_cursor) -> Iterator[Any]:
        yield from pages("orders", "orders.json", {"status": "any", **updated_since(updated_at)},
                         Converter(account, "orders", "updated_at"))

    @dlt.resource(name="order_deletions", table_name="orders", primary_key="id", write_disposition="merge",
                  columns=DELETED_COLUMN)
    def order_deletions(created_at: dlt.sources.incremental = deletions_cursor) -> Iterator[Any]:
        """Orders deleted in the admin disappear from orders.json; their ``Order/destroy`` events
        become merge rows flagged as dlt ``hard_delete``, which removes the order (and its nested
        rows) from the warehouse."""
        converter = Converter(account, "orders", "created_at")
        params = {"filter": "Order", "verb": "destroy", "created_at_min": _iso(created_at.start_value)}
        for events in pages("orders", "events.json", params, converter, selector="events"):
            yield [{"id": event["subject_id"], "created_at": event["created_at"], DELETED_FLAG: True}
                   for event in events]

    @dlt.resource(**connector.resource_hints("products"))
    def products(updated_at: dlt.sources.incremental = products_cursor) -> Iterator[Any]:
        yield from pages("products", "products.json", updated_since(updated_at),
                         Converter(account, "products", "updated_at"))

    @dlt.transformer(data_from=products, **connector.resource_hints("inventory_items"))
    def inventory_items(products_page: list[dict[str, Any]]) -> Iterator[Any]:
        ids = [variant["inventory_item_id"] for product in products_page for variant in product.get("variants", [])
               if variant.get("inventory_item_id") is not None]
        converter = Converter(account, "inventory_items")
        for i in range(0, len(ids), INVENTORY_ITEM_IDS_PER_CALL):
            chunk = ",".join(str(item_id) for item_id in ids[i:i + INVENTORY_ITEM_IDS_PER_CALL])
            yield from pages("inventory_items", "inventory_items.json", {"ids": chunk}, converter)

    @dlt.resource(**connector.resource_hints("customers"))
    def customers(updated_at: dlt.sources.incremental = customers_cursor) -> Iterator[Any]:
        yield from pages("customers", "customers.json", updated_since(updated_at),
                         Converter(account, "customers", "updated_at"))

    @dlt.resource(**connector.resource_hints("locations"))
    def locations() -> Iterator[Any]:
        yield list(_locations(client, account))

    @dlt.resource(**connector.resource_hints("inventory_levels"))
    def inventory_levels(updated_at: dlt.sources.incremental = levels_cursor) -> Iterator[Any]:
        """inventory_levels.json needs location_ids (or item ids): ask for every location's levels."""
        location_ids = ",".join(str(location["id"]) for location in _locations(client, account))
        params = {"location_ids": location_ids, "updated_at_min": _iso(updated_at.start_value)}
        yield from pages("inventory_levels", "inventory_levels.json", params,
                         Converter(account, "inventory_levels", "updated_at"))

    return orders, order_deletions, products, inventory_items, customers, locations, inventory_levels


def _locations(client: RESTClient, account: str) -> Iterator[dict[str, Any]]:
    converter = Converter(account, "locations")
    for page in paginate_checked(client, account, "locations", "locations.json", data_selector="locations"):
        yield from (converter.record(location) for location in page)
