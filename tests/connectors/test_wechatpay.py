"""The WeChat Pay connector against the WeChat Pay sandbox: the shared contract (its marts checks include
the sandbox's planted discrepancies and the settlement of each withdrawal), then what is WeChat Pay's own
(the wechatpayv3 SDK's trade and fund flow bills and downloads on the sandbox, signatures both ways, a
bill not ready yet, errors, bad lines)."""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import utils as wechatpay_utils

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.sdk import SourceDataError
from connectors.sdk.rsa_signed import authorization
from connectors.wechatpay import fundflow
from connectors.wechatpay.connector import read_bill, to_record
from sandbox.kit.rsa_keys import new_key, private_pem, public_pem
from sandbox.wechatpay import WechatpaySandbox
from sandbox.world import ShopSpec, World, WorldSpec

ACCOUNT = "wechatpay_test"
BEIJING = ZoneInfo("Asia/Shanghai")
MCHID, SERIAL, KEY_ID = "1900007291", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", "PUB_KEY_ID_0114232020190617"
MERCHANT, PLATFORM = new_key(), new_key()  # made per test session, never committed
SECRETS = {"merchant_private_key": "CHANNELHUB_TEST_WECHATPAY_KEY", "platform_public_key": "CHANNELHUB_TEST_WECHATPAY_PUB"}
SHOP = ShopSpec("shop_cn", "CNY", "Asia/Shanghai", checkout=("wechatpay",))
ENDS_DAYS_AGO = 30  # the World's trades end this long ago: the tests add days after them, all with bills made


def sandbox_for(world: World, **options: Any) -> WechatpaySandbox:
    return WechatpaySandbox(world, MCHID, SERIAL, MERCHANT.public_key(), PLATFORM, KEY_ID, **options)


def world_with_lines(n: int, seed: int = 7) -> World:
    """A World of one CNY shop paid with WeChat Pay whose bills hold exactly ``n`` lines (orders cut after
    enough of them), ending ``ENDS_DAYS_AGO`` days ago; plants its discrepancies when large enough."""
    world = World(WorldSpec(seed=seed, orders=n + 150, shops=(SHOP,), days=20))
    world.shift(datetime.now(UTC) - timedelta(days=ENDS_DAYS_AGO) - world.now)
    sandbox, lines = sandbox_for(world), 0
    for cut, order in enumerate(world.orders, 1):
        lines += sum(1 for row in sandbox.rows_of(order) if row.day != sandbox.planted_day)
        if lines >= n:
            if lines == n:
                world.orders = world.orders[:cut]
                return world
            break
    return world_with_lines(n, seed + 1)  # this seed steps over n (a payment and its refund at once)


class WechatpayEnv(WorldSandboxEnv):
    primary_stream = "trades"
    primary_key = "record_id"
    fault_path = "/v3/bill"
    connector = "wechatpay"
    marts = "+fct_payments +fct_refunds +fct_payouts"
    environment: ClassVar[dict[str, str]] = {SECRETS["merchant_private_key"]: private_pem(MERCHANT),
                                             SECRETS["platform_public_key"]: public_pem(PLATFORM)}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = world_with_lines(records)
        self.sandbox = sandbox_for(self.world, rate_limit=None)
        self.account = ACCOUNT
        self.next_day = self.world.now.astimezone(BEIJING).date() + timedelta(days=1)
        first = self.world.orders[0].created_at.astimezone(BEIJING).date()
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "mchid": MCHID, "serial_no": SERIAL,
                                  "platform_public_key_id": KEY_ID, "order_channel": "shop_cn",
                                  "start_date": first.isoformat(), "timeout_seconds": 10, **settings}, SECRETS)

    def source_count(self) -> int:
        return len(self.sandbox.served())

    def add_lines(self, n: int) -> None:
        """At least ``n`` new bill lines (payments and their refunds), all at noon of the next new day."""
        at = datetime.combine(self.next_day, time(12), BEIJING).astimezone(UTC)
        self.next_day += timedelta(days=1)
        added = 0
        while added < n:
            for order in self.world.add_orders(n - added):
                order.created_at = order.updated_at = at
                for refund in order.refunds:
                    refund.created_at = at
                added += len(self.sandbox.rows_of(order))

    def change(self, fraction: float) -> int:
        before = self.source_count()
        self.add_lines(max(1, round(before * fraction)))
        return self.source_count() - before

    def share_cursor_value(self, n: int) -> None:
        self.add_lines(n)


class WechatpayMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: WechatpayEnv) -> None:
        """Every payment line is a payment with the bill's gross, fee and net to the fen per currency,
        linked to its shop order; every refund line a refund of its payment; and the planted cases show:
        the payment in USD, the one fee not at its rate, the missing day in the run's log."""
        expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
        refunds, orders = {}, {}
        for row in env.sandbox.served():
            if row.state == "SUCCESS":
                sums = expected[row.currency]
                sums[0], sums[1], sums[2] = sums[0] + row.settled, sums[1] + row.fee, sums[2] + row.settled - row.fee
                orders[row.transaction_id] = f"shop_cn:{row.out_trade_no}"
            else:
                refunds[row.refund_id] = row.refunded
        rows = env.rows("select currency, sum(amount_captured), sum(fee_amount), sum(net_amount) from marts.fct_payments "
                        f"where channel_id = '{env.account}' and provider = 'wechatpay' group by currency")
        assert {currency: [gross, fees, nets] for currency, gross, fees, nets in rows} == expected
        assert dict(env.rows(f"select payment_id, order_id from intermediate.int_wechatpay__payments "
                             f"where channel_id = '{env.account}'")) == orders
        assert dict(env.rows("select refund_id, amount from marts.fct_refunds where provider = 'wechatpay'")) == refunds
        planted = env.sandbox.planted
        assert env.rows("select payment_id from marts.fct_payments where provider = 'wechatpay' and currency <> 'CNY'") \
            == [(planted["currency_mismatch"],)]
        assert env.rows("select payment_id from marts.fct_payments where provider = 'wechatpay' and fee_variance <> 0") \
            == [(planted["fee_mismatch"],)]  # the mart's fee-rate check: 手续费 off the bill's 费率
        assert env.rows(f"select count(*) from raw_{env.account}.trades where bill_date = '{planted['missing_day']}'") \
            == [(0,)]
        notes = " ".join(note for (note,) in env.rows(
            f"select note from ops.run_log where account = '{env.account}' and note is not null"))
        assert f"NO_STATEMENT_EXIST) for 1 day(s) before the newest bill: {planted['missing_day']}:" in notes
        self.check_settlement(env)

    @staticmethod
    def check_settlement(env: WechatpayEnv) -> None:
        """The fund flow lands line for line; each withdrawal (提现) is a payout sweeping what was traded
        since the previous one, counting the fee share WeChat Pay returned on its refunds (fct_refunds'
        fee_returned_amount). A payout's difference in fct_payouts is the lines of the day whose trade
        bill is missing if it swept them, and nothing else but on the planted withdrawal: the 2.00 it kept
        back on no line."""
        flows = [row for rows in env.sandbox.fund_flow().values() for row in rows]
        assert env.rows(f"select count(*), sum(amount) from raw_{env.account}.fundflow") == \
            [(len(flows), sum(row.amount for row in flows))]
        withdrawals = env.sandbox.withdrawals()
        payouts = {payout_id: (amount, difference, returned or Decimal(0)) for payout_id, amount, difference, returned
                   in env.rows("select payout_id, payouts.amount, payouts.difference, sum(refunds.fee_returned_amount) "
                               "from marts.fct_payouts as payouts left join marts.fct_refunds as refunds "
                               "using (payout_id, channel_id) where payouts.provider = 'wechatpay' "
                               "group by payout_id, payouts.amount, payouts.difference")}
        missing, unexplained = env.sandbox.planted_day, {}
        assert {payout_id: amount for payout_id, (amount, _, _) in payouts.items()} == \
            {flow.business_id: flow.amount for flow, _ in withdrawals}
        assert {payout_id: returned for payout_id, (_, _, returned) in payouts.items()} == {
            flow.business_id: -sum((row.fee for row in swept if row.state == "REFUND" and row.day != missing), Decimal(0))
            for flow, swept in withdrawals}
        for flow, swept in withdrawals:
            _, difference, _ = payouts[flow.business_id]
            lost = sum((row.settled - row.fee - row.refunded for row in swept if row.day == missing), Decimal(0))
            if rest := difference - lost:
                unexplained[flow.business_id] = rest
        assert unexplained == {payout_id: -fee for payout_id, fee in env.sandbox.withdrawal_fees.items()}
        assert len(withdrawals) > 1 and any(returned for _, _, returned in payouts.values())
        assert any(row.day == missing for _, swept in withdrawals for row in swept)  # the missing day shows too
        last = max(flow.when for flow, _ in withdrawals)
        unswept = env.rows("select count(*) from marts.fct_payments where provider = 'wechatpay' "
                           f"and payout_id is null and created_at < '{last.isoformat()}'")
        assert unswept == [(0,)]  # everything before the last withdrawal was swept by one


class TestWechatpayContract(WechatpayMarts, ConnectorContract):
    env_class = WechatpayEnv


class TestWechatpayOnPostgres(WechatpayMarts, PostgresParity):
    env_class = WechatpayEnv


# -- WeChat Pay specifics ----------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in WechatpayEnv.environment.items():
        monkeypatch.setenv(name, value)
    running = WechatpayEnv(tmp_path, 60, 20)
    yield running
    running.close()


def sdk_client(env: WechatpayEnv) -> WeChatPay:
    client = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=MCHID, private_key=private_pem(MERCHANT),
                       cert_serial_no=SERIAL, appid="wx2421b1c4370ec43b", apiv3_key="0" * 32,
                       public_key=public_pem(PLATFORM), public_key_id=KEY_ID)
    client._core._gate_way = env.sandbox.base_url
    return client


def test_the_wechatpayv3_sdk_gets_a_trade_bill_and_downloads_it_from_the_sandbox(env: WechatpayEnv) -> None:
    """wechatpayv3 signs its requests as WeChat Pay wants (the sandbox verifies them on its own) and
    verifies the sandbox's platform signature; the file is the gzip'd bill its hash names; a signature
    that does not verify is refused by the SDK."""
    day = env.world.orders[0].created_at.astimezone(BEIJING).date()
    client = sdk_client(env)
    code, text = client.trade_bill(day.isoformat())
    assert code == 200
    answer = json.loads(text)
    code, content = client.download_bill(answer["download_url"])
    assert code == 200 and answer["hash_type"] == "SHA1"
    bill = gzip.decompress(content).decode("utf-8-sig").splitlines()
    expected = env.sandbox.bills()[day]
    assert bill[0].startswith("交易时间,公众账号ID,商户号") and bill[-2].startswith("总交易单数,应结订单总金额")
    assert len(bill) == len(expected) + 3 and bill[1].startswith("`") and f"`{expected[0].transaction_id}" in bill[1]
    assert bill[-1].split(",")[0] == f"`{len(expected)}"
    code, text = client.trade_bill((datetime.now(BEIJING).date()).isoformat())
    assert code == 400 and json.loads(text)["code"] == "PARAM_ERROR"
    env.sandbox.bad_signature = 1
    with pytest.raises(Exception, match="failed to verify the signature"):
        client.trade_bill(day.isoformat())


def test_the_wechatpayv3_sdk_gets_a_fund_flow_bill_and_downloads_it_from_the_sandbox(env: WechatpayEnv) -> None:
    """wechatpayv3's fundflow_bill on the sandbox (basic account, gzip): the day's payments and fees in,
    refunds and the Monday withdrawal out, with the balance after each line, and the summary; the other
    accounts have no bill; the connector's reader takes the file."""
    flows = env.sandbox.fund_flow()
    day = next(day for day in sorted(flows) if any(row.kind == "提现" for row in flows[day]))
    client = sdk_client(env)
    code, text = client.fundflow_bill(day.isoformat())
    assert code == 200
    answer = json.loads(text)
    code, content = client.download_bill(answer["download_url"])
    assert code == 200 and answer["hash_type"] == "SHA1"
    text = gzip.decompress(content).decode("utf-8-sig")
    bill = text.splitlines()
    assert bill[0] == ("记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),"
                       "资金变更提交申请人,备注,业务凭证号")
    assert bill[-2] == "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额" and len(bill) == len(flows[day]) + 3
    lines = fundflow.read_fund_flow("acct", day, text)
    assert [line["flow_id"] for line in lines] == [row.flow_id for row in flows[day]]
    assert {(line["business_type"], line["direction"]) for line in lines} >= {("交易", "收入"), ("扣除交易手续费", "支出"),
                                                                               ("提现", "支出")}
    assert [line["balance"] for line in lines if line["business_type"] == "提现"] == ["0.00"]
    code, text = client.fundflow_bill(day.isoformat(), account_type="FEES")
    assert code == 400 and json.loads(text)["code"] == "NO_STATEMENT_EXIST"
    assert [args["account_type"] for args in env.sandbox.fundflow_log] == ["BASIC", "FEES"]


def test_a_bill_not_ready_stops_the_read_there_and_the_next_run_starts_on_it(env: WechatpayEnv) -> None:
    run_account(env.config, ACCOUNT)
    loaded = env.rows(f"select count(*) from raw_{ACCOUNT}.trades")[0][0]
    assert loaded == 60
    env.add_lines(3)
    env.add_lines(3)
    env.sandbox.statement_creating = 1  # the first day asked is still being made
    env.sandbox.log.clear()
    report = run_account(env.config, ACCOUNT)
    [not_ready] = [args["bill_date"] for args in env.sandbox.log]  # no later day was asked
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.trades")[0][0] == loaded
    notes = env.rows(f"select note from ops.run_log where run_id = '{report.run_id}' and note is not null")
    assert any(f"the bill of {not_ready} is not ready yet" in note for (note,) in notes)
    env.sandbox.log.clear()
    run_account(env.config, ACCOUNT)
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.trades")[0][0] == env.source_count() > loaded
    asked = [args["bill_date"] for args in env.sandbox.log]
    assert asked[0] == not_ready and asked == sorted(asked)  # read now, then the days after it in order
    assert all(args["bill_type"] == "ALL" and args["tar_type"] == "GZIP" for args in env.sandbox.log)


def test_signatures_and_refusals_fail_the_run_saying_what_happened(env: WechatpayEnv,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer whose platform signature fails is never read; a rate limit that does not lift and a
    merchant key WeChat Pay does not know fail with WeChat Pay's code, never the key."""
    env.sandbox.bad_signature = 1
    with pytest.raises(RunFailed, match="platform signature"):
        run_account(env.config, ACCOUNT)
    env.inject("rate_limit", 1_000)
    with pytest.raises(RunFailed, match="HTTP 429 FREQUENCY_LIMITED"):
        run_account(env.config, ACCOUNT)
    env.inject("rate_limit", 0)
    other = private_pem(new_key())
    monkeypatch.setenv(SECRETS["merchant_private_key"], other)
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "SIGN_ERROR" in str(failure.value) and "PRIVATE KEY" not in str(failure.value)
    result = env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT))
    assert not result.ok and "SIGN_ERROR" in result.detail
    monkeypatch.setenv(SECRETS["merchant_private_key"], "-----BEGIN PRIVATE KEY-----\nnot a key")
    with pytest.raises(RunFailed, match="merchant_private_key is not an RSA private key") as failure:
        run_account(env.config, ACCOUNT)
    assert "not a key" not in str(failure.value)


def test_our_authorization_is_the_one_wechatpayv3_computes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same key, path, time and nonce: the same signature (PKCS#1 v1.5 is deterministic)."""
    monkeypatch.setattr(wechatpay_utils, "time", SimpleNamespace(time=lambda: 1554208460))
    path = "/v3/bill/tradebill?bill_date=2026-05-01&bill_type=ALL&tar_type=GZIP"
    theirs = wechatpay_utils.build_authorization(path, "GET", MCHID, SERIAL, MERCHANT, nonce_str="593BEC0C930BF1AF")
    ours = authorization(MERCHANT, mchid=MCHID, serial_no=SERIAL, method="GET", path=path, timestamp=1554208460,
                         nonce="593BEC0C930BF1AF")
    fields = re.compile(r'(\w+)="([^"]*)"')
    assert ours.split(" ")[0] == theirs.split(" ")[0] == "WECHATPAY2-SHA256-RSA2048"
    assert dict(fields.findall(ours)) == dict(fields.findall(theirs))


BILL = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
        "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,"
        "费率,订单金额,申请退款金额,费率备注\r\n"
        "`2026-05-01 10:00:00,`wx1,`1900007291,`0,`,`4200001202605010000000000001,`1001,`o1,`JSAPI,`SUCCESS,`OTHERS,"
        "`CNY,`{amount},`0.00,`0,`0,`0.00,`0.00,`,`,`T恤,`,`0.60,`0.60%,`100.00,`0.00,`\r\n"
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
        "`1,`{total},`0.00,`0.00,`0.60,`100.00,`0.00\r\n")


FUND_FLOW = ("记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,"
             "资金变更提交申请人,备注,业务凭证号\r\n"
             "`2026-05-01 10:00:00,`4200001202605010000000000001,`F1,`交易,`交易,`收入,`100.00,`100.00,`,`,`\r\n"
             "`2026-05-01 10:00:00,`4200001202605010000000000001,`F2,`交易,`扣除交易手续费,`支出,`{fee},`99.40,`,`,`\r\n"
             "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n"
             "`2,`1,`100.00,`1,`0.60\r\n")


def test_a_fund_flow_bill_is_read_against_its_summary_either_way_its_header_writes_the_parentheses() -> None:
    first, fee = fundflow.read_fund_flow("acct", date(2026, 5, 1), FUND_FLOW.format(fee="0.60"))
    row = fundflow.to_record("acct", date(2026, 5, 1), fee)
    assert (row["flow_id"], row["amount"], row["balance"]) == ("F2", Decimal("0.60"), Decimal("99.40"))
    assert row["booked_at"] == datetime(2026, 5, 1, 2, tzinfo=UTC) and first["direction"] == "收入"
    with pytest.raises(SourceDataError, match="支出 lines add up to 0.70") as failure:
        fundflow.read_fund_flow("acct", date(2026, 5, 1), FUND_FLOW.format(fee="0.70"))
    assert failure.value.stream == "fundflow" and failure.value.record == "fund flow bill 2026-05-01"


def test_a_bill_is_read_against_its_summary_and_lines_land_exact_in_utc() -> None:
    (line,) = read_bill("acct", date(2026, 5, 1), BILL.format(amount="100.00", total="100.00"))
    row = to_record("acct", date(2026, 5, 1), "shop_cn", line)
    assert row["traded_at"] == datetime(2026, 5, 1, 2, tzinfo=UTC) and row["settlement_amount"] == Decimal("100.00")
    assert (row["record_id"], row["out_trade_no"], row["fee_rate"]) == ("4200001202605010000000000001", "1001", "0.60%")
    assert row["bill_day"] == datetime(2026, 4, 30, 16, tzinfo=UTC)
    with pytest.raises(SourceDataError, match="settlement_amount add up to 90.00") as failure:
        read_bill("acct", date(2026, 5, 1), BILL.format(amount="90.00", total="100.00"))
    assert failure.value.record == "bill 2026-05-01"
    (bad,) = read_bill("acct", date(2026, 5, 1), BILL.format(amount="1.0x", total="100.00"))
    with pytest.raises(SourceDataError) as failure:
        to_record("acct", date(2026, 5, 1), None, bad)
    assert failure.value.field == "settlement_amount" and failure.value.stream == "trades"
