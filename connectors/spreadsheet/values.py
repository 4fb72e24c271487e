"""Cell values to typed values, as forgiving as store exports require and no more.

Accepted: numbers with thousands separators, currency symbols, full-width digits and accounting
negatives "(1,234.50)"; dates as date cells, Excel serial numbers, yyyymmdd numbers and the text forms
"2026/3/5", "2026-03-05", "2026.3.5", "2026年3月5日" (optionally with a time). Anything else raises
:class:`CellError` with the offending text, so a quarantined row says exactly what to fix.
Money is :class:`~decimal.Decimal` from the text Excel shows, never a binary float.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from .settings import ColumnType

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
CURRENCY = re.compile(r"^(?:[¥$€£]|RMB|CNY|USD|EUR|GBP)\s*|\s*(?:元|RMB|CNY|USD|EUR|GBP)$", re.IGNORECASE)
DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?)?$")
YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Plausible Excel serials (1950-01-01 .. 2099-12-31): a 3 in a date column is a mistake, not 1900-01-03.
SERIAL_RANGE = (18_264, 73_050)


class CellError(ValueError):
    """A value that does not fit its column type; the message quotes the value."""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), trimmed: "１２，３４５" and "12,345" read the same."""
    return unicodedata.normalize("NFKC", text).strip()


def to_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))   # SKU or receipt numbers typed into a number cell
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(format(value, ".15g"))  # Excel keeps 15 significant digits
    text = normalize(str(value))
    negative = text.startswith("(") and text.endswith(")")
    cleaned = CURRENCY.sub("", text.strip("()") if negative else text)
    cleaned = re.sub(r"(?<=\d)[,'\s](?=\d{3})", "", cleaned)
    if not NUMBER.match(cleaned):
        raise CellError(f"{to_text(value)!r} is not a number")
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise CellError(f"{to_text(value)!r} is not a number") from exc
    return -number if negative else number


def to_integer(value: Any) -> int:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise CellError(f"{to_text(value)!r} is not a whole number")
    return int(number)


def _from_serial(serial: float, epoch: datetime, original: Any) -> datetime:
    if not SERIAL_RANGE[0] <= serial <= SERIAL_RANGE[1]:
        raise CellError(f"{to_text(original)!r} is not a date")
    return from_excel(serial, epoch)


def _naive_datetime(value: Any, epoch: datetime) -> datetime:
    """A date or time from any accepted form; aware only if the text carried an offset."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a date")
    if isinstance(value, int | float):
        if isinstance(value, int) or value.is_integer():
            match = YYYYMMDD.match(str(int(value)))
            if match:
                return _build(match.groups(), value)
        return _from_serial(float(value), epoch, value)
    text = normalize(str(value))
    match = DATE_TEXT.match(text) or YYYYMMDD.match(text)
    if match:
        return _build(match.groups(), value)
    if text.isdigit():
        return _from_serial(float(text), epoch, value)
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise CellError(f"{to_text(value)!r} is not a date") from exc


def _build(parts: tuple[str | None, ...], original: Any) -> datetime:
    year, month, day, hour, minute, second, fraction = (*parts, None, None, None, None)[:7]
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                        int((fraction or "0").ljust(6, "0")))
    except ValueError as exc:
        raise CellError(f"{to_text(original)!r} is not a date") from exc


def to_date(value: Any, epoch: datetime) -> date:
    """A calendar date as written: no time-zone conversion, a store's sales day stays its day."""
    return _naive_datetime(value, epoch).date()


def to_datetime(value: Any, epoch: datetime, zone: tzinfo) -> datetime:
    """UTC; times written without an offset are in the account's ``timezone``."""
    moment = _naive_datetime(value, epoch)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def convert(value: Any, column_type: ColumnType, epoch: datetime, zone: tzinfo) -> Any:
    """``value`` as ``column_type``; blank cells become None (``required`` decides if that is an error)."""
    if is_blank(value):
        return None
    if column_type == "text":
        return to_text(value)
    if column_type == "decimal":
        return to_decimal(value)
    if column_type == "integer":
        return to_integer(value)
    if column_type == "date":
        return to_date(value, epoch)
    return to_datetime(value, epoch, zone)
