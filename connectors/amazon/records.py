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
