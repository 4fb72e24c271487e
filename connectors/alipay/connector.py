"""The Alipay connector: the merchant's daily ``trade`` bill (收单业务账单) and ``signcustomer`` account
bill (账务明细), one file of each per Beijing day.

Each bill day from the cursor's start to yesterday: ``alipay.data.dataservice.bill.downloadurl.query``
gives a download URL (valid 30 s), a GET of it gives a zip of GBK CSVs. The trade bill's detail file
(``<pid>_<yyyyMMdd>_业务明细.csv``) holds one row per payment (业务类型 交易) and refund (退款) settled that
day, between comment lines (``#支付宝业务明细查询``, ``#账号``, ``#起始日期``, the list markers) and a footer
(``#交易合计``, ``#退款合计``, ``#导出时间``) that counts them. The account bill's (``…_账务明细.csv``) holds
one row per movement of the balance (a payment, a fee, a refund, a 提现 to the bank), counted by its
footer's ``#支出合计`` and ``#收入合计``. Summary files are not read.

Bills are T+1: a day's bill is made in the early morning after it (before about 09:00 Beijing time).
The walk stops at the first day Alipay has no bill for while that day's bill may still be in the making,
so the cursor never passes a day not read. A day long past without a bill is a gap, reported (the run's
note, and a ``bills`` row ``missing``), and the walk goes on.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import dlt
from dlt.extract.source import DltSource
from requests import RequestException

from connectors.sdk import (
    Account,
    ChannelhubError,
    CheckResult,
    ConfigError,
    Connector,
    ConnectorKind,
    Cursor,
    SourceDataError,
    Stream,
)
from connectors.sdk.convert import typed_fields
from connectors.sdk.quarantine import notice, quarantining
from connectors.sdk.spec import typed

from .client import ZONE, AlipayError, AlipayGateway, BadSignature
from .settings import AlipaySettings

log = logging.getLogger(__name__)
BEIJING = ZoneInfo(ZONE)
READY_AT = time(9)  # a day's bill is made before about 09:00 Beijing time the next day
DAY = 86_400
# The bill day's start (00:00 Beijing, in UTC) carries the cursor. Its lag, one day: the last two bill
# days are asked again on each run, so a bill read the morning it was made and a day reported missing
# the run before are read once more (rows merge on their key).
BILL_DAY = Cursor("bill_day_starts_at", source_timezone=ZONE, lag=DAY, dedup_on_boundary=False)

# The detail file's columns (Alipay's names) and where they land.
COLUMNS = {
    "支付宝交易号": "trade_no", "商户订单号": "out_trade_no", "业务类型": "business_type", "商品名称": "subject",
    "创建时间": "created_at", "完成时间": "completed_at", "门店编号": "store_id", "门店名称": "store_name",
    "操作员": "operator", "终端号": "terminal_id", "对方账户": "buyer_account", "订单金额（元）": "order_amount",
    "商家实收（元）": "received_amount", "支付宝红包（元）": "alipay_red_packet_amount", "集分宝（元）": "jifenbao_amount",
    "支付宝优惠（元）": "alipay_discount_amount", "商家优惠（元）": "merchant_discount_amount",
    "券核销金额（元）": "voucher_amount", "券名称": "voucher_name", "商家红包消费金额（元）": "merchant_red_packet_amount",
    "卡消费金额（元）": "card_amount", "退款批次号/请求号": "refund_request_no", "服务费（元）": "service_fee",
    "分润（元）": "profit_share_amount", "备注": "remark",
}
MONEY = tuple(column for name, column in COLUMNS.items() if name.endswith("（元）"))
TIMES = ("created_at", "completed_at")
TEXT = tuple(column for column in COLUMNS.values() if column not in MONEY + TIMES)
FOOTER = re.compile(r"#(交易|退款)合计：(\d+)笔")

# The account bill's (signcustomer, 账务明细) columns; older files add 交易渠道.
ACCOUNT_COLUMNS = {
    "账务流水号": "entry_no", "业务流水号": "business_no", "商户订单号": "out_trade_no", "商品名称": "subject",
    "发生时间": "occurred_at", "对方账号": "counterparty_account", "收入金额（+元）": "income_amount",
    "支出金额（-元）": "expense_amount", "账户余额（元）": "balance", "交易渠道": "trade_channel",
    "业务类型": "business_type", "备注": "remark",
}
ACCOUNT_MONEY = ("income_amount", "expense_amount", "balance")
ACCOUNT_TEXT = tuple(column for column in ACCOUNT_COLUMNS.values() if column not in ACCOUNT_MONEY + ("occurred_at",))
ACCOUNT_FOOTER = re.compile(r"#(支出|收入)合计：(\d+)笔")


@dataclass(frozen=True)
class BillKind:
    """What tells one bill type from the other: its ``bill_type``, the stream its rows land in, its
    detail file, columns, typed fields, the footer lines counting its rows, and what names a row."""

    bill_type: str
    stream: str
    detail_file: str
    columns: dict[str, str]
    money: tuple[str, ...]
    times: tuple[str, ...]
    footer: re.Pattern[str]
    row_name: str
    key: str


TRADE_BILL = BillKind("trade", "trades", "业务明细.csv", COLUMNS, MONEY, TIMES, FOOTER, "trade", "trade_no")
ACCOUNT_BILL = BillKind("signcustomer", "account_entries", "账务明细.csv", ACCOUNT_COLUMNS, ACCOUNT_MONEY,
                   ("occurred_at",), ACCOUNT_FOOTER, "account entry", "entry_no")


def entry_id(row: dict[str, Any]) -> str:
    """A bill row's key: the trade number for a payment; with the refund request number for a refund (a
    trade refunded twice has two)."""
    refund = row.get("refund_request_no") or ""
    return f"{row['trade_no']}/{refund}" if row.get("business_type") == "退款" else row["trade_no"]


def detail_csv(archive: bytes, detail_file: str = TRADE_BILL.detail_file) -> tuple[str, str]:
    """The detail file's name and text from the bill's zip (names are GBK without the zip's UTF-8 flag,
    as Alipay writes them, or UTF-8 with it)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bill:
        for info in bill.infolist():
            name = info.filename if info.flag_bits & 0x800 else info.filename.encode("cp437").decode("gbk")
            if name.endswith(f"_{detail_file}"):
                return name, bill.read(info).decode("gbk")
    raise zipfile.BadZipFile(f"no {detail_file} in the bill")


def bill_rows(account: str, day: date, archive: bytes, kind: BillKind = TRADE_BILL) -> tuple[str, list[dict[str, Any]]]:
    """The file name and detail rows of ``day``'s bill of ``kind``, cells trimmed (Alipay pads them with
    tabs), times in UTC, money exact; a row that cannot be read is quarantined naming it and the field.
    The footer's counts must match the rows, else the bill is not trusted (truncated)."""
    what = "account bill" if kind is ACCOUNT_BILL else "bill"
    try:
        name, text = detail_csv(archive, kind.detail_file)
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise SourceDataError(account, kind.stream, f"the {what} of {day} is not a zip of GBK CSVs ({exc})",
                              record=f"{what} {day}") from None
    lines = text.splitlines()
    table = [line for line in lines if line.strip() and not line.startswith("#")]
    counted = sum(int(found.group(2)) for line in lines if (found := kind.footer.match(line)))
    if not table or len(table) - 1 != counted:
        listed = "trades and refunds" if kind is TRADE_BILL else "entries"
        raise SourceDataError(account, kind.stream, f"the {what} of {day} lists {counted} {listed} in its "
                              f"footer but holds {max(0, len(table) - 1)} rows", record=f"{what} {day}")
    reader = csv.reader(table)
    header = [kind.columns.get(cell.strip(), cell.strip()) for cell in next(reader)]
    typed_row = quarantining(typed_fields(account, kind.stream, typed((kind.times, "timestamp"), (kind.money, "decimal")),
                                          ZONE, record=lambda row: f"{kind.row_name} {row.get(kind.key)}"))
    rows = []
    for cells in reader:
        row = {column: cell.strip() or None for column, cell in zip(header, cells, strict=False)}
        if (converted := typed_row(row)) is not None:
            rows.append(converted)
    return name, rows


def utc_now() -> datetime:
    """The connector's clock: which bill days are past and which may still be in the making."""
    return datetime.now(UTC)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), BEIJING).astimezone(UTC)


def may_still_come(day: date, now: datetime) -> bool:
    """Whether Alipay may still be making ``day``'s bill at ``now``."""
    return now < datetime.combine(day + timedelta(days=1), READY_AT, BEIJING)


class AlipayConnector(Connector[AlipaySettings]):
    name = "alipay"
    kind = ConnectorKind.PAYMENTS
    settings_model = AlipaySettings
    streams: ClassVar[tuple[Stream, ...]] = (
        Stream("trades", ("entry_id",), cursor=BILL_DAY,
               column_types=typed((TIMES + ("bill_day_starts_at",), "timestamp"), (MONEY + ("fee_rate",), "decimal"),
                                  (TEXT + ("order_channel", "bill_file"), "text"), (("bill_date",), "date")),
               required=("trade_no", "business_type", "order_amount"),
               description="The rows of the daily trade bills: 业务类型 交易 (a payment) or 退款 (a refund), "
                           "商户订单号 (out_trade_no) the shop's order number in order_channel, 服务费 "
                           "(service_fee) Alipay's fee, fee_rate the contracted rate (the fee_rate setting), "
                           "amounts in yuan (CNY), times in UTC."),
        Stream("account_entries", ("entry_no",), cursor=BILL_DAY,
               column_types=typed((("occurred_at", "bill_day_starts_at"), "timestamp"), (ACCOUNT_MONEY, "decimal"),
                                  (ACCOUNT_TEXT + ("bill_file",), "text"), (("bill_date",), "date")),
               required=("entry_no", "business_type"),
               description="The rows of the daily account bills (signcustomer, 账务明细): each movement of the "
                           "balance, 业务类型 在线支付 (a payment), 交易退款 (a refund), 收费 (a fee, or one given "
                           "back), 提现 (a withdrawal to the bank: a payout), with the balance after it; amounts "
                           "in yuan, 支出 (expense_amount) as Alipay writes it, times in UTC."),
        Stream("bills", ("bill_date", "bill_type"), cursor=BILL_DAY,
               column_types=typed((("bill_date",), "date"), (("bill_day_starts_at",), "timestamp"),
                                  (("bill_type", "status", "bill_file"), "text"), (("rows",), "bigint")),
               description="One row per bill day and type (trade, signcustomer) asked: status loaded (with its "
                           "file and row count) or missing (Alipay has no bill for a day long past: a gap)."),
    )

    def source(self, account: Account[AlipaySettings]) -> DltSource:
        settings = account.settings
        gateway = AlipayGateway(settings)
        trades, _, bills = self.streams
        hints = {stream.name: stream.table_hints() for stream in self.streams}
        # what each trade row carries beside the bill's columns: which shop its 商户订单号 is, the rate
        trade_lineage = {"order_channel": settings.order_channel, "fee_rate": settings.fee_rate}

        incremental = BILL_DAY.incremental(day_start(settings.start_date))

        def days(since: Any = incremental) -> Iterator[Any]:
            """The bills from the cursor's day to yesterday, stopping at a day with one still in the making."""
            now = utc_now()
            day = since.start_value.astimezone(BEIJING).date()
            while day < now.astimezone(BEIJING).date():
                urls: list[tuple[BillKind, str | None]] = []
                for kind in (TRADE_BILL, ACCOUNT_BILL):
                    urls.append((kind, gateway.bill_url(day, kind.bill_type)))
                    if urls[-1][1] is None and may_still_come(day, now):
                        log.info("account %r: the %s bill of %s is not made yet; the next run asks again",
                                 account.name, kind.bill_type, day)
                        return
                status = {"bill_date": day, "bill_day_starts_at": day_start(day)}
                for kind, url in urls:
                    if url is None:
                        notice(account.name, kind.stream, f"Alipay has no {kind.bill_type} bill for {day} "
                                                          "(bill_not_exist for a day long past): that day's "
                                                          f"{'payments' if kind is TRADE_BILL else 'balance movements'} "
                                                          "are missing")
                        yield dlt.mark.with_hints([{**status, "bill_type": kind.bill_type, "status": "missing",
                                                    "rows": 0}], hints[bills.name], create_table_variant=True)
                        continue
                    name, rows = bill_rows(account.name, day, gateway.download(url, day), kind)
                    lineage = {**status, "bill_file": name}
                    if kind is TRADE_BILL:
                        rows = [{**row, **trade_lineage, "entry_id": entry_id(row)} for row in rows]
                    yield dlt.mark.with_hints([{**row, **lineage} for row in rows], hints[kind.stream],
                                              create_table_variant=True)
                    yield dlt.mark.with_hints([{**status, "bill_type": kind.bill_type, "status": "loaded",
                                                "rows": len(rows), "bill_file": name}],
                                              hints[bills.name], create_table_variant=True)
                day += timedelta(days=1)

        @dlt.source(name="alipay", max_table_nesting=0)
        def alipay() -> Any:
            return dlt.resource(days, **trades.resource_hints(columns=False))

        return alipay()

    def check(self, account: Account[AlipaySettings]) -> CheckResult:
        """The bill URL of the day before yesterday: proves the app id, both keys and the bill permission."""
        day = (utc_now().astimezone(BEIJING) - timedelta(days=2)).date()
        try:
            url = AlipayGateway(account.settings).bill_url(day)
        except (ConfigError, AlipayError, BadSignature) as exc:
            return CheckResult(False, str(exc))
        except (RequestException, ChannelhubError) as exc:
            return CheckResult(False, f"cannot reach Alipay at {account.settings.base_url}: {exc}")
        return CheckResult(True, f"Alipay app {account.settings.app_id}: the bill of {day} "
                                 f"{'is ready' if url else 'does not exist'}", {"bill_date": str(day)})
