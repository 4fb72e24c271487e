"""Typed values from what sources send, each bad one failing with a :class:`SourceDataError` that names the
account, stream, record and field: money exact, times in UTC from the source's own zone.

Converters are named by the dlt type a column lands as (``Stream.column_types``), so a connector that
declares its columns' types once converts by the same declaration: ``typed_fields`` for records (JSON
objects), ``typed_rows`` for answers that send each record as a list of values (Kingdee's
``ExecuteBillQuery``, SAP's and U8's SQL-like services).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import SourceDataError

Converter = Callable[[Any], Any]
WALL_CLOCK = "%Y-%m-%d %H:%M:%S"  # how Chinese platforms and ERPs write a time: no zone, whole seconds


def wall_clock(value: datetime, zone: str) -> str:
    """``value`` as such a source writes and compares times: wall clock in its zone, without the zone."""
    return value.astimezone(ZoneInfo(zone)).strftime(WALL_CLOCK)


def exact_decimal(value: Any) -> Decimal:
    """A JSON number arrives as a float: its shortest repr gives back the decimal the source wrote (exact
    up to 15 significant digits, beyond any amount or quantity a merchant's documents carry); strings
    (TOP's money) are read as written."""
    if isinstance(value, bool):
        raise TypeError("a boolean")
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


def whole_number(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise TypeError("not an integer")
    return int(value)


def converters(zone: str) -> dict[str, Converter]:
    """dlt type -> converter, for a source that writes times in ``zone`` (an ISO time with its own offset
    keeps it); timestamps come out in UTC."""
    tz = ZoneInfo(zone)

    def utc(value: Any) -> datetime:
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)

    return {"text": str, "bigint": whole_number, "decimal": exact_decimal, "timestamp": utc,
            "date": lambda value: date.fromisoformat(value[:10])}


def typed_fields(account: str, stream: str, fields: Iterable[tuple[str, str]], zone: str = "UTC", *,
                 record: Callable[[dict[str, Any]], str], prefix: str = "") -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Converts a record's ``(field, dlt type)`` pairs in place (absent and null values stay); ``record``
    names the record in an error, ``prefix`` the nesting of its fields (``orders.``)."""
    convert, kinds = converters(zone), tuple(fields)

    def typed(item: dict[str, Any]) -> dict[str, Any]:
        for field, kind in kinds:
            value = item.get(field)
            if value is None:
                continue
            try:
                item[field] = convert[kind](value)
            except (TypeError, ValueError, ArithmeticError):
                raise SourceDataError(account, stream, f"{kind} expected, got {value!r}", record=record(item),
                                      field=prefix + field) from None
        return item

    return typed


def typed_rows(account: str, stream: str, fields: tuple[tuple[str, str], ...],
               zone: str = "UTC") -> Callable[[Any], dict[str, Any]]:
    """An answer row (values in the order of ``fields``) as a record keyed by field, each value typed; the
    first field names the record in an error."""
    names = [name for name, _ in fields]
    typed = typed_fields(account, stream, fields, zone, record=lambda item: f"{names[0]} {item[names[0]]}")

    def record(row: Any) -> dict[str, Any]:
        if not isinstance(row, list) or len(row) != len(names):
            raise SourceDataError(account, stream, f"an answer row is not {len(names)} values: {str(row)[:80]}")
        return typed(dict(zip(names, row, strict=True)))

    return record
