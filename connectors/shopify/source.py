"""The dlt source of one Shopify shop: a ``rest_api`` declaration, one resource per stream.

Incremental streams send ``order=updated_at asc&updated_at_min=<cursor start>`` on the first page (plus
``status=any`` for orders, whose default is *open* only) and then follow ``Link`` headers. The cursor
range is closed and deduplicated on the primary key by dlt, so records sharing the boundary timestamp
are neither lost nor loaded twice; the declared lag (300 s) re-reads late-visible updates. Orders (with
their deletion events) and customers take the SDK's Arrow fast path: pages, joined into batches, become
typed Arrow tables (exact decimals, UTC timestamps, cast vectorised) before dlt's incremental reads them,
and an order's line items, shipping lines and refunds are split into child tables by ``order_id``. The
other streams' records pass the :class:`Converter` (exact money, UTC times) and dlt's own normalizer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dlt
from dlt.extract.source import DltSource
from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import Cursor, Stream, paginate_checked, quarantining
from connectors.sdk.columnar import BATCH_ROWS, Child, Columnar, HardDeletes, PagesToArrow
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import make_client
from .convert import Converter
from .settings import ShopifySettings

SHOP_ZONE = "shop zone (offset in each value)"
# Shopify's lists are eventually consistent: an order written just before a run can become visible
# with an ``updated_at`` older than records already seen, hence the lag.
UPDATED = Cursor(field="updated_at", source_timezone=SHOP_ZONE, lag=300.0, dedup_on_boundary=True)
# Deleted orders come from ``Order/destroy`` events, read by their own ``created_at``.
DELETIONS = Stream("order_deletions", ("id",), cursor=Cursor("created_at", SHOP_ZONE, lag=300.0),
                   description="Order/destroy events, merged into orders as deletions",
                   column_types=typed((("id", "subject_id"), "bigint"), (("created_at",), "timestamp")))
INVENTORY_ITEM_IDS_PER_CALL = 100  # inventory_items.json accepts at most 100 ids

# Orders take the Arrow fast path (connectors.sdk.columnar): these columns land, typed, and the nested
# lists become child tables keyed by order_id, replaced with each load of their order.
ORDER_TIMES = ("created_at", "updated_at", "processed_at", "cancelled_at", "closed_at")
ORDER_MONEY = ("subtotal_price", "total_line_items_price", "total_tax", "total_discounts", "total_price",
               "current_total_price", "current_subtotal_price", "current_total_tax", "current_total_discounts",
               "total_outstanding")
# The ``*_set`` money in the currency the customer saw (``presentment_currency``): what a payment
# provider charged, when it is not the shop's currency.
PRESENTMENT_MONEY = tuple(f"{field}_set__presentment_money__amount"
                          for field in ("total_price", "subtotal_price", "total_tax", "total_discounts"))
ORDER_COLUMNS = typed(
    (("id", "order_number", "customer__id"), "bigint"),
    (("admin_graphql_api_id", "name", "email", "phone", "currency", "presentment_currency", "financial_status",
      "fulfillment_status", "cancel_reason", "note", "tags", "source_name"), "text"),
    (("test",), "bool"), (("payment_gateway_names",), "text_list"),
    (ORDER_TIMES, "timestamp"), (ORDER_MONEY + PRESENTMENT_MONEY, "decimal"))
ORDER_LAYOUT = Columnar(key_as="order_id", children=(
    Child("line_items", typed((("id", "product_id", "variant_id", "quantity", "fulfillable_quantity"), "bigint"),
                              (("sku", "title", "variant_title", "fulfillment_status"), "text"),
                              (("price", "total_discount"), "decimal"))),
    Child("shipping_lines", typed((("id",), "bigint"), (("title", "code"), "text"),
                                  (("price", "discounted_price"), "decimal"))),
    Child("refunds", typed((("id",), "bigint"), (("note",), "text"), (("created_at", "processed_at"), "timestamp")),
          key_as="refund_id", children=(
              Child("transactions", typed((("id",), "bigint"), (("kind", "status", "gateway", "currency"), "text"),
                                          (("amount",), "decimal"), (("created_at",), "timestamp"))),
              Child("refund_line_items", typed((("id", "line_item_id", "quantity"), "bigint"),
                                               (("subtotal", "total_tax"), "decimal"))))),
))

STREAMS = (
    Stream("orders", ("id",), cursor=UPDATED, column_types=ORDER_COLUMNS, required=("currency", "total_price"),
           description="Orders; their line items, shipping lines and refunds (with the refunds' transactions "
                       "and lines) are child tables by order_id; deleted orders are removed with them"),
    Stream("products", ("id",), cursor=UPDATED, description="Products with their variants (variant.sku)"),
    Stream("customers", ("id",), cursor=UPDATED, column_types=typed(
        (("id",), "bigint"), (("email", "phone", "first_name", "last_name", "state", "currency", "tags", "note"), "text"),
        (("verified_email",), "bool"), (("created_at", "updated_at"), "timestamp"))),
    Stream("inventory_items", ("id",), column_types=(("country_code_of_origin", "text"),),
           description="Cost and SKU of the variants read by this run's products"),
    Stream("locations", ("id",), column_types=(("address1", "text"), ("city", "text")),
           description="Every location, read in full each run (a handful of rows)"),
    Stream("inventory_levels", ("inventory_item_id", "location_id"), cursor=UPDATED,
           description="Available quantity per inventory item and location, read per location"),
)
DELETED_FLAG = "_shopify_deleted"
# Declared on both resources writing ``orders`` and its child tables: dlt keeps the table hints of the
# resource it saw last. Deletion rows carry the flag in every table (see ``Columnar.deletions``).
DELETED_COLUMN = {DELETED_FLAG: {"data_type": "bool", "hard_delete": True}}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def shopify_source(account: str, settings: ShopifySettings) -> DltSource:
    client = make_client(settings)
    limit = {"limit": settings.page_size}
    orders, products, customers, _, locations, levels = STREAMS

    def listed(stream: Stream, path: str, params: dict[str, Any], start_param: str | None = "updated_at_min",
               **extra: Any) -> dict[str, Any]:
        """A list endpoint of ``stream``, each record converted (naming it when it cannot be) unless
        the stream brings its own steps (the Arrow fast path)."""
        cursor = stream.cursor.field if stream.cursor else None
        if "steps" not in extra:
            extra["processing_steps"] = [{"map": quarantining(Converter(account, stream.name).record)}]
        return resource_config(stream, {"path": path, "params": {**limit, **params}, "data_selector": path[:-5]},
                               account=account,
                               start_param=start_param if cursor else None, initial_value=settings.start_date,
                               convert=_iso, **extra)

    ascending = {"order": "updated_at asc"}
    children = [{**hints, "columns": DELETED_COLUMN} for hints in ORDER_LAYOUT.table_hints("orders")]
    source = rest_source("shopify", client, [
        listed(orders, "orders.json", {"status": "any", **ascending}, steps=ORDER_LAYOUT.steps(account, orders),
               batch_rows=BATCH_ROWS,
               table_variants=children, columns=DELETED_COLUMN),  # the Arrow schema types the rest
        listed(DELETIONS, "events.json", {"filter": "Order", "verb": "destroy"}, "created_at_min",
               table_name="orders", columns=DELETED_COLUMN, table_variants=children, steps=[
                   PagesToArrow(account, DELETIONS.name, DELETIONS.column_types),
                   HardDeletes("orders", ORDER_LAYOUT, "subject_id", DELETED_FLAG)]),
        listed(products, "products.json", ascending),
        listed(customers, "customers.json", ascending, steps=Columnar().steps(account, customers),
               batch_rows=BATCH_ROWS, columns={}),
        listed(locations, "locations.json", {}),
        listed(levels, "inventory_levels.json", {"location_ids": "{resources.locations.id}"}),
    ])
    source.resources.add(inventory_items(RESTClient(**client), account, source.resources["products"]))
    return source


def inventory_items(client: RESTClient, account: str, products: Any) -> Any:
    """The inventory items of the variants this run read, 100 ids a call (inventory_items.json's
    limit): a transformer of the products resource, as rest_api's dependent resources call once per
    parent record."""
    convert = quarantining(Converter(account, "inventory_items").record)
    hints = next(stream for stream in STREAMS if stream.name == "inventory_items").resource_hints()

    @dlt.transformer(data_from=products, **hints)
    def read(products_page: Any) -> Iterator[Any]:
        page = products_page if isinstance(products_page, list) else [products_page]
        ids = [variant["inventory_item_id"] for product in page for variant in product.get("variants", [])
               if variant.get("inventory_item_id") is not None]
        for i in range(0, len(ids), INVENTORY_ITEM_IDS_PER_CALL):
            chunk = ",".join(str(item_id) for item_id in ids[i:i + INVENTORY_ITEM_IDS_PER_CALL])
            for items in paginate_checked(client, account, "inventory_items", "inventory_items.json",
                                          params={"ids": chunk}, data_selector="inventory_items"):
                yield [convert(item) for item in items]  # None for a record set aside: dropped by the gate

    return read
