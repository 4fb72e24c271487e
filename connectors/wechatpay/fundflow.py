"""The fund flow bill (资金账单) of the basic account: every movement of the merchant's money on WeChat
Pay (a payment credited, its fee taken, a refund, a withdrawal to the bank), one file per Beijing day,
read like the trade bill (backticked values, a summary to check the lines against); its readers of a
Beijing time and of yuan serve both bills."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sdk import SourceDataError

BEIJING = ZoneInfo("Asia/Shanghai")
STREAM = "fundflow"
# The file's columns (WeChat Pay's names, in file order; the files write the parentheses half-width,
# WeChat Pay's pages full-width: both read) and what they land as.
COLUMNS = {
    "记账时间": "booked_at", "微信支付业务单号": "business_id", "资金流水单号": "flow_id", "业务名称": "business_name",
    "业务类型": "business_type", "收支类型": "direction", "收支金额(元)": "amount", "账户结余(元)": "balance",
    "资金变更提交申请人": "applicant", "备注": "remark", "业务凭证号": "voucher_no",
}
MONEY = ("amount", "balance")
TEXT = ("bill_date", "business_id", "flow_id", "business_name", "business_type", "direction", "applicant", "remark",
        "voucher_no")
SUMMARY_HEADER = "资金流水总笔数"
DIRECTIONS = ("收入", "支出")  # money in, money out


def _name(cell: str) -> str:
    return cell.lstrip("`").replace("（", "(").replace("）", ")")


def read_fund_flow(account: str, day: date, text: str) -> list[dict[str, str]]:
    """The lines of a fund flow bill as column -> value (backticks off), checked against its summary:
    as many lines as 资金流水总笔数, the money in and out adding up to 收入金额 and 支出金额."""
    where = f"fund flow bill {day.isoformat()}"
    lines = list(csv.reader(io.StringIO(text)))
    if not lines or [_name(cell) for cell in lines[0]] != list(COLUMNS):
        raise SourceDataError(account, STREAM, f"the header is not the fund flow bill's 11 columns: {lines[:1]!r:.200}",
                              record=where)
    end = next((i for i, line in enumerate(lines) if line and _name(line[0]) == SUMMARY_HEADER), None)
    if end is None or end + 1 >= len(lines):
        raise SourceDataError(account, STREAM, "no summary rows (资金流水总笔数...): the file is cut short", record=where)
    rows = [dict(zip(COLUMNS.values(), (value.removeprefix("`") for value in line), strict=False))
            for line in lines[1:end] if line]
    summary = dict(zip((_name(cell) for cell in lines[end]), (v.removeprefix("`") for v in lines[end + 1]),
                       strict=False))
    if summary.get(SUMMARY_HEADER, "").split(".")[0] != str(len(rows)):
        raise SourceDataError(account, STREAM, f"{len(rows)} lines, the summary says {summary.get(SUMMARY_HEADER)}",
                              record=where)
    for direction, total in zip(DIRECTIONS, ("收入金额", "支出金额"), strict=True):
        try:
            found = sum((Decimal(row.get("amount") or "0") for row in rows if row.get("direction") == direction),
                        Decimal(0))
            matches = found == Decimal(summary.get(total, ""))
        except InvalidOperation:
            continue  # a line with an unreadable amount is quarantined by to_record, naming it
        if not matches:
            raise SourceDataError(account, STREAM, f"the {direction} lines add up to {found}, the summary's {total} "
                                  f"is {summary.get(total)}", record=where, field="amount")
    return rows


def to_record(account: str, day: date, line: dict[str, str]) -> dict[str, Any]:
    """One fund flow line as a row: keyed by its 资金流水单号, the bill day, the time in UTC, amounts
    exact (收支金额 positive, 收支类型 saying which way). Raises :class:`SourceDataError` naming the line
    and field."""

    def bad(field: str, expected: str) -> SourceDataError:
        return SourceDataError(account, STREAM, f"expected {expected}, got {line.get(field)!r:.80}",
                               record=line.get("flow_id") or f"{day} {line.get('booked_at')}", field=field)

    if not line.get("flow_id") or len(line) != len(COLUMNS):
        raise bad("flow_id", "a fund flow id (and the bill's 11 columns)")
    if line["direction"] not in DIRECTIONS:
        raise bad("direction", "收入 or 支出")
    return {**line, "bill_date": day.isoformat(), "bill_day": datetime.combine(day, time(), BEIJING).astimezone(UTC),
            "booked_at": beijing_time(line, "booked_at", bad), **yuan(line, MONEY, bad)}


def beijing_time(line: dict[str, str], field: str, bad: Callable[[str, str], SourceDataError]) -> datetime:
    """A bill's time (Beijing, ``yyyy-MM-dd HH:mm:ss``; both bills write them so) in UTC."""
    try:
        return datetime.strptime(line[field], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        raise bad(field, "a Beijing time yyyy-MM-dd HH:mm:ss") from None


def yuan(line: dict[str, str], fields: tuple[str, ...], bad: Callable[[str, str], SourceDataError]) -> dict[str, Decimal]:
    """A bill's amounts (yuan with at most two decimals; an empty one is 0) as exact decimals."""
    amounts = {}
    for field in fields:
        try:
            amounts[field] = Decimal(line[field] or "0")
        except InvalidOperation:
            raise bad(field, "an amount in yuan") from None
        if not amounts[field].is_finite() or amounts[field] != amounts[field].quantize(Decimal("0.01")):
            raise bad(field, "an amount in yuan with at most two decimals")
    return amounts
