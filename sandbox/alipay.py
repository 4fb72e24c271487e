"""Alipay open-platform emulator for a merchant's bill download: the gateway method
``alipay.data.dataservice.bill.downloadurl.query`` and the bill file server behind the URL it gives,
rendering the World's Alipay trades (the wallet payments of shops whose checkout takes Alipay) and
their refunds as daily ``trade`` bills, and the merchant balance they move (the trades, the 服务费, the
periodic 提现 withdrawals to the bank) as daily ``signcustomer`` account bills.

Written from Alipay's documents (../shared/reference/commerce_apis.md, section 8a, and clients.md), not
from a client:

* ``POST /gateway.do``, form (and query) parameters ``app_id``, ``method``, ``format`` JSON, ``charset``,
  ``sign_type`` RSA2, ``timestamp`` ("yyyy-MM-dd HH:mm:ss"), ``version`` 1.0, ``biz_content`` (JSON:
  ``bill_type`` trade or signcustomer, ``bill_date`` yyyy-MM-dd) and ``sign``: SHA256withRSA over every other parameter
  with a value, sorted, ``k=v`` joined by ``&``, verified here with the app's public key. The official SDK
  sends an absolute-form request target and a Host without the port: routed on the path alone;
* answers ``{"alipay_data_dataservice_bill_downloadurl_query_response": {...}, "sign": "..."}``, the sign
  made with Alipay's key over the exact text of the ``..._response`` value (compact JSON, ``sign`` after
  it); errors with Alipay's public codes: 40002 ``isv.invalid-signature`` / ``isv.invalid-app-id`` /
  ``isv.invalid-method``, 40004 ``isp.bill_not_exist`` (账单不存在), 20000 ``isp.unknow-error`` (its own
  fault). Alipay publishes no rate limit: flow control here is a token bucket answering 20000
  ``isp.call-limited`` (调用频率超限; the sub_code is not verified in the sources found);
* bills are T+1: a Beijing day's bill exists from 09:00 the next day (``clock``); before, and for today
  and the future, ``isp.bill_not_exist``. The URL is valid 30 seconds;
* the file: a zip of two GBK CSVs, ``<pid>_<yyyyMMdd>_业务明细.csv`` and ``..._业务明细(汇总).csv``. The
  detail's layout is the one public bill parsers read (GitHub code found by "业务明细列表结束": Java
  parsers skipping 4 comment lines and the header, splitting on commas, 业务类型 交易/退款 at index 2,
  订单金额 at 11, 商家实收 at 12; a Go parser locating the list markers; a test writer's footer
  ``#交易合计：10374笔，商家实收共28790.16元，商家优惠共0.00元``, ``#退款合计：1笔，商家实收退款共-3000.00元…``,
  ``#导出时间：[2021年10月22日 06:27:10]``): header comments ``#支付宝业务明细查询``, ``#账号：[pid]``,
  ``#起始日期：[…]   终止日期：[…]``, the list markers, the 25 columns, cells padded with a tab, times
  Beijing time, refunds negative, 服务费 (0.6 %) negative on a payment and given back in part on a refund;
* the account bill (``signcustomer``, 账务明细): ``<pid>_<yyyyMMdd>_账务明细.csv`` and its ``(汇总)``, the
  layout public parsers read (a 2012 Java reconciler's sample ``#支付宝账务明细查询`` … ``#-----账务明细列表-----``,
  ``账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,…,业务类型,备注``,
  ``#-----账务明细列表结束-----``, ``#支出合计：0笔，共0.00元``, ``#收入合计：18笔，共14989.00元``, ``#导出时间``;
  业务类型 在线支付 seen there, 交易退款 / 收费 / 提现 as sheet names of another): one row per balance
  movement, a payment (在线支付) and its 服务费 (收费), a refund (交易退款) and the fee given back (收费,
  income), and every third day at 10:00 a 提现 of the whole balance (业务流水号 the withdrawal's number),
  with the balance after each row. 支出 is written negative.

Planted (in a World of ``PLANT_MIN_ORDERS`` orders or more, listed in :attr:`AlipaySandbox.planted`):
``missing_day``, a past day with payments whose bill does not exist; ``fee_mismatch``, one payment
charged a 服务费 above the 0.6 % rate; ``wrong_amount``, one payment of an order's total as its US dollar
figure in yuan (the order is underpaid); ``short_payout``, a 收费 of ``EXTRA_CHARGE`` in the account bill
that no trade explains, so the withdrawal sweeping it (its 业务流水号) sends that much less than its
trades. The missing day is the trade bill's only: the account bill of that day exists.

Fault switches: the kit's ``faults`` (``rate_limit``, ``server_error``, ``malformed`` … on a path),
``forge_signatures`` (the next N answers signed with another key), ``clock`` (what "made yet" reads).
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import random
import secrets
import threading
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox
from .kit.rsa_keys import new_key, private_pem, public_pem
from .kit.sorted_params import request_params
from .launch import Launcher, Running, local_port
from .world import PLANT_MIN_ORDERS, RATES, Order, World
from .world.catalog import quantum

BEIJING = ZoneInfo("Asia/Shanghai")
METHOD = "alipay.data.dataservice.bill.downloadurl.query"
ANSWER = "alipay_data_dataservice_bill_downloadurl_query_response"
GATEWAY, FILES = "/gateway.do", "/downloadBillFile.resource"
FEE_RATE, PLANTED_FEE_RATE = Decimal("0.006"), Decimal("0.012")
URL_LIFETIME = 30.0  # seconds
READY_HOUR = 9
PID = "2088101122136241"
HEADER = ("支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员",
          "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
          "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
          "服务费（元）", "分润（元）", "备注")
SUMMARY_HEADER = ("门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）",
                  "支付宝优惠（元）", "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）")
RULE = "#-----------------------------------------"
CENT = Decimal("0.01")
ACCOUNT_HEADER = ("账务流水号", "业务流水号", "商户订单号", "商品名称", "发生时间", "对方账号", "收入金额（+元）",
                  "支出金额（-元）", "账户余额（元）", "业务类型", "备注")
WITHDRAWAL_HOUR, WITHDRAWAL_EVERY = 10, 3  # a 提现 of the whole balance at 10:00 every third day
EXTRA_CHARGE = Decimal("50.00")  # the planted 收费 no trade explains
BANK_CARD = "招商银行(尾号6217)"


def yuan(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def beijing(when: datetime) -> str:
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def bill_day(when: datetime) -> date:
    return when.astimezone(BEIJING).date()


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a day's detail bill."""

    cells: tuple[str, ...]
    received: Decimal
    fee: Decimal
    refund: bool
    done: datetime  # 完成时间: when it moved the balance


@dataclass(frozen=True, slots=True)
class Movement:
    """One row of a day's account bill: a change of the merchant's balance (``amount`` signed)."""

    at: datetime
    business_no: str
    out_trade_no: str
    subject: str
    counterparty: str
    amount: Decimal
    kind: str
    remark: str

    @property
    def entry_no(self) -> str:
        """账务流水号: a number per movement, stable as the World grows."""
        digest = hashlib.sha1(f"{self.business_no}:{self.kind}:{self.remark}".encode()).hexdigest()
        return f"{self.at.astimezone(BEIJING):%Y%m%d}{int(digest[:12], 16) % 10**12:012d}"


def withdrawal_day(day: date) -> bool:
    return day.toordinal() % WITHDRAWAL_EVERY == 0


def withdrawn_by(when: datetime) -> date:
    """The day of the 提现 that sweeps a movement at ``when``: the first withdrawal after it."""
    day = bill_day(when)
    if when.astimezone(BEIJING).hour >= WITHDRAWAL_HOUR or not withdrawal_day(day):
        day += timedelta(days=1)
    while not withdrawal_day(day):
        day += timedelta(days=1)
    return day


class AlipaySandbox(HttpSandbox):
    name = "alipay"

    def __init__(self, world: World, app_id: str, app_public_key: str, alipay_private_key: str, *,
                 rate_limit: float | None = 100.0) -> None:
        super().__init__(world)
        self.app_id = app_id
        self.app_key = serialization.load_pem_public_key(app_public_key.encode())
        self.alipay_key = serialization.load_pem_private_key(alipay_private_key.encode(), password=None)
        # Alipay publishes no numbers: calls per second, a burst of as many (a year of daily bills is
        # some 700 calls)
        self.bucket = Bucket(rate_limit, rate_limit) if rate_limit else None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what "the bill is made" is read from
        self.forge_signatures = 0  # the next N answers are signed with a key that is not Alipay's
        self.asked: list[date] = []  # bill days asked, in arrival order
        self._urls: dict[str, tuple[date, str, float]] = {}  # fileId -> (day, bill_type, expiry on time.monotonic)
        self._urls_lock = threading.Lock()
        self.planted: dict[str, Any] = {}
        self._timeline: tuple[tuple[Any, ...], list[tuple[Movement, Decimal]]] | None = None
        self.plant()
        self.routes = Map([Rule(GATEWAY, endpoint="gateway", methods=["POST", "GET"]),
                           Rule(FILES, endpoint="bill_file", methods=["GET"])])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        if request.path == FILES:
            return Response("Too Many Requests", 429, {"Retry-After": "1"})
        return self.answer({"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.call-limited",
                            "sub_msg": "调用频率超限"})

    def server_error(self, request: Request) -> Response:
        if request.path == FILES:
            return Response("Internal Server Error", 500)
        return self.answer({"code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error",
                            "sub_msg": "系统繁忙"})

    def not_found(self, request: Request) -> Response:
        return Response("Not Found", 404)

    def before_request(self, request: Request) -> Response | None:
        if request.path == GATEWAY and self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    def answer(self, body: dict[str, Any]) -> Response:
        """The answer as Alipay writes it: the ``..._response`` text, then the sign over exactly that text."""
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        key = self.alipay_key
        if self.forge_signatures > 0:
            with self._lock:
                self.forge_signatures -= 1
            key = new_key()
        sign = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        return Response(f'{{"{ANSWER}":{text},"sign":"{base64.b64encode(sign).decode()}"}}',
                        content_type="text/html;charset=utf-8")

    def refused(self, code: str, sub_code: str, sub_msg: str) -> Response:
        return self.answer({"code": code, "msg": "Invalid Arguments" if code == "40002" else "Business Failed",
                            "sub_code": sub_code, "sub_msg": sub_msg})

    # -- endpoints --------------------------------------------------------------------------------------
    def gateway(self, request: Request) -> Response:
        params = request_params(request)
        if params.get("app_id") != self.app_id:
            return self.refused("40002", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("method") != METHOD:
            return self.refused("40002", "isv.invalid-method", "不存在的方法名")
        content = "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key != "sign" and value != "")
        if params.get("sign_type") != "RSA2" or not self._verified(content, params.get("sign", "")):
            return self.refused("40002", "isv.invalid-signature",
                                f"验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{content}")
        try:
            biz = json.loads(params.get("biz_content", ""))
            day = date.fromisoformat(biz["bill_date"])
        except (ValueError, KeyError, TypeError):
            return self.refused("40004", "isv.invalid-bill-date", "账单日期格式不正确")
        bill_type = biz.get("bill_type")
        if bill_type not in ("trade", "signcustomer"):
            return self.refused("40004", "isv.invalid-bill-type", "账单类型不正确")
        with self._lock:
            self.asked.append(day)
        if not self.made(day) or (bill_type == "trade" and day == self.planted.get("missing_day")):
            return self.refused("40004", "isp.bill_not_exist", "账单不存在")
        file_id = secrets.token_hex(8)
        with self._urls_lock:
            self._urls[file_id] = (day, bill_type, time.monotonic() + URL_LIFETIME)
        stamp = f"{day:%Y%m%d}"
        url = (f"{request.host_url.rstrip('/')}{FILES}?bizType={bill_type}&userId={PID}&fileType=csv.zip&bizDates={stamp}"
               f"&downloadFileName={PID}_{stamp}.csv.zip&fileId={file_id}&timestamp={int(time.time())}")
        return self.answer({"code": "10000", "msg": "Success", "bill_download_url": url})

    def bill_file(self, request: Request) -> Response:
        with self._urls_lock:
            day, bill_type, expires = self._urls.get(request.args.get("fileId", ""), (None, "", 0.0))
        if day is None or time.monotonic() > expires:
            return Response("<html><body>下载链接已失效</body></html>", 403, content_type="text/html;charset=utf-8")
        if bill_type == "signcustomer":
            rows = self.account_rows(day)
            self.count_records("account_entries", len(rows))
            body = self.account_zip_of(day, rows)
        else:
            entries = self.entries(day).get(day, [])
            self.count_records("trades", len(entries))
            body = self.zip_of(day, entries)
        return Response(body, content_type="application/oct-stream",
                        headers={"Content-Disposition": f"attachment; filename={PID}_{day:%Y%m%d}.csv.zip"})

    def _verified(self, content: str, sign: str) -> bool:
        try:
            self.app_key.verify(base64.b64decode(sign, validate=True), content.encode(), padding.PKCS1v15(),
                                hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def made(self, day: date) -> bool:
        """Whether ``day``'s bill exists by the sandbox's clock: from 09:00 Beijing time the day after."""
        ready = datetime(day.year, day.month, day.day, READY_HOUR, tzinfo=BEIJING) + timedelta(days=1)
        return self.clock() >= ready

    # -- the bills ------------------------------------------------------------------------------------------
    def payments(self) -> list[tuple[Order, str]]:
        """Every Alipay trade of the World: (order, trade_no)."""
        return [(order, charge.id) for order in self.world.orders for charge in order.alipay]

    def plant(self) -> None:
        """A missing day, a fee above the rate and a payment of the wrong amount, on three ordinary trades
        (no refund) of different days, and a 收费 no trade explains on a day whose withdrawal sweeps none of
        the missing day's trades, from a random stream of their own (again after the World's orders were
        cut or replaced)."""
        plain = [(order, trade) for order, trade in self.payments() if not order.refunds]
        days = sorted({bill_day(order.created_at) for order, _ in plain})
        self.planted = {}
        if len(self.world.orders) < PLANT_MIN_ORDERS or len(days) < 4:
            return
        rng = random.Random(f"{self.world.spec.seed}:alipay")
        missing, fee_day, amount_day = rng.sample(days[:-1], 3)
        pick = {day: rng.choice([(o, t) for o, t in plain if bill_day(o.created_at) == day]) for day in (fee_day, amount_day)}
        self.planted = {"missing_day": missing, "fee_mismatch": pick[fee_day][1],
                        "wrong_amount": f"{pick[amount_day][0].shop}:{pick[amount_day][0].number}",
                        "wrong_amount_trade": pick[amount_day][1]}
        touched = {withdrawn_by(datetime.combine(missing, datetime.min.time(), BEIJING)),
                   withdrawn_by(datetime.combine(missing, datetime.max.time(), BEIJING))}
        charge_days = [day for day in days[:-WITHDRAWAL_EVERY * 2] if withdrawn_by(self._charged_at(day)) not in touched]
        if charge_days:
            charged = rng.choice(charge_days)
            self.planted |= {"extra_charge_at": self._charged_at(charged),
                             "short_payout": self._withdrawal_no(withdrawn_by(self._charged_at(charged)))}

    @staticmethod
    def _charged_at(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 15, tzinfo=BEIJING)

    @staticmethod
    def _withdrawal_no(day: date) -> str:
        return f"{day:%Y%m%d}{PID[-8:]}{day.toordinal() % 10**6:06d}"

    def entries(self, only: date | None = None) -> dict[date, list[Entry]]:
        """Bill day -> its rows (``only``: that day's alone): each trade on the day it was paid, each
        refund on the day it was made."""
        days: dict[date, list[Entry]] = defaultdict(list)
        for order, trade in self.payments():
            paid = order.created_at + timedelta(seconds=3)
            refunds = [refund for refund in order.refunds if only in (None, bill_day(refund.created_at))]
            if only not in (None, bill_day(paid)) and not refunds:
                continue
            amount = order.total
            if trade == self.planted.get("wrong_amount_trade"):
                amount = (order.total / RATES["CNY"]).quantize(quantum("CNY"))  # the dollar figure, in yuan
            rate = PLANTED_FEE_RATE if trade == self.planted.get("fee_mismatch") else FEE_RATE
            fee = (amount * rate).quantize(CENT, ROUND_HALF_UP)
            if only in (None, bill_day(paid)):
                days[bill_day(paid)].append(self._row(order, trade, "交易", order.created_at, paid, amount, -fee, ""))
            for refund in refunds:
                given_back = (fee * refund.amount / amount).quantize(CENT, ROUND_HALF_UP)
                days[bill_day(refund.created_at)].append(self._row(
                    order, trade, "退款", order.created_at, refund.created_at, -refund.amount, given_back,
                    f"{order.number}R{refund.id % 100}"))
        return days

    def movements(self) -> list[tuple[Movement, Decimal]]:
        """Every movement of the balance, in time order, with the balance after it: each bill row's trade
        (在线支付 or 交易退款) and its 服务费 (收费), the planted 收费, and a 提现 of the whole balance at
        10:00 every third day up to the sandbox's clock (a movement at that very second comes after it).
        Each account bill needs the whole timeline (the balance): kept while the World's Alipay trades,
        the plants and the withdrawals made by the clock stay the same."""
        now = self.clock().astimezone(BEIJING)
        key = (now.date(), now.hour >= WITHDRAWAL_HOUR, tuple(sorted(self.planted.items(), key=str)),
               tuple((trade, order.total, order.created_at, tuple((r.id, r.amount, r.created_at) for r in order.refunds))
                     for order, trade in self.payments()))
        if self._timeline is None or self._timeline[0] != key:
            self._timeline = key, self._timeline_now()
        return self._timeline[1]

    def _timeline_now(self) -> list[tuple[Movement, Decimal]]:
        moves: list[Movement] = []
        for entry in (entry for entries in self.entries().values() for entry in entries):
            trade, out_trade_no, subject, at = entry.cells[0].strip(), entry.cells[1].strip(), entry.cells[3], entry.done
            kind, remark = ("交易退款", entry.cells[21]) if entry.refund else ("在线支付", "")
            moves.append(Movement(at, trade, out_trade_no, subject, entry.cells[10], entry.received, kind, remark))
            if entry.fee:
                moves.append(Movement(at, trade, out_trade_no, subject, "支付宝(中国)网络技术有限公司", entry.fee, "收费",
                                      f"{'退款退回服务费' if entry.refund else '交易服务费'}[{trade}]{remark}"))
        if "extra_charge_at" in self.planted:
            at = self.planted["extra_charge_at"]
            moves.append(Movement(at, f"{at:%Y%m%d}{PID[-8:]}900001", "", "", "支付宝(中国)网络技术有限公司",
                                  -EXTRA_CHARGE, "收费", "技术服务费"))
        if not moves:
            return []
        now = self.clock()
        day = bill_day(min(move.at for move in moves))
        while (at := datetime(day.year, day.month, day.day, WITHDRAWAL_HOUR, tzinfo=BEIJING)) <= now:
            if withdrawal_day(day):
                moves.append(Movement(at, self._withdrawal_no(day), "", "提现", BANK_CARD, Decimal(0), "提现", "提现到银行卡"))
            day += timedelta(days=1)
        balance, timeline = Decimal(0), []
        for move in sorted(moves, key=lambda move: (move.at, move.kind != "提现")):
            if move.kind == "提现":
                if balance <= 0:
                    continue
                move = replace(move, amount=-balance)
            balance += move.amount
            timeline.append((move, balance))
        return timeline

    def account_rows(self, day: date) -> list[tuple[Movement, Decimal]]:
        """The movements of ``day`` (Beijing), with the balance after each."""
        return [(move, balance) for move, balance in self.movements() if bill_day(move.at) == day]

    def account_zip_of(self, day: date, rows: list[tuple[Movement, Decimal]]) -> bytes:
        """The day's account bill: a zip of the GBK detail (账务明细) and summary CSVs."""
        stamp, exported = f"{day:%Y%m%d}", self.clock().astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M:%S")
        start, end = (f"{d:%Y年%m月%d日} 00:00:00" for d in (day, day + timedelta(days=1)))
        head = ["#支付宝账务明细查询", f"#账号：[{PID}0156]", f"#起始日期：[{start}]   终止日期：[{end}]"]
        detail = io.StringIO()
        detail.write("\r\n".join([*head, f"{RULE}账务明细列表----------------------------------------"]) + "\r\n")
        writer = csv.writer(detail, lineterminator="\r\n")
        writer.writerow(ACCOUNT_HEADER)
        for move, balance in rows:
            income, expense = (move.amount, Decimal(0)) if move.amount >= 0 else (Decimal(0), move.amount)
            writer.writerow((f"{move.entry_no}\t", f"{move.business_no}\t", f"{move.out_trade_no}\t", move.subject,
                             beijing(move.at), move.counterparty, yuan(income), yuan(expense), yuan(balance), move.kind,
                             move.remark))
        incomes = [move.amount for move, _ in rows if move.amount >= 0]
        expenses = [move.amount for move, _ in rows if move.amount < 0]
        detail.write("\r\n".join([
            f"{RULE}账务明细列表结束------------------------------------",
            f"#支出合计：{len(expenses)}笔，共{yuan(sum(expenses, Decimal(0)))}元",
            f"#收入合计：{len(incomes)}笔，共{yuan(sum(incomes, Decimal(0)))}元",
            f"#导出时间：[{exported}]"]) + "\r\n")
        kinds: dict[str, list[Decimal]] = defaultdict(list)
        for move, _ in rows:
            kinds[move.kind].append(move.amount)
        summary = io.StringIO()
        summary.write("\r\n".join([*head, f"{RULE}账务汇总列表----------------------------------------"]) + "\r\n")
        summary_writer = csv.writer(summary, lineterminator="\r\n")
        summary_writer.writerow(("业务类型", "收入笔数", "收入金额（+元）", "支出笔数", "支出金额（-元）"))
        for kind, amounts in sorted(kinds.items()):
            ins, outs = [a for a in amounts if a >= 0], [a for a in amounts if a < 0]
            summary_writer.writerow((kind, len(ins), yuan(sum(ins, Decimal(0))), len(outs), yuan(sum(outs, Decimal(0)))))
        summary.write(f"{RULE}账务汇总列表结束-----------------------------------\r\n#导出时间：[{exported}]\r\n")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bill:
            bill.writestr(f"{PID}0156_{stamp}_账务明细.csv", detail.getvalue().encode("gbk"))
            bill.writestr(f"{PID}0156_{stamp}_账务明细(汇总).csv", summary.getvalue().encode("gbk"))
        return archive.getvalue()

    def _row(self, order: Order, trade: str, kind: str, created: datetime, done: datetime, amount: Decimal,
             fee: Decimal, request_no: str) -> Entry:
        customer = order.customer
        buyer = f"{customer.email[:2]}***@{customer.email.split('@')[-1]}"
        cells = (f"{trade}\t", f"{order.number}\t", kind, order.lines[0].sku.product, beijing(created), beijing(done),
                 "", "", "", "", buyer, yuan(amount), yuan(amount), "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00",
                 "0.00", request_no, yuan(fee), "0.00", "")
        return Entry(cells, amount, fee, kind == "退款", done.replace(microsecond=0))

    def zip_of(self, day: date, entries: list[Entry]) -> bytes:
        """The day's bill as Alipay serves it: a zip of the GBK detail and summary CSVs."""
        stamp, exported = f"{day:%Y%m%d}", self.clock().astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M:%S")
        start, end = (f"{d:%Y年%m月%d日} 00:00:00" for d in (day, day + timedelta(days=1)))
        head = ["#支付宝业务明细查询", f"#账号：[{PID}0156]", f"#起始日期：[{start}]   终止日期：[{end}]"]
        trades, refunds = [e for e in entries if not e.refund], [e for e in entries if e.refund]
        detail = io.StringIO()
        writer = csv.writer(detail, lineterminator="\r\n")
        detail.write("\r\n".join([*head, f"{RULE}业务明细列表----------------------------------------"]) + "\r\n")
        writer.writerow(HEADER)
        writer.writerows(entry.cells for entry in entries)
        received = sum((e.received for e in trades), Decimal(0)), sum((e.received for e in refunds), Decimal(0))
        detail.write("\r\n".join([
            f"{RULE}业务明细列表结束------------------------------------",
            f"#交易合计：{len(trades)}笔，商家实收共{yuan(received[0])}元，商家优惠共0.00元",
            f"#退款合计：{len(refunds)}笔，商家实收退款共{yuan(received[1])}元，商家优惠退款共0.00元",
            f"#导出时间：[{exported}]"]) + "\r\n")
        fees = sum((e.fee for e in entries), Decimal(0))
        total = received[0] + received[1]
        summary = io.StringIO()
        summary.write("\r\n".join([*head, f"{RULE}业务汇总列表----------------------------------------"]) + "\r\n")
        summary_writer = csv.writer(summary, lineterminator="\r\n")
        summary_writer.writerow(SUMMARY_HEADER)
        summary_writer.writerow(("", "合计", len(trades), len(refunds), yuan(total), yuan(total), "0.00", "0.00",
                                 "0.00", yuan(fees), "0.00", yuan(total + fees)))
        summary.write(f"{RULE}业务汇总列表结束-----------------------------------\r\n#导出时间：[{exported}]\r\n")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bill:
            bill.writestr(f"{PID}0156_{stamp}_业务明细.csv", detail.getvalue().encode("gbk"))
            bill.writestr(f"{PID}0156_{stamp}_业务明细(汇总).csv", summary.getvalue().encode("gbk"))
        return archive.getvalue()


# The platform's key pair of this process: the demo's generated ``alipay_public_key`` is its public half.
_PLATFORM_KEY: list[rsa.RSAPrivateKey] = []


def platform_key() -> rsa.RSAPrivateKey:
    if not _PLATFORM_KEY:
        _PLATFORM_KEY.append(new_key())
    return _PLATFORM_KEY[0]


def generated_credential(name: str) -> str:
    """A credential the sandbox accepts: a fresh app key pair's private half, or Alipay's public key."""
    return public_pem(platform_key()) if name == "alipay_public_key" else private_pem(new_key())


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    app_key = serialization.load_pem_private_key(credentials["app_private_key"].encode(), password=None)
    sandbox = AlipaySandbox(world, str(settings.get("app_id", "")), public_pem(app_key), private_pem(platform_key()))
    return Running(account, "alipay", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, make_credential=generated_credential)
