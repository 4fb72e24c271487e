"""Checks and conversions applied to every Stripe object before dlt sees it.

Money stays in Stripe's integer minor units next to its currency: exact, and what Stripe's own reports
use. Unix-second timestamps become timezone-aware UTC datetimes *in place*, so ``created`` is both the
column analysts read and the cursor dlt compares (one type everywhere, no parallel epoch column).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.sdk import SourceDataError

AMOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "charges": ("amount", "amount_captured", "amount_refunded"),
    "payment_intents": ("amount", "amount_received"),
    "refunds": ("amount",),
    "balance_transactions": ("amount", "fee", "net"),
    "payouts": ("amount",),
    "customers": (),
    "charge_events": (),
}
# Besides ``created`` (required everywhere): optional unix-second fields of each object.
TIMESTAMP_FIELDS: dict[str, tuple[str, ...]] = {
    "balance_transactions": ("available_on",),
    "payouts": ("arrival_date",),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_record(account: str, stream: str, obj: Any) -> dict[str, Any]:
    """One Stripe object as a row; raises :class:`SourceDataError` naming the record and field at fault."""
    if not isinstance(obj, dict):
        raise SourceDataError(account, stream, f"list item is not an object: {obj!r:.80}")
    record_id = obj.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise SourceDataError(account, stream, f"object has no id (got {record_id!r})", record="(no id)", field="id")

    def bad(field: str, expected: str) -> SourceDataError:
        return SourceDataError(account, stream, f"expected {expected}, got {obj.get(field)!r}", record=record_id,
                               field=field)

    if not _is_int(obj.get("created")):
        raise bad("created", "unix seconds")
    amounts = AMOUNT_FIELDS[stream]
    for field in amounts:
        if not _is_int(obj.get(field)):
            raise bad(field, "an integer amount in minor units")
    if amounts and not isinstance(obj.get("currency"), str):
        raise bad("currency", "an ISO currency code")
    row = dict(obj)
    row["created"] = utc(obj["created"])
    for field in TIMESTAMP_FIELDS.get(stream, ()):
        value = obj.get(field)
        if value is not None and not _is_int(value):
            raise bad(field, "unix seconds or null")
        row[field] = None if value is None else utc(value)
    return row
