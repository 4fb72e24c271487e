"""Shopify JSON to warehouse values: money strings become exact ``Decimal``s and ISO timestamps with
the shop's offset become UTC datetimes. Anything unreadable stops the run with the record's id and the
field's path, instead of loading a NULL or a float that silently lost a cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sdk import SourceDataError

# Shopify's money fields (orders, line items, refunds, transactions, variants, inventory items).
MONEY_FIELDS = frozenset({
    "price", "total_price", "subtotal_price", "total_tax", "total_discounts", "total_line_items_price",
    "total_discount", "current_total_price", "current_subtotal_price", "current_total_tax",
    "current_total_discounts", "total_outstanding", "total_shipping_price", "amount", "subtotal",
    "discounted_price", "compare_at_price", "cost", "total_spent", "total_duties",
})


class Converter:
    """Converts records of one stream of one account; knows them to name them in errors."""

    def __init__(self, account: str, stream: str) -> None:
        self.account, self.stream = account, stream

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        return self._dict(record, str(record.get("id", record.get("inventory_item_id"))), "")

    def _dict(self, item: dict[str, Any], record_id: str, prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in item.items():
            if value is None:
                out[key] = None
            elif key in MONEY_FIELDS:
                out[key] = self._money(value, record_id, prefix + key)
            elif key.endswith("_at") and isinstance(value, str):
                out[key] = self._time(value, record_id, prefix + key)
            elif isinstance(value, dict):
                out[key] = self._dict(value, record_id, f"{prefix}{key}.")
            elif isinstance(value, list):
                out[key] = [self._dict(v, record_id, f"{prefix}{key}[{i}].") if isinstance(v, dict) else v
                            for i, v in enumerate(value)]
            else:
                out[key] = value
        return out

    def _money(self, value: Any, record_id: str, path: str) -> Decimal:
        try:
            amount = Decimal(value if isinstance(value, str) else str(value))
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or isinstance(value, bool):
            raise SourceDataError(self.account, self.stream, f"{value!r} is not a money amount",
                                  record=record_id, field=path)
        return amount

    def _time(self, value: str, record_id: str, path: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise SourceDataError(self.account, self.stream, f"{value!r} is not a timestamp with an offset",
                                  record=record_id, field=path)
        return parsed.astimezone(UTC)
