"""The Alipay connector against the Alipay sandbox: the shared contract (with the payments marts, the
payouts' settlement and the planted discrepancies), then what is Alipay's own: the official SDK's bill
URL queries (trade and account bills) with the answer's signature verified, T+1 bills and the cursor,
signatures refused both ways, Alipay's errors, the bills' GBK layout."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.exception.Exception import ResponseException
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa2
from cryptography.hazmat.primitives import serialization

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.alipay.client import sign_content
from connectors.alipay.connector import ACCOUNT_BILL, bill_rows
from connectors.sdk import ConfigError, SourceDataError
from connectors.sdk.rsa_signing import private_key, public_key, sign, verify
from sandbox.alipay import (
    BEIJING,
    EXTRA_CHARGE,
    FEE_RATE,
    PLANTED_FEE_RATE,
    AlipaySandbox,
    Movement,
    bill_day,
)
from sandbox.kit.rsa_keys import new_key, private_pem, public_pem
from sandbox.world import EPOCH, ShopSpec, World, WorldSpec

ACCOUNT, APP_ID = "alipay_test", "2021000117600001"
SHOP = ShopSpec("shop_cn", "CNY", "Asia/Shanghai", checkout=("alipay",))
APP_KEY, ALIPAY_KEY = new_key(), new_key()  # made per test session: no key is ever committed
SECRETS = {"app_private_key": "CHANNELHUB_TEST_ALIPAY_APP_KEY", "alipay_public_key": "CHANNELHUB_TEST_ALIPAY_PUBLIC_KEY"}


def sandbox_for(world: World, **options: Any) -> AlipaySandbox:
    return AlipaySandbox(world, APP_ID, public_pem(APP_KEY), private_pem(ALIPAY_KEY), **options)


def newest_made_day(sandbox: AlipaySandbox) -> date:
    """Yesterday in Beijing, or the day before while yesterday's bill is still being made."""
    yesterday = (sandbox.clock().astimezone(BEIJING) - timedelta(days=1)).date()
    return yesterday if sandbox.made(yesterday) else yesterday - timedelta(days=1)


def served(sandbox: AlipaySandbox) -> int:
    """Rows of every bill the sandbox has made (the missing day's never is)."""
    missing = sandbox.planted.get("missing_day")
    return sum(len(rows) for day, rows in sandbox.entries().items() if sandbox.made(day) and day != missing)


def world_with_rows(n: int, seed: int = 3) -> World:
    """A month of shop_cn orders paid with Alipay, ending three days ago, whose bills hold exactly ``n`` rows
    (orders cut after enough of them); 200 orders or more, so the sandbox plants its discrepancies."""
    world = World(WorldSpec(seed=seed, orders=n + 60, skus=24, customers=60, shops=(SHOP,), days=30))
    world.shift(datetime.now(UTC).replace(microsecond=0) - timedelta(days=34) - EPOCH)
    orders, sandbox = world.orders, sandbox_for(world, rate_limit=None)
    for cut in range(200, len(orders) + 1):
        world.orders = orders[:cut]
        sandbox.plant()
        count = served(sandbox)
        if count >= n:
            if count == n:
                return world
            break
    return world_with_rows(n, seed + 1)


def add_rows(env: AlipayEnv, n: int) -> int:
    """At least ``n`` new bill rows (payments and their refunds) on the newest bill made; returns how many."""
    day = newest_made_day(env.sandbox)
    at = datetime(day.year, day.month, day.day, 12, tzinfo=BEIJING).astimezone(UTC)
    before = served(env.sandbox)
    while served(env.sandbox) - before < n:
        for order in env.world.add_orders(n):
            order.created_at = order.updated_at = at
            for refund in order.refunds:
                refund.created_at = at + timedelta(minutes=5)
    return served(env.sandbox) - before


class AlipayEnv(WorldSandboxEnv):
    primary_stream = "trades"
    primary_key = "entry_id"
    fault_path = "/gateway.do"
    connector = "alipay"
    marts = "+fct_payments +fct_refunds +fct_payouts"
    environment: ClassVar[dict[str, str]] = {SECRETS["app_private_key"]: private_pem(APP_KEY),
                                             SECRETS["alipay_public_key"]: public_pem(ALIPAY_KEY)}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = world_with_rows(records)
        self.sandbox = sandbox_for(self.world, rate_limit=None)
        self.account = ACCOUNT
        first = min(bill_day(order.created_at) for order in self.world.orders)
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "app_id": APP_ID,
                                  "start_date": first.isoformat(), "order_channel": SHOP.name,
                                  "fee_rate": str(FEE_RATE), "timeout_seconds": 10, **settings}, SECRETS)

    def source_count(self) -> int:
        return served(self.sandbox)

    def change(self, fraction: float) -> int:
        return add_rows(self, max(1, round(self.source_count() * fraction)))

    def share_cursor_value(self, n: int) -> None:
        add_rows(self, n)


def expected_fee(amount: Decimal, rate: Decimal = FEE_RATE) -> Decimal:
    return (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)


def unbalanced_payouts(sandbox: AlipaySandbox) -> dict[str, Decimal]:
    """What each payout the sandbox made short or long sent beyond the transactions the warehouse can
    know: the planted 收费 makes one short, and the payments, fees and refunds of the day without a trade
    bill (which the account bill has) make those that swept them long."""
    moves = [move for move, _ in sandbox.movements()]
    withdrawals = [move for move in moves if move.kind == "提现"]

    def payout_of(move: Movement) -> str | None:
        return next((w.business_no for w in withdrawals if w.at > move.at), None)

    off: dict[str, Decimal] = defaultdict(Decimal)
    off[sandbox.planted["short_payout"]] -= EXTRA_CHARGE
    for move in moves:
        if move.kind != "提现" and move.out_trade_no and bill_day(move.at) == sandbox.planted["missing_day"]:
            off[payout_of(move)] += move.amount  # type: ignore[index]
    return {payout: amount for payout, amount in off.items() if payout is not None}


class AlipayMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: AlipayEnv) -> None:
        """Every Alipay payment is a CNY payment with the bill's gross, fee and net to the fen, linked to
        its shop_cn order by 商户订单号; every refund one of its payment. The planted discrepancies are
        each found: the missing day in ``bills``, the fee above the rate (fct_payments' fee-rate check),
        the payment short of its order, and the payout short of its transactions (fct_payouts)."""
        planted = env.sandbox.planted
        assert set(planted) >= {"missing_day", "fee_mismatch", "wrong_amount", "short_payout"}
        gross = fees = Decimal(0)
        refunds: dict[str, Decimal] = {}
        for day, entries in env.sandbox.entries().items():
            if day == planted["missing_day"]:
                continue
            for entry in entries:
                if entry.refund:
                    refunds[f"{entry.cells[0].strip()}/{entry.cells[21]}"] = -entry.received
                else:
                    gross, fees = gross + entry.received, fees - entry.fee
        rows = env.rows("select currency, sum(amount_captured), sum(fee_amount), sum(net_amount) from marts.fct_payments "
                        f"where channel_id = '{env.account}' and provider = 'alipay' group by currency")
        assert rows == [("CNY", gross, fees, gross - fees)]
        assert dict(env.rows("select refund_id, amount from marts.fct_refunds where provider = 'alipay'")) == refunds
        orders = {f"{SHOP.name}:{order.number}": order for order in env.world.orders}
        # fct_payments names an order only once the order is in the warehouse: this env loads no shop
        linked = env.rows("select order_id, amount_captured, fee_amount, payment_id from intermediate.int_alipay__payments "
                          f"where channel_id = '{env.account}'")
        assert not [order_id for order_id, *_ in linked if order_id not in orders]
        # the mart's fee-rate check finds the fee above the contracted rate, and only it
        [(payment, amount, variance)] = env.rows(
            "select payment_id, amount_captured, fee_variance from marts.fct_payments "
            f"where channel_id = '{env.account}' and fee_variance <> 0")
        assert payment == planted["fee_mismatch"]
        assert variance == expected_fee(amount, PLANTED_FEE_RATE) - expected_fee(amount)
        assert env.rows(f"select count(*) from marts.fct_payments where channel_id = '{env.account}' "
                        "and fee_variance is null") == [(0,)]
        # the payment short of its order's total
        assert [order_id for order_id, amount, *_ in linked if amount != orders[order_id].total] == [planted["wrong_amount"]]
        # the day without a bill is a row of its own, and its orders have no payment
        assert env.rows(f"select bill_date, bill_type, status from raw_{env.account}.bills where status <> 'loaded'") == [
            (planted["missing_day"], "trade", "missing")]
        paid_that_day = {f"{SHOP.name}:{order.number}" for order in env.world.orders
                         if order.alipay and bill_day(order.created_at) == planted["missing_day"]}
        assert paid_that_day and not paid_that_day & {order_id for order_id, *_ in linked}
        # the settlement: every withdrawal of a bill made is a payout sending what left the balance; the
        # planted 收费 makes one short and the day without a trade bill leaves those that swept it long
        withdrawn = {move.business_no: -move.amount for move, _ in env.sandbox.movements()
                     if move.kind == "提现" and env.sandbox.made(bill_day(move.at))}
        payouts = dict(env.rows(f"select payout_id, amount from marts.fct_payouts where channel_id = '{env.account}'"))
        assert payouts == withdrawn and len(payouts) > 3
        unbalanced = dict(env.rows("select payout_id, difference from marts.fct_payouts "
                                   f"where channel_id = '{env.account}' and not is_balanced"))
        assert unbalanced == {payout: off for payout, off in unbalanced_payouts(env.sandbox).items() if payout in payouts}
        assert unbalanced[planted["short_payout"]] == -EXTRA_CHARGE
        assert env.rows("select count(*) from marts.fct_payments where provider = 'alipay' and payout_id is not null "
                        "and payout_id not in (select payout_id from marts.fct_payouts)") == [(0,)]


class TestAlipayContract(AlipayMarts, ConnectorContract):
    env_class = AlipayEnv
    records = 250


class TestAlipayOnPostgres(AlipayMarts, PostgresParity):
    env_class = AlipayEnv
    records = 250


# -- Alipay specifics --------------------------------------------------------------------------------------

class SmallAlipayEnv(AlipayEnv):
    """Ten days of a small shop (under PLANT_MIN_ORDERS orders: nothing planted) ending three days ago."""

    def __init__(self, tmp_path: Path, records: int = 40, page_size: int = 100, **settings: Any) -> None:
        self.world = World(WorldSpec(seed=5, orders=records, skus=12, customers=20, shops=(SHOP,), days=10))
        self.world.shift(datetime.now(UTC).replace(microsecond=0) - timedelta(days=14) - EPOCH)
        self.sandbox = sandbox_for(self.world, rate_limit=None)
        self.account = ACCOUNT
        first = min(bill_day(order.created_at) for order in self.world.orders)
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "app_id": APP_ID,
                                  "start_date": first.isoformat(), "order_channel": SHOP.name,
                                  "timeout_seconds": 10, **settings}, SECRETS)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in AlipayEnv.environment.items():
        monkeypatch.setenv(name, value)
    running = SmallAlipayEnv(tmp_path)
    yield running
    running.close()


def serve_on_port_80(sandbox: AlipaySandbox) -> str:
    """The official SDK always connects to port 80 (it drops the URL's port): a loopback address of
    its own, so parallel workers do not clash."""
    rng = random.Random()
    for _ in range(20):
        host = f"127.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}.{rng.randrange(2, 255)}"
        try:
            sandbox.serve(host=host, port=80)
        except OSError:
            continue
        return host
    raise RuntimeError("no loopback address with port 80 free")


def official_client(host: str, public_key: str) -> DefaultAlipayClient:
    config = AlipayClientConfig()
    config.server_url, config.app_id, config.sign_type = f"http://{host}/gateway.do", APP_ID, "RSA2"
    # the SDK reads the app key in PKCS#1 ("RSA PRIVATE KEY"), as Alipay's key tool writes it for Python
    config.app_private_key = APP_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                                   serialization.NoEncryption()).decode()
    config.alipay_public_key = public_key
    return DefaultAlipayClient(alipay_client_config=config)


def bill_request(day: date, bill_type: str = "trade") -> AlipayDataDataserviceBillDownloadurlQueryRequest:
    request = AlipayDataDataserviceBillDownloadurlQueryRequest()
    request.biz_content = {"bill_type": bill_type, "bill_date": day.isoformat()}
    return request


def test_the_official_sdk_gets_a_bill_url_and_verifies_the_answer() -> None:
    """alipay-sdk-python (Alipay's own client), response signature verification on: the sandbox checks its
    RSA2 request and the SDK checks the sandbox's signed answer; the URLs give the day's trade and account
    (signcustomer) bills, which the connector's parser reads row for row; a forged answer and a missing
    bill are refused as Alipay does."""
    world = World(WorldSpec(seed=5, orders=40, skus=12, customers=20, shops=(SHOP,), days=10))
    world.shift(datetime.now(UTC).replace(microsecond=0) - timedelta(days=14) - EPOCH)
    sandbox = sandbox_for(world, rate_limit=None)
    host = serve_on_port_80(sandbox)
    try:
        client = official_client(host, public_pem(ALIPAY_KEY))
        day = max(sandbox.entries())
        answer = json.loads(client.execute(bill_request(day)))
        assert answer["code"] == "10000" and sandbox.asked == [day]
        bill = requests.get(answer["bill_download_url"], timeout=10)
        name, rows = bill_rows(ACCOUNT, day, bill.content)
        assert name.endswith(f"_{day:%Y%m%d}_业务明细.csv")
        assert [row["trade_no"] for row in rows] == [entry.cells[0].strip() for entry in sandbox.entries()[day]]
        with zipfile.ZipFile(io.BytesIO(bill.content)) as archive:
            assert sorted(info.filename.split("_")[-1] for info in archive.infolist()) == ["业务明细(汇总).csv", "业务明细.csv"]
        account = json.loads(client.execute(bill_request(day, "signcustomer")))
        assert account["code"] == "10000" and "bizType=signcustomer" in account["bill_download_url"]
        name, entries = bill_rows(ACCOUNT, day, requests.get(account["bill_download_url"], timeout=10).content,
                                  ACCOUNT_BILL)
        assert name.endswith(f"_{day:%Y%m%d}_账务明细.csv")
        moved = sandbox.account_rows(day)
        assert [(row["entry_no"], row["business_type"], row["balance"]) for row in entries] == [
            (move.entry_no, move.kind, balance) for move, balance in moved]
        assert {row["business_type"] for row in entries} >= {"在线支付", "收费"}
        future = json.loads(client.execute(bill_request(date.today() + timedelta(days=1))))
        assert (future["code"], future["sub_code"]) == ("40004", "isp.bill_not_exist")
        sandbox.forge_signatures = 1
        with pytest.raises(ResponseException, match="sign verify failed"):
            client.execute(bill_request(day))
        wrong_key = official_client(host, public_pem(APP_KEY))  # the app's own public key, not Alipay's
        with pytest.raises(ResponseException, match="sign verify failed"):
            wrong_key.execute(bill_request(day))
    finally:
        sandbox.stop()


def test_a_bill_not_made_yet_stops_the_walk_and_is_read_once_made(
        env: AlipayEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 08:00 Beijing time yesterday's bill is not made: the run stops there, reporting nothing missing,
    and the cursor does not pass it; at 10:00 the next run reads it."""
    today = datetime.now(BEIJING).date()
    yesterday = today - timedelta(days=1)
    early, late = (datetime(today.year, today.month, today.day, hour, tzinfo=BEIJING) for hour in (8, 10))
    paid = add_rows_on(env, yesterday, 3)
    for clock in (early, late):
        env.sandbox.clock = lambda clock=clock: clock
        monkeypatch.setattr(import_module("connectors.alipay.connector"), "utc_now",
                            lambda clock=clock: clock.astimezone(UTC))
        report = run_account(env.config, ACCOUNT)
        loaded = {trade for (trade,) in env.rows(f"select trade_no from raw_{ACCOUNT}.trades")}
        if clock == early:
            assert env.sandbox.asked[-1] == yesterday and not paid & loaded
            assert env.rows(f"select count(*) from raw_{ACCOUNT}.bills where bill_date = '{yesterday}'") == [(0,)]
            assert report.rows["trades"] == served(env.sandbox)  # every bill made by 08:00
            env.sandbox.asked.clear()
    assert paid <= loaded and env.sandbox.asked[0] == yesterday - timedelta(days=2)  # the cursor's day, less its lag
    assert env.rows(f"select bill_type, status from raw_{ACCOUNT}.bills where bill_date = '{yesterday}' "
                    "order by bill_type") == [("signcustomer", "loaded"), ("trade", "loaded")]


def add_rows_on(env: AlipayEnv, day: date, n: int) -> set[str]:
    """``n`` new Alipay payments (no refunds) on ``day``; returns their trade numbers."""
    at = datetime(day.year, day.month, day.day, 12, tzinfo=BEIJING).astimezone(UTC)
    paid: set[str] = set()
    while len(paid) < n:
        for order in env.world.add_orders(1):
            order.created_at = order.updated_at = at
            order.refunds.clear()
            paid.update(charge.id for charge in order.alipay)
    return paid


def test_signatures_refused_either_way_fail_the_run_saying_so(env: AlipayEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request signed with another key is Alipay's isv.invalid-signature; an answer whose sign does not
    verify is not trusted (and not retried). Neither message shows a key."""
    monkeypatch.setenv(SECRETS["app_private_key"], private_pem(new_key()))
    with pytest.raises(RunFailed) as refused:
        run_account(env.config, ACCOUNT)
    assert "40002" in str(refused.value) and "isv.invalid-signature" in str(refused.value)
    assert "PRIVATE KEY" not in str(refused.value)
    monkeypatch.setenv(SECRETS["app_private_key"], private_pem(APP_KEY))
    env.sandbox.forge_signatures = 1
    with pytest.raises(RunFailed, match="does not verify with alipay_public_key"):
        run_account(env.config, ACCOUNT)
    assert env.sandbox.forge_signatures == 0
    check = env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT))
    assert check.ok, check.detail


def test_a_rate_limit_that_does_not_lift_fails_with_alipays_codes(env: AlipayEnv) -> None:
    env.inject("rate_limit", 1_000)
    with pytest.raises(RunFailed, match="code 20000 .*isp.call-limited"):
        run_account(env.config, ACCOUNT)
    env.inject("rate_limit", 0)


def test_a_row_with_a_bad_amount_is_quarantined_naming_it_and_the_rest_loads(
        env: AlipayEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = next(order for order in env.world.orders if order.alipay and not order.refunds).alipay[0].id
    row = AlipaySandbox._row

    def corrupt(self: AlipaySandbox, *args: Any) -> Any:
        entry = row(self, *args)
        if entry.cells[0].strip() == bad:
            return replace(entry, cells=(*entry.cells[:11], "1,23", *entry.cells[12:]))
        return entry

    monkeypatch.setattr(AlipaySandbox, "_row", corrupt)
    report = run_account(env.config, ACCOUNT)
    assert report.quarantined == {"trades": 1}
    [(record, field, reason)] = env.rows(
        f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (f"trade {bad}", "order_amount") and "1,23" in reason
    assert report.rows["trades"] == env.source_count() - 1


def test_a_bill_whose_footer_does_not_count_its_rows_is_not_trusted() -> None:
    """A bill cut short (a row lost, the footer kept) fails naming the day; a file that is no zip too."""
    world = World(WorldSpec(seed=5, orders=40, skus=12, customers=20, shops=(SHOP,), days=10))
    sandbox = sandbox_for(world, rate_limit=None)
    day, entries = max(sandbox.entries().items(), key=lambda item: len(item[1]))
    with zipfile.ZipFile(io.BytesIO(sandbox.zip_of(day, entries))) as archive:
        files = {info.filename: archive.read(info) for info in archive.infolist()}
    cut = io.BytesIO()
    with zipfile.ZipFile(cut, "w") as archive:
        for name, data in files.items():
            lines = data.decode("gbk").split("\r\n")
            if name.endswith("_业务明细.csv"):
                lines.remove(next(line for line in lines if line.startswith(entries[-1].cells[0])))
            archive.writestr(name, "\r\n".join(lines).encode("gbk"))
    with pytest.raises(SourceDataError, match=f"the bill of {day} lists {len(entries)} trades and refunds in its "
                                              f"footer but holds {len(entries) - 1} rows"):
        bill_rows(ACCOUNT, day, cut.getvalue())
    with pytest.raises(SourceDataError, match="not a zip of GBK CSVs"):
        bill_rows(ACCOUNT, day, b"<html>expired</html>")


def test_requests_are_signed_as_the_official_sdk_signs_them() -> None:
    """The connector's string to sign and RSA2 signature equal alipay-sdk-python's for the same
    parameters, and a key given as the bare base64 body (as Alipay's key tool writes it) loads."""
    params = {"app_id": APP_ID, "method": "alipay.data.dataservice.bill.downloadurl.query", "format": "JSON",
              "charset": "utf-8", "sign_type": "RSA2", "timestamp": "2026-11-28 10:00:00", "version": "1.0",
              "biz_content": '{"bill_type":"trade","bill_date":"2026-11-27"}'}
    assert sign_content(params) == get_sign_content(params)
    pkcs1 = APP_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()).decode()
    bare = "".join(private_pem(APP_KEY).splitlines()[1:-1])
    text = sign_content(params).encode()
    assert sign(private_key(bare, "app_private_key"), text) == sign_with_rsa2(pkcs1, sign_content(params), "utf-8")
    assert verify(public_key("".join(public_pem(APP_KEY).splitlines()[1:-1]), "k"), text,
                  sign_with_rsa2(pkcs1, sign_content(params), "utf-8"))
    with pytest.raises(ConfigError, match="app_private_key is not an RSA private key") as refused:
        private_key(bare[:-20], "app_private_key")
    assert bare[:40] not in str(refused.value)
