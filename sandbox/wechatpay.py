"""WeChat Pay API v3 emulator for one merchant (商户号): the daily trade bill (交易账单) and fund flow bill
(资金账单) of the basic account, rendering the World's WeChat Pay payments, their refunds and fees, and the
weekly withdrawals (提现) of the balance to the merchant's bank.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 8b), written from
WeChat Pay's documents, not from a client:

* every request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,timestamp=…,
  serial_no=…,signature=…``, verified here with the merchant's public key over
  ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (a stale timestamp, a nonce seen before, another
  merchant or serial: 401 ``SIGN_ERROR``); every JSON answer is signed with the platform key
  (``Wechatpay-Timestamp``/``-Nonce``/``-Signature``/``-Serial`` = the public key id,
  ``Wechatpay-Signature-Type``), over ``TIMESTAMP\\nNONCE\\nBODY\\n``; the bill file itself is not signed;
* ``GET /v3/bill/tradebill?bill_date=&bill_type=ALL|SUCCESS|REFUND&tar_type=GZIP`` answers
  ``{hash_type: SHA1, hash_value, download_url}``; the download URL (on the same gateway, valid 30 s)
  is fetched signed too, and its body is the file (gzip when ``tar_type=GZIP``), whose SHA1 is the hash;
* ``GET /v3/bill/fundflowbill?bill_date=&account_type=BASIC|OPERATION|FEES&tar_type=GZIP`` answers the
  same way; the basic account (基本账户) holds every movement here, the other two have no bill;
* one bill per business day in Beijing time, made the next day at about 10:00: before that 400
  ``STATEMENT_CREATING``; today or later is 400 ``PARAM_ERROR``; a day without trades has no bill:
  400 ``NO_STATEMENT_EXIST``;
* errors ``{"code", "message"}``: 400 ``PARAM_ERROR``, 401 ``SIGN_ERROR``, 404 ``NOT_FOUND``, 429
  ``FREQUENCY_LIMITED`` (WeChat Pay publishes no numbers: a token bucket here), 500 ``SYSTEM_ERROR``.

The bill file, as public parsers read it (found with the code search: daxpay's Java
``WxReconcileBillTotal`` naming the seven summary columns, a Node.js client's ``Formatter.castCsvBill``
tests on a real ``bill.ALL.csv`` (backticked values, a summary count written ``45.0``), a PHP importer's
header checks after WeChat Pay's 2018-11 layout change): UTF-8 with a BOM, CRLF lines, a header row of 27 Chinese column names (交易时间 … 费率备注),
one row per payment (交易状态 ``SUCCESS``) or refund (``REFUND``, dated when refunded) with every value
prefixed by a backtick, then the summary header (总交易单数,应结订单总金额,退款总金额,充值券退款总金额,
手续费总金额,订单总金额,申请退款总金额) and its backticked row. Times are Beijing time; amounts yuan with
two decimals; the fee (手续费) is the rate (费率 0.60%) of the amount, rounded to the fen; a refund
returns its share of the fee (negative).

The fund flow file, as public parsers read it (found with the code search: daxpay's Java
``WxReconcileFundFlowDetail`` naming the eleven columns, binarywang's ``WxPayFundFlowResult`` and a Go
client's tests on real files naming the summary, a refund line's remark ``退款总金额0.01元;含手续费0.00元``):
the same BOM, CRLF and backticks; the header 记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,
收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号 (the files write the parentheses half-width);
then the summary header 资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额 and its row. Each payment is two
lines of the basic account: 交易/交易 收入 (应结订单金额) then 交易/扣除交易手续费 支出 (手续费); a refund one
line 退款/退款 支出 of the refund less the fee share returned (its remark says both); each Monday at 09:00
Beijing (up to the World's clock) the balance, when above 0, goes to the bank: 提现/提现 支出, 账户结余 0.
账户结余 is the balance after each line.

Planted discrepancies (worlds of ``PLANT_MIN_ORDERS`` orders or more; :attr:`planted`), chosen among
the first WeChat Pay orders so that cutting or adding orders leaves them in place: one day whose bill
is missing (``NO_STATEMENT_EXIST`` although the shop was paid that day), one payment whose fee is not
its rate's (1 % taken, 0.60 % written), and one payment in the wrong currency (the order's total as a
number, in USD). Planted in every World (it changes no count): the first withdrawal sends 2.00 less
than the balance it sweeps, a deduction no line of the fund flow shows (:attr:`withdrawal_fees`), for
the settlement reconciliation to find. Known simplification: bills older than three months are still
served (the World's year of history would otherwise be out of reach).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import random
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.rsa_keys import new_key, private_pem, public_pem
from .launch import Launcher, Running, SandboxSetupError, local_port
from .world import PLANT_MIN_ORDERS, Order, World

BEIJING = ZoneInfo("Asia/Shanghai")
READY_HOUR = 10  # the day's bill is made at about 10:00 the next day
RATE, RATE_TEXT, PLANTED_RATE = Decimal("0.006"), "0.60%", Decimal("0.01")
FEN = Decimal("0.01")
MAX_SKEW, URL_LIFETIME = 300, 30  # seconds: a request's timestamp; a download URL
SCHEME = "WECHATPAY2-SHA256-RSA2048"
APPID = "wx2421b1c4370ec43b"
HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
          "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,"
          "商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
FUND_HEADER = ("记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
               "资金变更提交申请人,备注,业务凭证号")
FUND_SUMMARY = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额"
WITHDRAWAL_HOUR = 9  # Monday 09:00 Beijing: the week's balance goes to the bank
WITHDRAWAL_FEE = Decimal("2.00")  # planted: kept from the first withdrawal, shown by no line
AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
PLANT_AMONG = 60  # plants are picked among this many first WeChat Pay orders


@dataclass(frozen=True, slots=True)
class BillRow:
    """One line of a day's bill: a payment (``SUCCESS``) or a refund (``REFUND``)."""

    when: datetime
    transaction_id: str
    out_trade_no: str
    state: str
    currency: str
    settled: Decimal     # 应结订单金额 (0 on a refund line)
    refunded: Decimal    # 退款金额 (0 on a payment line)
    fee: Decimal         # 手续费, negative on a refund line
    refund_id: str = "0"
    out_refund_no: str = "0"
    openid: str = ""
    product: str = ""

    @property
    def day(self) -> date:
        return self.when.astimezone(BEIJING).date()

    def csv(self, mchid: str) -> str:
        refund = self.state == "REFUND"
        values = (self.when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"), APPID, mchid, "0", "",
                  self.transaction_id, self.out_trade_no, self.openid, "JSAPI", self.state, "OTHERS", self.currency,
                  yuan(self.settled), "0.00", self.refund_id, self.out_refund_no, yuan(self.refunded), "0.00",
                  "ORIGINAL" if refund else "", "SUCCESS" if refund else "", self.product, "", yuan(self.fee),
                  RATE_TEXT, yuan(self.settled), yuan(self.refunded), "")
        return ",".join(f"`{value}" for value in values)


@dataclass(frozen=True, slots=True)
class FlowRow:
    """One line of a day's fund flow bill of the basic account: money in (收入) or out (支出)."""

    when: datetime
    business_id: str     # 微信支付业务单号: the transaction, refund or withdrawal
    flow_id: str         # 资金流水单号
    name: str            # 业务名称: 交易, 退款, 提现
    kind: str            # 业务类型: 交易, 扣除交易手续费, 退款, 提现
    income: bool
    amount: Decimal
    balance: Decimal     # 账户结余 after the line
    applicant: str = ""  # 资金变更提交申请人
    remark: str = ""

    @property
    def day(self) -> date:
        return self.when.astimezone(BEIJING).date()

    def csv(self) -> str:
        values = (self.when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"), self.business_id, self.flow_id,
                  self.name, self.kind, "收入" if self.income else "支出", yuan(self.amount), yuan(self.balance),
                  self.applicant, self.remark, "")
        return ",".join(f"`{value}" for value in values)


def yuan(amount: Decimal) -> str:
    return str(amount.quantize(FEN, ROUND_HALF_UP))


def fee_of(amount: Decimal, rate: Decimal = RATE) -> Decimal:
    return (amount * rate).quantize(FEN, ROUND_HALF_UP)


def next_monday(when: datetime) -> datetime:
    """The first Monday 09:00 Beijing after ``when``: when its week's balance goes to the bank."""
    local = when.astimezone(BEIJING)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), datetime.min.time(), BEIJING)
    monday += timedelta(hours=WITHDRAWAL_HOUR)
    return monday if monday > local else monday + timedelta(days=7)


def wechat_error(status: int, code: str, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)


class WechatpaySandbox(HttpSandbox):
    name = "wechatpay"

    def __init__(self, world: World, mchid: str, serial_no: str, merchant_public_key: rsa.RSAPublicKey,
                 platform_key: rsa.RSAPrivateKey, platform_key_id: str, *, rate_limit: float | None = 100.0) -> None:
        super().__init__(world)
        self.mchid, self.serial_no, self.merchant_key = mchid, serial_no, merchant_public_key
        self.platform_key, self.platform_key_id = platform_key, platform_key_id
        self.bucket = Bucket(rate_limit, rate_limit) if rate_limit else None  # no published numbers (FREQUENCY_LIMITED)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what "the bill is ready" is read from
        self.log: list[dict[str, str]] = []  # query arguments of each tradebill request, in arrival order
        self.fundflow_log: list[dict[str, str]] = []  # those of each fundflowbill request
        self.statement_creating = 0  # fault: the next N tradebill requests find the bill still being made
        self.bad_signature = 0       # fault: the next N JSON answers carry a signature that does not verify
        self._nonces: set[str] = set()
        self._downloads: dict[str, tuple[bytes, float, str, int]] = {}  # token -> (file, expiry, stream, rows)
        # fund_flow()'s cache: (orders, clock) -> (lines by day, withdrawal id -> the planted deduction)
        self._flows: tuple[tuple[int, datetime], dict[date, list[FlowRow]], dict[str, Decimal]] | None = None
        self.routes = Map([
            Rule("/v3/bill/tradebill", endpoint="tradebill_endpoint", methods=["GET"]),
            Rule("/v3/bill/fundflowbill", endpoint="fundflowbill_endpoint", methods=["GET"]),
            Rule("/v3/billdownload/file", endpoint="download_endpoint", methods=["GET"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return wechat_error(429, "FREQUENCY_LIMITED", "频率超限")

    def server_error(self, request: Request) -> Response:
        return wechat_error(500, "SYSTEM_ERROR", "系统错误")

    def not_found(self, request: Request) -> Response:
        return wechat_error(404, "NOT_FOUND", "请求的资源不存在")

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        fields = dict(AUTH_FIELD.findall(rest))
        refused = wechat_error(401, "SIGN_ERROR", "签名错误")
        if scheme != SCHEME or not {"mchid", "nonce_str", "timestamp", "serial_no", "signature"} <= fields.keys():
            return wechat_error(401, "SIGN_ERROR", "Authorization 头格式错误")
        if fields["mchid"] != self.mchid or fields["serial_no"] != self.serial_no:
            return wechat_error(401, "SIGN_ERROR", "商户号或证书序列号不匹配")
        stamp = fields["timestamp"]
        if not stamp.isdigit() or abs(self.clock().timestamp() - int(stamp)) > MAX_SKEW:
            return wechat_error(401, "SIGN_ERROR", "请求时间戳过期")
        path = request.full_path.rstrip("?") if request.query_string else request.path
        message = f"{request.method}\n{path}\n{stamp}\n{fields['nonce_str']}\n{request.get_data(as_text=True)}\n"
        try:
            self.merchant_key.verify(base64.b64decode(fields["signature"]), message.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
        except (InvalidSignature, ValueError):
            return refused
        with self._lock:
            if fields["nonce_str"] in self._nonces:
                return wechat_error(401, "SIGN_ERROR", "重复的请求随机串")
            self._nonces.add(fields["nonce_str"])
        return None

    def before_request(self, request: Request) -> Response | None:
        if self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    def after_request(self, request: Request, response: Response) -> Response:
        """Every JSON answer signed with the platform key; the bill file is not."""
        if response.mimetype != "application/json":
            return response
        stamp, nonce = str(int(self.clock().timestamp())), secrets.token_hex(16)
        message = f"{stamp}\n{nonce}\n{response.get_data(as_text=True)}\n"
        signature = base64.b64encode(self.platform_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256()))
        if self._spend("bad_signature"):
            signature = base64.b64encode(b"\0" * 256)
        response.headers.update({"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                                 "Wechatpay-Signature": signature.decode(), "Wechatpay-Serial": self.platform_key_id,
                                 "Wechatpay-Signature-Type": SCHEME, "Request-ID": secrets.token_hex(16)})
        return response

    def _spend(self, fault: str) -> bool:
        with self._lock:
            armed = getattr(self, fault)
            if armed > 0:
                setattr(self, fault, armed - 1)
                self.stats.faults_served[fault] += 1
            return armed > 0

    # -- endpoints --------------------------------------------------------------------------------------
    def tradebill_endpoint(self, request: Request) -> Response:
        args = request.args.to_dict()
        with self._lock:
            self.log.append(args)
        try:
            day = date.fromisoformat(args.get("bill_date", ""))
        except ValueError:
            return wechat_error(400, "PARAM_ERROR", "bill_date 格式错误，应为 yyyy-MM-dd")
        bill_type, tar_type = args.get("bill_type", "ALL"), args.get("tar_type")
        if bill_type not in ("ALL", "SUCCESS", "REFUND") or tar_type not in (None, "GZIP"):
            return wechat_error(400, "PARAM_ERROR", "bill_type 或 tar_type 参数错误")
        now = self.clock().astimezone(BEIJING)
        if day >= now.date():
            return wechat_error(400, "PARAM_ERROR", "bill_date 不能是今天或以后的日期")
        if (day == now.date() - timedelta(days=1) and now.hour < READY_HOUR) or self._spend("statement_creating"):
            return wechat_error(400, "STATEMENT_CREATING", "账单生成中，请稍后再试")
        rows = [row for row in self.bills().get(day, ()) if bill_type == "ALL"
                or (row.state == "SUCCESS") == (bill_type == "SUCCESS")]
        if not rows or day == self.planted_day:
            return wechat_error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        return self._bill_answer(request, self.bill_file(rows), tar_type, "trades", len(rows))

    def fundflowbill_endpoint(self, request: Request) -> Response:
        """The basic account's movements of the day; the operation and fees accounts have none here."""
        args = request.args.to_dict()
        with self._lock:
            self.fundflow_log.append(args)
        try:
            day = date.fromisoformat(args.get("bill_date", ""))
        except ValueError:
            return wechat_error(400, "PARAM_ERROR", "bill_date 格式错误，应为 yyyy-MM-dd")
        account_type, tar_type = args.get("account_type", "BASIC"), args.get("tar_type")
        if account_type not in ("BASIC", "OPERATION", "FEES") or tar_type not in (None, "GZIP"):
            return wechat_error(400, "PARAM_ERROR", "account_type 或 tar_type 参数错误")
        now = self.clock().astimezone(BEIJING)
        if day >= now.date():
            return wechat_error(400, "PARAM_ERROR", "bill_date 不能是今天或以后的日期")
        if day == now.date() - timedelta(days=1) and now.hour < READY_HOUR:
            return wechat_error(400, "STATEMENT_CREATING", "账单生成中，请稍后再试")
        rows = self.fund_flow().get(day, []) if account_type == "BASIC" else []
        if not rows:
            return wechat_error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        return self._bill_answer(request, self.fund_flow_file(rows), tar_type, "fundflow", len(rows))

    def _bill_answer(self, request: Request, text: str, tar_type: str | None, stream: str, rows: int) -> Response:
        """A bill's answer: its SHA1 and a download URL on this gateway, good for ``URL_LIFETIME`` seconds."""
        content = text.encode("utf-8-sig")
        if tar_type == "GZIP":
            content = gzip.compress(content, mtime=0)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._downloads[token] = (content, time.monotonic() + URL_LIFETIME, stream, rows)
        return json_response({"hash_type": "SHA1", "hash_value": hashlib.sha1(content).hexdigest(),
                              "download_url": f"{request.host_url.rstrip('/')}/v3/billdownload/file?token={token}"})

    def download_endpoint(self, request: Request) -> Response:
        with self._lock:
            content, expiry, stream, rows = self._downloads.get(request.args.get("token", ""), (b"", 0.0, "", 0))
        if time.monotonic() > expiry:
            return wechat_error(400, "PARAM_ERROR", "下载地址已过期或无效，请重新申请账单")
        self.count_records(stream, rows)
        return Response(content, content_type="application/octet-stream")

    # -- the bills --------------------------------------------------------------------------------------
    def bill_file(self, rows: list[BillRow]) -> str:
        """A day's bill as WeChat Pay writes it: header, backticked rows, summary header and row."""
        settled = sum((row.settled for row in rows), Decimal(0))
        refunded = sum((row.refunded for row in rows), Decimal(0))
        fees = sum((row.fee for row in rows), Decimal(0))
        summary = (str(len(rows)), yuan(settled), yuan(refunded), "0.00", yuan(fees), yuan(settled), yuan(refunded))
        lines = [HEADER, *(row.csv(self.mchid) for row in rows), SUMMARY, ",".join(f"`{v}" for v in summary)]
        return "\r\n".join(lines) + "\r\n"

    @staticmethod
    def fund_flow_file(rows: list[FlowRow]) -> str:
        """A day's fund flow bill: header, backticked lines, summary header and row (counts and sums of
        the money in and out)."""
        incomes = [row.amount for row in rows if row.income]
        expenses = [row.amount for row in rows if not row.income]
        summary = (str(len(rows)), str(len(incomes)), yuan(sum(incomes, Decimal(0))), str(len(expenses)),
                   yuan(sum(expenses, Decimal(0))))
        lines = [FUND_HEADER, *(row.csv() for row in rows), FUND_SUMMARY, ",".join(f"`{v}" for v in summary)]
        return "\r\n".join(lines) + "\r\n"

    def fund_flow(self) -> dict[date, list[FlowRow]]:
        """Every line of every fund flow bill by Beijing day (cached while the World has the same orders and
        clock): each bill line's movements in time order, and each Monday's withdrawal of the balance."""
        return self._fund_flow()[1]

    @property
    def withdrawal_fees(self) -> dict[str, Decimal]:
        """Withdrawal id -> the deduction planted in it, shown by no line."""
        return self._fund_flow()[2]

    def _fund_flow(self) -> tuple[tuple[int, datetime], dict[date, list[FlowRow]], dict[str, Decimal]]:
        key = (len(self.world.orders), self.world.now)
        if self._flows is None or self._flows[0] != key:
            self._flows = (key, *self._render_fund_flow())
        return self._flows

    def _render_fund_flow(self) -> tuple[dict[date, list[FlowRow]], dict[str, Decimal]]:
        days: dict[date, list[FlowRow]] = defaultdict(list)
        withdrawal_fees: dict[str, Decimal] = {}
        balance = Decimal(0)

        def book(when: datetime, business_id: str, code: str, name: str, kind: str, amount: Decimal, *,
                 applicant: str = "", remark: str = "") -> None:
            nonlocal balance
            balance += amount
            row = FlowRow(when, business_id, f"{code}{business_id}", name, kind, amount > 0, abs(amount), balance,
                          applicant, remark)
            days[row.day].append(row)

        def withdraw_until(until: datetime, sweep: datetime | None) -> datetime | None:
            """Each Monday 09:00 before ``until``: the balance, when above 0, to the bank."""
            nonlocal balance
            while sweep is not None and sweep < until:
                if balance > 0:
                    withdrawal_id = f"1010{sweep.astimezone(BEIJING):%Y%m%d}{self.mchid}"
                    fee = WITHDRAWAL_FEE if not withdrawal_fees and balance > WITHDRAWAL_FEE else Decimal(0)
                    if fee:
                        withdrawal_fees[withdrawal_id] = fee
                    sent, balance = balance - fee, Decimal(0)  # the planted fee leaves with it, on no line
                    row = FlowRow(sweep, withdrawal_id, f"4{withdrawal_id}", "提现", "提现", False, sent, balance,
                                  self.mchid, "提现至银行卡")
                    days[row.day].append(row)
                sweep += timedelta(days=7)
            return sweep

        rows = [row for _, day_rows in sorted(self.bills().items()) for row in day_rows]
        sweep = next_monday(rows[0].when) if rows else None
        for row in rows:
            sweep = withdraw_until(row.when, sweep)
            if row.state == "SUCCESS":
                book(row.when, row.transaction_id, "1", "交易", "交易", row.settled)
                if row.fee:
                    book(row.when, row.transaction_id, "2", "交易", "扣除交易手续费", -row.fee)
            else:
                book(row.when, row.refund_id, "3", "退款", "退款", -(row.refunded + row.fee),
                     applicant=f"{self.mchid}API", remark=f"退款总金额{yuan(row.refunded)}元;含手续费{yuan(-row.fee)}元")
        withdraw_until(self.world.now, sweep)
        return days, withdrawal_fees

    def withdrawals(self) -> list[tuple[FlowRow, list[BillRow]]]:
        """Each withdrawal with the bill lines it swept (every line booked since the previous one): what
        tests reconcile the payouts with."""
        swept: list[tuple[FlowRow, list[BillRow]]] = []
        pending = [row for _, day_rows in sorted(self.bills().items()) for row in day_rows]
        for flow in sorted((row for rows in self.fund_flow().values() for row in rows if row.kind == "提现"),
                           key=lambda row: row.when):
            swept.append((flow, [row for row in pending if row.when < flow.when]))
            pending = [row for row in pending if row.when >= flow.when]
        return swept

    def bills(self) -> dict[date, list[BillRow]]:
        """Every line of every bill, by Beijing business day, in time order (the planted day included)."""
        days: dict[date, list[BillRow]] = defaultdict(list)
        for order in self.world.orders:
            for row in self.rows_of(order):
                days[row.day].append(row)
        for rows in days.values():
            rows.sort(key=lambda row: (row.when, row.transaction_id, row.refund_id))
        return days

    def served(self) -> list[BillRow]:
        """The lines a complete read of every bill gets: all but the planted missing day's."""
        return [row for day, rows in sorted(self.bills().items()) if day != self.planted_day for row in rows]

    def rows_of(self, order: Order) -> list[BillRow]:
        """The bill lines of one order: its WeChat Pay payment, then the refunds the shop made of it."""
        rows: list[BillRow] = []
        for payment in order.wechatpay:
            amount = order.total
            currency, rate = "CNY", RATE
            if payment.id == self.planted.get("currency_mismatch"):
                currency = "USD"
            if payment.id == self.planted.get("fee_mismatch"):
                rate = PLANTED_RATE
            openid = f"oUpF8u{hashlib.md5(str(order.customer.id).encode()).hexdigest()[:22]}"
            product = order.lines[0].sku.product.replace(",", "，")
            rows.append(BillRow(order.created_at, payment.id, str(order.number), "SUCCESS", currency, amount,
                                Decimal(0), fee_of(amount, rate), openid=openid, product=product))
            for refund in order.refunds:
                rows.append(BillRow(refund.created_at, payment.id, str(order.number), "REFUND", currency, Decimal(0),
                                    refund.amount, -fee_of(refund.amount), refund_id=f"50300{refund.id:025d}",
                                    out_refund_no=f"R{refund.id}", openid=openid, product=product))
        return rows

    @cached_property
    def planted(self) -> dict[str, str]:
        """kind -> the transaction id (``currency_mismatch``, ``fee_mismatch``) or Beijing day
        (``missing_day``) planted; empty for a small World. Picked among the first paid orders without
        refunds, by a random stream of the sandbox's own."""
        if self.world.spec.orders < PLANT_MIN_ORDERS:
            return {}
        first = [order for order in self.world.orders if order.wechatpay][:PLANT_AMONG]
        plain = [order for order in first if order.financial_status == "paid" and not order.refunds]
        rng = random.Random(f"{self.world.spec.seed}:wechatpay")
        missing = rng.choice(plain) if plain else None
        day = missing.created_at.astimezone(BEIJING).date() if missing else None
        others = [order for order in plain if order.created_at.astimezone(BEIJING).date() != day]
        if missing is None or len(others) < 2:  # too few WeChat Pay orders to spoil
            return {}
        fee, currency = rng.sample(others, 2)
        return {"missing_day": day.isoformat(), "fee_mismatch": fee.wechatpay[0].id,
                "currency_mismatch": currency.wechatpay[0].id}

    @property
    def planted_day(self) -> date | None:
        day = self.planted.get("missing_day")
        return date.fromisoformat(day) if day else None


# Platform key pairs the launcher made, by the public key's PEM: the connector is handed the public half
# as its secret, the sandbox signs with the private one.
_PLATFORM_KEYS: dict[str, rsa.RSAPrivateKey] = {}


def make_credential(secret: str) -> str:
    """A credential of the shape each secret has: the merchant's API private key, or the platform public
    key of a key pair kept for the sandbox to sign with."""
    key = new_key()
    if secret == "merchant_private_key":
        return private_pem(key)
    pem = public_pem(key)
    _PLATFORM_KEYS[pem] = key
    return pem


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    platform = _PLATFORM_KEYS.get(credentials["platform_public_key"])
    if platform is None:
        raise SandboxSetupError(f"account {account!r}: the sandbox signs with a platform key it made itself; unset "
                                "the platform_public_key variable so it can make one")
    merchant = serialization.load_pem_private_key(credentials["merchant_private_key"].encode(), password=None)
    if not isinstance(merchant, rsa.RSAPrivateKey):
        raise SandboxSetupError(f"account {account!r}: merchant_private_key is not an RSA key")
    sandbox = WechatpaySandbox(world, str(settings["mchid"]), str(settings["serial_no"]), merchant.public_key(),
                               platform, str(settings["platform_public_key_id"]))
    return Running(account, "wechatpay", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, make_credential=make_credential)

