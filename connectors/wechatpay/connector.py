"""The WeChat Pay connector: the daily trade bill (``GET /v3/bill/tradebill``, every trade, gzip) and
the basic account's fund flow bill (``GET /v3/bill/fundflowbill``, every movement of the money: payments,
fees, refunds, withdrawals to the bank), one bill of each per Beijing business day, each read day by day
from its own cursor's day to yesterday.

A bill is made the next day at about 10:00 and never changes after: the cursor is the bill day, and the
next run starts on the day after the newest bill loaded. A day whose bill is not ready yet stops the
read there (no later day is loaded before it). A day WeChat Pay has no bill for (``NO_STATEMENT_EXIST``
after it should be ready: no trade that day, or a bill missing) before a day with a bill is reported in
the run's log when the cursor moves past it, never skipped silently; days without a bill after the newest
bill are asked again by the next run. Each line of a trade bill is one row: a payment (``SUCCESS``) or a
refund (``REFUND``); each line of a fund flow bill one movement, keyed by its 资金流水单号.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import dlt
from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import (
    Account,
    ChannelhubError,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    SourceDataError,
    Stream,
)
from connectors.sdk.quarantine import notice, quarantining
from connectors.sdk.spec import typed

from . import fundflow
from .client import BillNotReady, Client, fund_flow_bill, make_client, trade_bill
from .settings import WechatpaySettings

BEIJING = ZoneInfo("Asia/Shanghai")
# The bill day's start (00:00 Beijing, in UTC). No lag: a bill is final once made, and the next run starts
# on the day after the newest one loaded, so no boundary is read twice (and a day's lines, all sharing
# one cursor value, are not hashed for a dedup that cannot happen). See the module docstring.
BILL_DAY = Cursor("bill_day", source_timezone="Asia/Shanghai", lag=0, dedup_on_boundary=False)
# The bill's columns (WeChat Pay's names, in file order) and what they land as.
COLUMNS = {
    "交易时间": "traded_at", "公众账号ID": "appid", "商户号": "mchid", "特约商户号": "sub_mchid", "设备号": "device_info",
    "微信订单号": "transaction_id", "商户订单号": "out_trade_no", "用户标识": "openid", "交易类型": "trade_type",
    "交易状态": "trade_state", "付款银行": "bank_type", "货币种类": "currency", "应结订单金额": "settlement_amount",
    "代金券金额": "coupon_amount", "微信退款单号": "refund_id", "商户退款单号": "out_refund_no", "退款金额": "refund_amount",
    "充值券退款金额": "recharge_coupon_refund_amount", "退款类型": "refund_type", "退款状态": "refund_status",
    "商品名称": "product_name", "商户数据包": "attach", "手续费": "fee_amount", "费率": "fee_rate",
    "订单金额": "order_amount", "申请退款金额": "requested_refund_amount", "费率备注": "fee_remark",
}
MONEY = ("settlement_amount", "coupon_amount", "refund_amount", "recharge_coupon_refund_amount", "fee_amount",
         "order_amount", "requested_refund_amount")
SUMMARY_HEADER = "总交易单数"
TEXT = ("bill_date", "out_trade_no", "refund_id", "out_refund_no", "fee_rate", "order_channel", "sub_mchid",
        "device_info", "attach", "fee_remark", "refund_type", "refund_status")


def read_bill(account: str, day: date, text: str) -> list[dict[str, str]]:
    """The lines of a bill as column -> value (backticks off), checked against its summary row: as many
    lines as 总交易单数, the amounts adding up to its totals. A file that is not a bill fails naming it."""
    where, stream = f"bill {day.isoformat()}", "trades"
    lines = list(csv.reader(io.StringIO(text)))
    if not lines or [name.lstrip("`") for name in lines[0]] != list(COLUMNS):
        raise SourceDataError(account, stream, f"the header is not the trade bill's 27 columns: {lines[:1]!r:.200}",
                              record=where)
    end = next((i for i, line in enumerate(lines) if line and line[0].lstrip("`") == SUMMARY_HEADER), None)
    if end is None or end + 1 >= len(lines):
        raise SourceDataError(account, stream, "no summary rows (总交易单数...): the file is cut short", record=where)
    rows = [dict(zip(COLUMNS.values(), (value.removeprefix("`") for value in line), strict=False))
            for line in lines[1:end] if line]
    summary = dict(zip((name.lstrip("`") for name in lines[end]), (v.removeprefix("`") for v in lines[end + 1]),
                       strict=False))
    if summary.get(SUMMARY_HEADER, "").split(".")[0] != str(len(rows)):
        raise SourceDataError(account, stream, f"{len(rows)} lines, the summary says {summary.get(SUMMARY_HEADER)}",
                              record=where)
    for column, total in (("settlement_amount", "应结订单总金额"), ("refund_amount", "退款总金额"),
                          ("fee_amount", "手续费总金额")):
        try:
            found = sum((Decimal(row.get(column) or "0") for row in rows), Decimal(0))
            matches = found == Decimal(summary.get(total, ""))
        except InvalidOperation:
            continue  # a line with an unreadable amount is quarantined by to_record, naming it
        if not matches:
            raise SourceDataError(account, stream, f"the lines' {column} add up to {found}, the summary's {total} "
                                  f"is {summary.get(total)}", record=where, field=column)
    return rows


def to_record(account: str, day: date, order_channel: str | None, line: dict[str, str]) -> dict[str, Any]:
    """One bill line as a row: its key (the refund id for a refund line, else the transaction id), the
    bill day, the time in UTC, amounts exact. Raises :class:`SourceDataError` naming the line and field."""
    refund = line.get("trade_state") == "REFUND"
    key = line.get("refund_id") if refund else line.get("transaction_id")
    record_id = f"{line.get('transaction_id')}/{line.get('refund_id')}"

    def bad(field: str, expected: str) -> SourceDataError:
        return SourceDataError(account, "trades", f"expected {expected}, got {line.get(field)!r:.80}",
                               record=record_id, field=field)

    if not key or key == "0" or len(line) != len(COLUMNS):
        raise bad("refund_id" if refund else "transaction_id", "an id (and the bill's 27 columns)")
    row: dict[str, Any] = {**line, "record_id": key, "bill_date": day.isoformat(), "order_channel": order_channel,
                           "bill_day": datetime.combine(day, time(), BEIJING).astimezone(UTC),
                           "traded_at": fundflow.beijing_time(line, "traded_at", bad),
                           **fundflow.yuan(line, MONEY, bad)}
    if len(line["currency"]) != 3 or not line["currency"].isalpha():
        raise bad("currency", "an ISO 4217 code")
    return row


class WechatpayConnector(Connector[WechatpaySettings]):
    name = "wechatpay"
    kind = ConnectorKind.PAYMENTS
    settings_model = WechatpaySettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("trades", ("record_id",), cursor=BILL_DAY,
               column_types=typed((("bill_day", "traded_at"), "timestamp"), (MONEY, "decimal"), (TEXT, "text")),
               required=("transaction_id", "trade_state", "currency", "settlement_amount", "fee_amount"),
               description="The trade bill's lines: a payment (trade_state SUCCESS, keyed by transaction_id) or a "
                           "refund (REFUND, keyed by refund_id), with the bill day, out_trade_no (the shop's "
                           "order number) and the fee at its rate."),
        Stream("fundflow", ("flow_id",), cursor=BILL_DAY,
               column_types=typed((("bill_day", "booked_at"), "timestamp"), (fundflow.MONEY, "decimal"),
                                  (fundflow.TEXT, "text")),
               required=("business_id", "business_type", "direction", "amount", "balance"),
               description="The basic account's fund flow bill (资金账单): each movement, keyed by flow_id "
                           "(资金流水单号): a payment credited (business_type 交易), its fee taken (扣除交易手续费), a "
                           "refund (退款, less the fee returned), a withdrawal to the bank (提现); direction 收入/支出, "
                           "the amount and the balance after it."),
    )

    def source(self, account: Account[WechatpaySettings]) -> DltSource:
        settings = account.settings
        trades, flows = self.streams
        first_day = datetime.combine(settings.start_date, time(), BEIJING).astimezone(UTC)
        trade_client = make_client(settings, account.name, trades.name)
        flow_client = make_client(settings, account.name, flows.name)
        trade_days, flow_days = BILL_DAY.incremental(first_day), BILL_DAY.incremental(first_day)

        def trade_lines(since: Any = trade_days) -> Iterator[list[dict[str, Any]]]:
            for day, text in daily_bills(account.name, trades.name, trade_client, trade_bill, since,
                                         settings.bill_ready_hour):
                convert = quarantining(partial(to_record, account.name, day, settings.order_channel))
                yield [row for line in read_bill(account.name, day, text) if (row := convert(line)) is not None]

        def flow_lines(since: Any = flow_days) -> Iterator[list[dict[str, Any]]]:
            for day, text in daily_bills(account.name, flows.name, flow_client, fund_flow_bill, since,
                                         settings.bill_ready_hour):
                convert = quarantining(partial(fundflow.to_record, account.name, day))
                yield [row for line in fundflow.read_fund_flow(account.name, day, text)
                       if (row := convert(line)) is not None]

        @dlt.source(name="wechatpay", max_table_nesting=0)
        def bills() -> Iterator[Any]:
            yield dlt.resource(trade_lines, **trades.resource_hints())
            yield dlt.resource(flow_lines, **flows.resource_hints())

        return bills()

    def check(self, account: Account[WechatpaySettings]) -> CheckResult:
        """The bill of the day before yesterday (surely made): proves the key pair, the platform key and bill access."""
        settings = account.settings
        day = datetime.now(BEIJING).date() - timedelta(days=2)
        try:
            text = trade_bill(make_client(settings, account.name, "trades"), day)
        except (ChannelhubError, RequestException) as exc:
            return CheckResult(False, f"{type(exc).__name__}: {exc}")
        lines = len(read_bill(account.name, day, text)) if text else 0
        return CheckResult(True, f"WeChat Pay merchant {settings.mchid}: {lines} bill lines on {day}",
                           {"mchid": settings.mchid, "day": day.isoformat(), "lines": lines})


def daily_bills(account: str, stream: str, client: Client, fetch: Callable[[Client, date], str | None], since: Any,
                ready_hour: int) -> Iterator[tuple[date, str]]:
    """Each day's bill text from the cursor's day on (see :func:`bill_days`), in day order. A bill not
    ready stops there; the days without a bill that a later bill moves the cursor past are reported in
    the run's log (see the module docstring)."""
    skipped: list[str] = []  # days without a bill that a later bill moves the cursor past
    unbilled: list[str] = []  # days without a bill since the last bill read: asked again next run
    for day in bill_days(since, ready_hour):
        try:
            text = fetch(client, day)
        except BillNotReady:
            notice(account, stream, f"the bill of {day} is not ready yet: the next run starts there")
            break
        if text is None:
            unbilled.append(day.isoformat())
            continue
        skipped, unbilled = skipped + unbilled, []
        yield day, text
    if skipped:
        notice(account, stream, f"no bill (NO_STATEMENT_EXIST) for {len(skipped)} day(s) before the newest bill: "
               f"{', '.join(skipped)}: no trade those days, or WeChat Pay made no bill (check the merchant platform)")


def bill_days(since: Any, ready_hour: int) -> Iterator[date]:
    """The bill days to read: from the cursor's day (the day after the newest bill loaded, unless a
    reconciling run asks to re-read further back) to the newest day whose bill should be made by now."""
    start = since.start_value.astimezone(BEIJING).date()
    loaded = since.last_value is not None and since.last_value != since.initial_value  # dlt: the initial value until a load
    if loaded and since.start_value >= since.last_value:
        start += timedelta(days=1)  # the newest bill loaded is final: start after it
    now = datetime.now(BEIJING)
    last = now.date() - timedelta(days=1 if now.hour >= ready_hour else 2)
    day = start
    while day <= last:
        yield day
        day += timedelta(days=1)
