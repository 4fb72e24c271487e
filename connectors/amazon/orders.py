"""Orders and their items: the first sync (and a full refresh) from one Reports API backfill, every later
one from the Orders API, both into the same two streams.

The ``orders`` resource reads its cursor's state: with none saved (a first sync, a full refresh) it asks
for the flat-file report of the whole range (``reports.py``), else it pages ``getOrders`` by
``LastUpdatedAfter`` from the saved cursor less its lag, never later than three minutes ago (Amazon
refuses later values and serves no change younger than two minutes). The ``order_items`` transformer takes
the items the report brought for an order, and asks ``getOrderItems`` for the others. Both page with
dlt's ``RESTClient`` and a ``NextToken`` paginator; dlt's incremental filters and deduplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import dlt
from dlt.extract import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from connectors.sdk import Stream, paginate_checked, quarantining

from .client import raise_refusal
from .records import api_order, report_order
from .reports import order_report
from .settings import AmazonSettings

FRESHNESS = timedelta(minutes=3)  # two minutes, and a minute for the request on its way
REPORT_BATCH = 1_000  # orders handed to dlt at once from a report


def next_token(path: str = "payload.NextToken", param: str = "NextToken") -> JSONResponseCursorPaginator:
    return JSONResponseCursorPaginator(cursor_path=path, cursor_param=param)


def latest_allowed() -> datetime:
    return datetime.now(UTC) - FRESHNESS


def order_resources(orders: Stream, items: Stream, account: str, settings: AmazonSettings, client: dict[str, Any],
                    convert_order: Callable[[dict], dict], convert_item: Callable[[dict], dict]) -> list[DltResource]:
    """The two resources; ``convert_*`` type one record (a bad one is quarantined, naming its field)."""
    api = RESTClient(client["base_url"], auth=client["auth"], session=client["session"])
    hooks = {"response": [raise_refusal]}
    brought: dict[str, list[dict[str, Any]]] = {}  # items a report brought, by order, until the transformer takes them
    safe_order, safe_item = quarantining(convert_order), quarantining(convert_item)
    safe_report_order = quarantining(lambda rows: convert_order(report_order(account, settings.marketplace_id, rows)))

    def from_api(start: datetime) -> Iterator[list[dict[str, Any]]]:
        params = {"MarketplaceIds": settings.marketplace_id, "MaxResultsPerPage": settings.page_size,
                  "LastUpdatedAfter": min(start, latest_allowed()).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for page in paginate_checked(api, account, "orders", "orders/v0/orders", hooks=hooks, params=params,
                                     data_selector="payload.Orders", paginator=next_token()):
            yield [order for order in (safe_order(api_order(record)) for record in page) if order is not None]

    def from_report(start: datetime) -> Iterator[list[dict[str, Any]]]:
        rows = order_report(client, settings, start, latest_allowed())
        if rows is None:
            yield from from_api(start)
            return
        by_order: dict[str, list[dict[str, str]]] = {}  # an order's rows, wherever the file puts them
        for row in rows:
            by_order.setdefault(row["amazon-order-id"], []).append(row)
        batch = []
        for order_id, group in by_order.items():
            order = safe_report_order(group)
            if order is not None:
                brought[order_id] = order.pop("OrderItems")
                batch.append(order)
            if len(batch) >= REPORT_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    incremental = orders.cursor.incremental(settings.start_date)

    def changed(updated: Any = incremental) -> Iterator[list[dict[str, Any]]]:
        state = updated.get_state()
        first_sync = state["last_value"] == state["initial_value"] and settings.backfill_with_reports
        yield from (from_report if first_sync else from_api)(updated.last_value)

    def their_items(page: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        for order in page:
            order_id = order["AmazonOrderId"]
            found = brought.pop(order_id, None)
            if found is None:
                found = [item for items_page in paginate_checked(
                    api, account, "order_items", f"orders/v0/orders/{quote(order_id, safe='')}/orderItems", hooks=hooks,
                    data_selector="payload.OrderItems", paginator=next_token()) for item in items_page]
            yield [item for item in (safe_item({**item, "AmazonOrderId": order_id}) for item in found)
                   if item is not None]

    amazon_orders = dlt.resource(changed, **orders.resource_hints())
    return [amazon_orders, dlt.transformer(their_items, data_from=amazon_orders, **items.resource_hints())]
