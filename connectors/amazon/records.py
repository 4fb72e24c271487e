"""SP-API records as they land: money objects' amounts exact, listings and refund events flattened to
the row the marts read, every bad value naming its record and field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectors.sdk import SourceDataError
from connectors.sdk.convert import exact_decimal, typed_fields

DEFAULT_CHANNEL = "DEFAULT"  # fulfillment_availability's code for the seller's own (MFN) quantity


def amounts(*fields: str) -> tuple[str, ...]:
    """The ``Amount`` of each ``{"CurrencyCode", "Amount"}`` field, as dlt flattens it."""
    return tuple(f"{field}__Amount" for field in fields)


def money_converter(account: str, stream: str, key: str, fields: tuple[str, ...]) -> Callable[[dict], dict]:
    """Each money object's ``Amount`` (a string) as an exact Decimal; a bad one names record and field."""
    def convert(record: dict[str, Any]) -> dict[str, Any]:
        for field in fields:
            value = record.get(field)
            if isinstance(value, dict):
                typed_fields(account, stream, [("Amount", "decimal")], record=lambda _: f"{key} {record.get(key)}",
                             prefix=f"{field}.")(value)
        return record
    return convert


def flat_listing(account: str, marketplace: str, record: dict[str, Any]) -> dict[str, Any]:
    """A listing as one row: its summary in the account's marketplace, its offer price and its fulfillment
    channel. The seller's quantity (``mfnQuantity``) is kept for seller-fulfilled SKUs only; an
    Amazon-fulfilled SKU's stock is Amazon's (the fba_inventory stream)."""
    summaries = [s for s in record.pop("summaries", None) or [] if s.get("marketplaceId") == marketplace]
    offers = [o for o in record.pop("offers", None) or [] if o.get("marketplaceId") == marketplace]
    channels = record.pop("fulfillmentAvailability", None) or []
    own = next((c for c in channels if c.get("fulfillmentChannelCode") == DEFAULT_CHANNEL), None)
    summary = summaries[0] if summaries else {}
    price = (offers[0].get("price") or {}) if offers else {}
    record.update({
        "marketplaceId": marketplace, "asin": summary.get("asin"), "itemName": summary.get("itemName"),
        "productType": summary.get("productType"), "status": ",".join(summary.get("status") or []),
        "createdDate": summary.get("createdDate"), "lastUpdatedDate": summary.get("lastUpdatedDate"),
        "fulfillmentChannel": "MFN" if own is not None or not channels else "AFN",
        "fulfillmentChannelCode": ",".join(str(c.get("fulfillmentChannelCode")) for c in channels) or None,
        "mfnQuantity": own.get("quantity") if own is not None else None,
        "price": price.get("amount"), "currency": price.get("currencyCode"),
    })
    return typed_fields(account, "listings", [("createdDate", "timestamp"), ("lastUpdatedDate", "timestamp"),
                                              ("price", "decimal"), ("mfnQuantity", "bigint")],
                        record=lambda listing: f"sku {listing.get('sku')}")(record)


def flat_refund(account: str, record: dict[str, Any]) -> dict[str, Any]:
    """A refund event with what the buyer got back: ``refundAmount``, the charges of every adjusted item
    (``ChargeAmount.CurrencyAmount``, a JSON number, negative) summed exactly and made positive, and
    their ``currency``. The adjusted items (SKU, quantity) land as the event's child rows."""
    key = f"AmazonOrderId {record.get('AmazonOrderId')}"
    total, currencies = Decimal(0), set()
    for adjustment in record.get("ShipmentItemAdjustmentList") or []:
        for charge in adjustment.get("ItemChargeAdjustmentList") or []:
            amount = (charge.get("ChargeAmount") or {})
            try:
                total += exact_decimal(amount.get("CurrencyAmount"))
            except (TypeError, ValueError, ArithmeticError):
                raise SourceDataError(account, "refunds", f"decimal expected, got {amount.get('CurrencyAmount')!r}",
                                      record=key, field="ItemChargeAdjustmentList.ChargeAmount.CurrencyAmount") from None
            currencies.add(amount.get("CurrencyCode"))
    if len(currencies) > 1:
        raise SourceDataError(account, "refunds", f"charges in several currencies {sorted(map(str, currencies))}",
                              record=key, field="ItemChargeAdjustmentList.ChargeAmount.CurrencyCode")
    record["refundAmount"], record["currency"] = -total, next(iter(currencies), None)
    return typed_fields(account, "refunds", [("PostedDate", "timestamp")], record=lambda _: key)(record)


# What an order keeps: the fields getOrders and the backfill report share, so an order lands the same
# whichever way it was read (a full refresh reads the report again).
ORDER_FIELDS = ("AmazonOrderId", "SellerOrderId", "PurchaseDate", "LastUpdateDate", "OrderStatus",
                "FulfillmentChannel", "SalesChannel", "ShipServiceLevel", "MarketplaceId", "IsBusinessOrder",
                "OrderTotal", "ShippingAddress")
PENDING = frozenset({"Pending", "PendingAvailability"})  # no total before the payment is authorised
REPORT_STATUSES = {"Cancelled": "Canceled"}  # the flat file's spelling -> the Orders API's
REPORT_CHANNELS = {"Amazon": "AFN", "Merchant": "MFN"}
# money columns of the report -> the Orders API's item fields (promotions: negative in the file)
REPORT_MONEY = {"item-price": "ItemPrice", "item-tax": "ItemTax", "shipping-price": "ShippingPrice",
                "shipping-tax": "ShippingTax", "item-promotion-discount": "PromotionDiscount",
                "ship-promotion-discount": "ShippingDiscount"}


def api_order(order: dict[str, Any]) -> dict[str, Any]:
    """A getOrders order, cut to :data:`ORDER_FIELDS`."""
    return {field: order[field] for field in ORDER_FIELDS if field in order}


def report_order(account: str, marketplace: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    """An order of the flat-file report (its rows, one per item) in the Orders API's shape (its
    :data:`ORDER_FIELDS`), with its items under ``OrderItems``: the total is the items' money (the file
    has no order total), left out while the order is Pending or a price is blank, as getOrders does."""
    first = rows[0]
    order_id, currency = first["amazon-order-id"], first.get("currency") or None
    record = f"AmazonOrderId {order_id}"

    def number(row: dict[str, str], column: str) -> Decimal | None:
        text = (row.get(column) or "").strip()
        try:
            return Decimal(text) if text else None
        except ArithmeticError:
            raise SourceDataError(account, "orders", f"{text!r} is not a money amount", record=record,
                                  field=column) from None

    items, total = [], Decimal(0)
    for row in rows:
        amounts = {field: number(row, column) for column, field in REPORT_MONEY.items()}
        if amounts["ItemPrice"] is None:
            total = None
        elif total is not None:
            total += sum((value for value in amounts.values() if value is not None), Decimal(0))
        quantity = (row.get("quantity") or "").strip()
        if not quantity.isdigit():
            raise SourceDataError(account, "order_items", f"{quantity!r} is not a quantity", record=record,
                                  field="quantity")
        discounts = {"PromotionDiscount", "ShippingDiscount"}
        items.append({"AmazonOrderId": order_id, "SellerSKU": row.get("sku"), "ASIN": row.get("asin"),
                      "Title": row.get("product-name"), "QuantityOrdered": int(quantity),
                      "QuantityShipped": int(quantity) if row.get("item-status") == "Shipped" else 0,
                      **{field: {"CurrencyCode": currency, "Amount": str(-value if field in discounts else value)}
                         for field, value in amounts.items() if value is not None}})
    order = {"AmazonOrderId": order_id, "SellerOrderId": first.get("merchant-order-id") or None,
             "PurchaseDate": first.get("purchase-date"), "LastUpdateDate": first.get("last-updated-date"),
             "OrderStatus": REPORT_STATUSES.get(first.get("order-status", ""), first.get("order-status")),
             "FulfillmentChannel": REPORT_CHANNELS.get(first.get("fulfillment-channel", "")),
             "SalesChannel": first.get("sales-channel"), "ShipServiceLevel": first.get("ship-service-level"),
             "MarketplaceId": marketplace, "IsBusinessOrder": first.get("is-business-order") == "true",
             "ShippingAddress": {"City": first.get("ship-city"), "StateOrRegion": first.get("ship-state"),
                                 "PostalCode": first.get("ship-postal-code"), "CountryCode": first.get("ship-country")},
             "OrderItems": items}
    if total is not None and order["OrderStatus"] not in PENDING:
        order["OrderTotal"] = {"CurrencyCode": currency, "Amount": str(total)}
    return order
