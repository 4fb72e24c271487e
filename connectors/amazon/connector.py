"""The Amazon connector: a declaration on dlt's rest_api (streams, client, one endpoint each).

Orders and their items come from one flat-file report on the first sync, then from the Orders API v0
by ``LastUpdatedAfter`` with ``getOrderItems`` per order (``orders.py``); refunds from the Finances
API's refund events by posting date. Listings are the seller's SKUs in the account's marketplace
(``searchListingsItems``: summary, offer price, and the fulfillment channel with the seller's own
quantity); FBA inventory the quantities Amazon holds (``getInventorySummaries``), loaded as channel
stock and never written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import (
    Account,
    ChannelhubError,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    Stream,
    quarantining,
)
from connectors.sdk.convert import typed_fields
from connectors.sdk.rest import resource_config, rest_source
from connectors.sdk.spec import typed

from .client import call, make_client, raise_refusal
from .orders import latest_allowed, next_token, order_resources
from .records import amounts, flat_listing, flat_refund, money_converter
from .settings import MAX_PAGE_SIZE, AmazonSettings
from .stock import AmazonStockWriter

# Amazon serves an order's changes once they are two minutes old (LastUpdatedBefore defaults to now - 2
# minutes, and a later After value is refused): the lag re-reads five minutes, for changes Amazon's
# order index makes visible late.
UPDATED = Cursor("LastUpdateDate", source_timezone="UTC", lag=300, dedup_on_boundary=True)
# Financial events are posted in batches, some hours after the refund: the same lag for late postings.
POSTED = Cursor("PostedDate", source_timezone="UTC", lag=300, dedup_on_boundary=True)
ORDER_TIMES = ("PurchaseDate", "LastUpdateDate")
ITEM_MONEY = ("ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "ShippingDiscount", "ShippingDiscountTax",
              "PromotionDiscount", "PromotionDiscountTax", "CODFee", "CODFeeDiscount")


class AmazonConnector(Connector[AmazonSettings]):
    name = "amazon"
    kind = ConnectorKind.CHANNEL
    settings_model = AmazonSettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("orders", ("AmazonOrderId",), cursor=UPDATED,
               column_types=typed((ORDER_TIMES, "timestamp"), (amounts("OrderTotal"), "decimal"),
                                  (("OrderTotal__CurrencyCode", "FulfillmentChannel", "OrderStatus"), "text")),
               description="Orders by last update (the backfill report, then getOrders), in the fields both "
                           "give; Pending orders carry no OrderTotal. Buyer PII needs a restricted data token: not read."),
        Stream("order_items", ("AmazonOrderId", "SellerSKU"),
               column_types=typed((amounts(*ITEM_MONEY), "decimal"), (("QuantityOrdered", "QuantityShipped"), "bigint"),
                                  (("SellerSKU", "ItemPrice__CurrencyCode"), "text")),
               description="Items of each order read (getOrderItems, or the backfill report, which has no "
                           "OrderItemId); ItemPrice is the price of the quantity ordered."),
        Stream("refunds", ("AmazonOrderId", "PostedDate"), cursor=POSTED,
               column_types=typed((("PostedDate",), "timestamp"), (("refundAmount",), "decimal"),
                                  (("currency",), "text")),
               description="Refund events (listFinancialEvents RefundEventList) by posting date: refundAmount is "
                           "what the buyer got back; the adjusted items nested as refunds__shipment_item_adjustment_list."),
        Stream("listings", ("sku",),
               column_types=typed((("createdDate", "lastUpdatedDate"), "timestamp"), (("price",), "decimal"),
                                  (("mfnQuantity",), "bigint"),
                                  (("marketplaceId", "fulfillmentChannel", "currency", "asin"), "text")),
               description="Seller SKUs in the marketplace (searchListingsItems): fulfillment channel MFN (the "
                           "seller's quantity, which stock write-back sets) or AFN (Amazon's, never written)."),
        Stream("fba_inventory", ("sellerSku",),
               column_types=typed((("lastUpdatedTime",), "timestamp"),
                                  (("totalQuantity", "inventoryDetails__fulfillableQuantity"), "bigint")),
               description="FBA inventory summaries (getInventorySummaries): what Amazon holds, read-only."),
    )

    def source(self, account: Account[AmazonSettings]) -> DltSource:
        settings, name = account.settings, account.name
        marketplace = settings.marketplace_id
        order_times = typed_fields(name, "orders", [(field, "timestamp") for field in ORDER_TIMES],
                                   record=lambda order: f"AmazonOrderId {order.get('AmazonOrderId')}")
        order_money = money_converter(name, "orders", "AmazonOrderId", ("OrderTotal",))
        item_money = money_converter(name, "order_items", "AmazonOrderId", ITEM_MONEY)
        summary_times = typed_fields(name, "fba_inventory", [("lastUpdatedTime", "timestamp")],
                                     record=lambda summary: f"sellerSku {summary.get('sellerSku')}")

        def fresh_enough(start: datetime) -> str:
            """Amazon refuses a PostedAfter later than two minutes ago."""
            return min(start, latest_allowed()).strftime("%Y-%m-%dT%H:%M:%SZ")

        def listing(record: dict[str, Any]) -> dict[str, Any]:
            return flat_listing(name, marketplace, record)

        def summary(record: dict[str, Any]) -> dict[str, Any]:
            if record.get("lastUpdatedTime") == "":  # Amazon's value for a SKU never stocked
                record["lastUpdatedTime"] = None
            return summary_times(record)

        orders, items, refunds, listings, inventory = self.streams
        refused, client = [raise_refusal], make_client(settings)
        return rest_source("amazon", client, [
            *order_resources(orders, items, name, settings, client, lambda o: order_money(order_times(o)), item_money),
            resource_config(refunds, {
                "path": "finances/v0/financialEvents", "data_selector": "payload.FinancialEvents.RefundEventList",
                "response_actions": refused, "paginator": next_token(),
                "params": {"MaxResultsPerPage": MAX_PAGE_SIZE}},
                start_param="PostedAfter", initial_value=settings.start_date, convert=fresh_enough, account=name,
                processing_steps=[{"map": quarantining(lambda event: flat_refund(name, event))}]),
            resource_config(listings, {
                "path": f"listings/2021-08-01/items/{settings.seller_id}", "data_selector": "items",
                "response_actions": refused, "paginator": next_token("pagination.nextToken", "pageToken"),
                "params": {"marketplaceIds": marketplace, "pageSize": settings.listings_page_size,
                           "includedData": "summaries,offers,fulfillmentAvailability"}},
                account=name, processing_steps=[{"map": quarantining(listing)}]),
            resource_config(inventory, {
                "path": "fba/inventory/v1/summaries", "data_selector": "payload.inventorySummaries",
                "response_actions": refused, "paginator": next_token("pagination.nextToken", "nextToken"),
                "params": {"details": "true", "granularityType": "Marketplace", "granularityId": marketplace,
                           "marketplaceIds": marketplace}},
                account=name, processing_steps=[{"map": quarantining(summary)}]),
        ], max_table_nesting=1)

    def check(self, account: Account[AmazonSettings]) -> CheckResult:
        """One listing of the seller: proves the LWA credentials, the refresh token, the seller id and
        the marketplace at once."""
        settings = account.settings
        try:
            answer = call(make_client(settings), "GET", f"listings/2021-08-01/items/{settings.seller_id}",
                          params={"marketplaceIds": settings.marketplace_id, "pageSize": 1})
        except ChannelhubError as exc:
            return CheckResult(False, f"{exc} (check the LWA app credentials, the refresh token and seller_id)")
        except RequestException as exc:
            return CheckResult(False, f"cannot reach {settings.base_url}: {type(exc).__name__}")
        total = answer.get("numberOfResults", 0)
        return CheckResult(True, f"{total} listings in {settings.marketplace_id}", {"listings": total})

    def stock_writer(self, account: Account[AmazonSettings]) -> AmazonStockWriter:
        return AmazonStockWriter(account.settings)

