"""The Alipay connector against the Alipay sandbox: the shared contract (with the payments marts and the
planted discrepancies), then what is Alipay's own: the official SDK's bill URL query with the answer's
signature verified, T+1 bills and the cursor, signatures refused both ways, Alipay's errors, the bill's
GBK layout."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient
from alipay.aop.api.exception.Exception import ResponseException
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.alipay.connector import bill_rows
from connectors.sdk import SourceDataError
from sandbox.alipay import BEIJING, FEE_RATE, AlipaySandbox, bill_day, new_key, private_pem, public_pem
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
    marts = "+fct_payments +fct_refunds"
    environment: ClassVar[dict[str, str]] = {SECRETS["app_private_key"]: private_pem(APP_KEY),
                                             SECRETS["alipay_public_key"]: public_pem(ALIPAY_KEY)}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = world_with_rows(records)
        self.sandbox = sandbox_for(self.world, rate_limit=None)
        self.account = ACCOUNT
        first = min(bill_day(order.created_at) for order in self.world.orders)
        self.configure(tmp_path, {"base_url": f"{self.sandbox.serve()}/gateway.do", "app_id": APP_ID,
                                  "start_date": first.isoformat(), "order_channel": SHOP.name,
                                  "timeout_seconds": 10, **settings}, SECRETS)

    def source_count(self) -> int:
        return served(self.sandbox)

    def change(self, fraction: float) -> int:
        return add_rows(self, max(1, round(self.source_count() * fraction)))

    def share_cursor_value(self, n: int) -> None:
        add_rows(self, n)


def expected_fee(amount: Decimal) -> Decimal:
    return (amount * FEE_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)


class AlipayMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: AlipayEnv) -> None:
        """Every Alipay payment is a CNY payment with the bill's gross, fee and net to the fen, linked to
        its shop_cn order by 商户订单号; every refund one of its payment. The planted discrepancies are
        each found: the missing day in ``bills``, the fee above the rate, the payment short of its order."""
        planted = env.sandbox.planted
        assert set(planted) >= {"missing_day", "fee_mismatch", "wrong_amount"}
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
        # a per-payment fee check finds the fee above the documented rate
        assert [payment for _, amount, fee, payment in linked if fee != expected_fee(amount)] == [planted["fee_mismatch"]]
        # the payment short of its order's total
        assert [order_id for order_id, amount, *_ in linked if amount != orders[order_id].total] == [planted["wrong_amount"]]
        # the day without a bill is a row of its own, and its orders have no payment
        assert env.rows(f"select bill_date, status from raw_{env.account}.bills where status <> 'loaded'") == [
            (planted["missing_day"], "missing")]
        paid_that_day = {f"{SHOP.name}:{order.number}" for order in env.world.orders
                         if order.alipay and bill_day(order.created_at) == planted["missing_day"]}
        assert paid_that_day and not paid_that_day & {order_id for order_id, *_ in linked}


class TestAlipayContract(AlipayMarts, ConnectorContract):
    env_class = AlipayEnv
    records = 250


class TestAlipayOnPostgres(AlipayMarts, PostgresParity):
    env_class = AlipayEnv
    records = 250
