"""The Jushuitan connector against its sandbox: the shared contract with the orders and stock marts, a
client written from the reference's recipe as the outside check (no public Python client fits), windows
of at most 7 days read per warehouse, the shops an account reads, access tokens traded for the refresh
token, error envelopes in HTTP 200, and what lands."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts
from connectors.jushuitan import connector
from sandbox.jushuitan import CO_ID, SHOP_ID, JushuitanSandbox, local, o_id, warehouse_id
from sandbox.kit import Bucket
from sandbox.world import EPOCH, ShopSpec, World, WorldSpec

APP_KEY, SECRET, REFRESH = "b0b7d1a3c5e94f2a8d6c4e2f1a3b5c7d", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "f1e2d3c4b5a697887766554433221100"
SHOP = ShopSpec("jst_oms", "CNY", "Asia/Shanghai", marketplace=True)
DIRECT = ShopSpec("tmall_cn", "CNY", "Asia/Shanghai", marketplace=True)  # a shop the hub also reads directly
ORDERS, REFUNDS, INVENTORY = "/open/orders/single/query", "/open/refund/single/query", "/open/inventory/query"


class JushuitanEnv(WorldSandboxEnv):
    account, connector = SHOP.name, "jushuitan"
    primary_stream = "orders"
    primary_key = "o_id"
    fault_path = ORDERS
    marts = f"{ORDER_MARTS} +fct_inventory"
    environment: ClassVar[dict[str, str]] = {"TEST_JST_APP_KEY": APP_KEY, "TEST_JST_SECRET": SECRET,
                                             "TEST_JST_REFRESH": REFRESH}

    def __init__(self, tmp_path: Path, records: int = 60, page_size: int = 20, *,
                 world_shops: tuple[ShopSpec, ...] = (SHOP,), **settings: Any) -> None:
        """A day of orders starting two days ago (updates run up to ten hours later), the SKUs and stock
        last changed at that start: one 7-day window per stream (and warehouse) reads them all. The OMS
        routes the orders of ``world_shops``."""
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=world_shops, days=1))
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        self.world.shift(self.start - EPOCH)
        for changed in (*self.world.skus, *self.world.stock):
            changed.modified_at = self.start
        self.sandbox = JushuitanSandbox(self.world, SHOP.name, APP_KEY, SECRET, REFRESH,
                                        shops=[shop.name for shop in world_shops])
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": self.sandbox.base_url, "page_size": min(page_size, 50),
                                  "start_date": self.start.isoformat(), **settings},
                       {"app_key": "TEST_JST_APP_KEY", "app_secret": "TEST_JST_SECRET",
                        "refresh_token": "TEST_JST_REFRESH"})


class JushuitanMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: JushuitanEnv) -> None:
        """Every order with its refunds, unpaid and cancelled ones as such, every item resolved to a
        merchant SKU and every SKU known; the stock of each SKU in each warehouse in fct_inventory as the
        OMS's, which int_stock_on_hand does not net."""
        orders = env.world.orders_of(SHOP.name)
        check_order_marts(env, "jushuitan", orders, env.world.skus, refunded_orders_cancelled=False)
        statuses = env.rows("select source_financial_status, source_fulfillment_status, count(*) "
                            "from intermediate.int_jushuitan__orders group by 1, 2")
        assert Counter({(financial, fulfilled): n for financial, fulfilled, n in statuses}) == Counter(
            (o.financial_status, o.fulfillment_status) for o in orders)
        waiting = [line for o in orders if o.financial_status not in ("pending", "voided")
                   and o.fulfillment_status is None for line in o.lines]
        refunded = {line_id: n for o in orders for r in o.refunds for line_id, n in r.lines}
        assert env.one("select sum(open_quantity) from intermediate.int_jushuitan__order_lines") == (
            sum(max(line.quantity - refunded.get(line.id, 0), 0) for line in waiting),)
        stock = env.world.stock
        assert env.one("select count(*), count(product_id), sum(quantity_on_hand), min(source), max(source) "
                       f"from marts.fct_inventory where channel_id = '{env.account}'") == (
            len(stock), len(stock), sum(r.quantity for r in stock), "erp", "erp")
        assert set(env.rows(f"select distinct warehouse_id from marts.fct_inventory where channel_id = '{env.account}'")) \
            == {(str(warehouse_id(r.warehouse)),) for r in stock}


class TestJushuitanContract(JushuitanMarts, ConnectorContract):
    env_class = JushuitanEnv
    records = 100  # two pages of 50 (Jushuitan's cap on an order page): the module's time is the suite's


class TestJushuitanOnPostgres(JushuitanMarts, PostgresParity):
    env_class = JushuitanEnv
    records = 100


@pytest.fixture
def oms(make_env: Any) -> JushuitanEnv:
    """A small OMS of its own (60 orders, pages of 20), for the tests below the contract."""
    return make_env(JushuitanEnv)


def signed(form: dict[str, Any], secret: str) -> dict[str, Any]:
    """The reference's recipe, written apart from the connector: md5 of the secret followed by every
    parameter's name and value, sorted by name, in lower-case hex."""
    text = "".join(f"{key}{value}" for key, value in sorted(form.items()))
    return {**form, "sign": hashlib.md5(f"{secret}{text}".encode()).hexdigest()}


def test_a_client_written_from_the_reference_trades_a_token_and_reads_orders(oms: JushuitanEnv) -> None:
    """No public Python client fits (README): a plain form client from the reference's recipe gets a
    token, reads a window of orders, and is refused a window over 7 days and a wrong secret in
    Jushuitan's envelope."""
    base, now = oms.sandbox.base_url, lambda: str(int(time.time()))
    token = requests.post(f"{base}/openWeb/auth/refreshToken", data=signed(
        {"app_key": APP_KEY, "timestamp": now(), "grant_type": "refresh_token", "charset": "utf-8",
         "refresh_token": REFRESH, "scope": "all"}, SECRET)).json()
    assert token["code"] == 0 and token["data"]["expires_in"] > 86_400

    def query(biz: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
        form = {"app_key": APP_KEY, "access_token": token["data"]["access_token"], "timestamp": now(),
                "charset": "utf-8", "version": "2", "biz": json.dumps(biz)}
        return requests.post(f"{base}{ORDERS}", data=signed(form, secret)).json()

    newest = max(o.updated_at for o in oms.world.orders)
    window = {"page_index": 1, "page_size": 50, "modified_begin": local(newest - timedelta(days=7)),
              "modified_end": local(newest)}
    answer = query(window)
    assert answer["code"] == 0 and answer["data"]["page_index"] == 1 and answer["data"]["has_next"] is True
    assert len(answer["data"]["orders"]) == 50 and answer["data"]["data_count"] == len(oms.world.orders)
    first = answer["data"]["orders"][0]
    assert first["shop_id"] == SHOP_ID and first["co_id"] == CO_ID and first["items"][0]["sku_id"].startswith("CH-")
    too_long = query({**window, "modified_begin": local(newest - timedelta(days=7, seconds=1))})
    assert too_long["code"] == 110 and "七天" in too_long["msg"] and too_long["data"] is None
    assert query(window, secret="wrong")["code"] == 100


def test_orders_after_sales_skus_and_stock_per_warehouse_land_exact_and_in_utc(oms: JushuitanEnv) -> None:
    assert connector.check(oms.config.account(oms.account)).detail == "2 warehouses listed"
    report = run_account(oms.config, oms.account)
    assert oms.sandbox.tokens.issued == 2  # one for the check, one shared by the run's calls on every thread
    cases = [(o, r) for o in oms.world.orders for r in o.refunds]
    assert report.rows == {"orders": 60, "refunds": len(cases), "skus": 24, "warehouses": 2, "inventory": 48}
    order = oms.world.orders[7]
    pay, freight, modified, items = oms.one(
        "select pay_amount, freight, modified, (select count(*) from raw_jst_oms.orders__items i "
        f"where i._dlt_parent_id = o._dlt_id and i.o_id = o.o_id) from raw_jst_oms.orders o where o_id = {o_id(order)}")
    assert isinstance(pay, Decimal) and pay == order.total and freight == order.shipping and items == len(order.lines)
    assert modified == order.updated_at and modified.utcoffset() == timedelta(0)
    assert dict(oms.rows("select so_id, refund from raw_jst_oms.refunds")) == {str(o.id): r.amount for o, r in cases}
    stock = {(house, sku): qty for house, sku, qty in oms.rows("select wms_co_id, sku_id, qty from raw_jst_oms.inventory")}
    assert stock == {(warehouse_id(r.warehouse), r.sku.code): r.quantity for r in oms.world.stock}
    inventory_calls = oms.sandbox.calls_to(INVENTORY)
    assert sorted(call["wms_co_id"] for call in inventory_calls) == [CO_ID, CO_ID + 1]  # one warehouse a call
    assert all(call["page_size"] == 100 for call in inventory_calls)

    touched, before = oms.world.touch_orders(0.1), len(oms.sandbox.calls_to(ORDERS))
    again = run_account(oms.config, oms.account)
    newest = max(o.updated_at for o in oms.world.orders if o not in touched)
    lagging = [o for o in oms.world.orders if o not in touched and o.updated_at >= newest - timedelta(minutes=1)]
    assert again.rows["orders"] == len(touched) + len(lagging)  # the changes, and what the 1-minute lag re-reads
    (window,) = oms.sandbox.calls_to(ORDERS)[before:]
    assert window["modified_begin"] == local(newest - timedelta(minutes=1))


def test_fifteen_days_are_read_in_three_windows_per_warehouse_losing_no_boundary_order(make_env: Any) -> None:
    """Also: a token living under the minute the connector keeps in hand is traded before every call."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=15)
    oms = make_env(JushuitanEnv, start_date=start.isoformat())
    oms.sandbox.tokens.lifetime = 30
    orders = oms.world.orders
    for order, days in zip(orders[:3], (0, 7, 14), strict=True):
        order.updated_at = start + timedelta(days=days)  # on the first window's start, then on each edge
    orders[3].updated_at = start - timedelta(seconds=1)
    run_account(oms.config, oms.account)
    windows = sorted((w["modified_begin"], w["modified_end"]) for w in oms.sandbox.calls_to(ORDERS)
                     if w["page_index"] == 1)  # the last window holds the rest of the World's orders: 3 pages
    edges = [local(start + timedelta(days=n)) for n in (0, 7, 14)]
    assert [low for low, _ in windows] == edges and [high for _, high in windows[:2]] == edges[1:]
    # every order but the one changed before the start, those on the edges once each
    assert set(oms.rows("select o_id from raw_jst_oms.orders")) == {(o_id(o),) for o in orders if o is not orders[3]}
    assert oms.one("select count(*) from raw_jst_oms.orders") == (len(orders) - 1,)
    stock_windows = sorted((w["wms_co_id"], w["modified_begin"]) for w in oms.sandbox.calls_to(INVENTORY)
                           if w["page_index"] == 1)
    assert stock_windows == sorted((house, edge) for house in (CO_ID, CO_ID + 1) for edge in edges)
    assert oms.sandbox.tokens.issued == len(oms.sandbox.log)


def test_an_account_reads_only_its_shops_so_a_shop_read_directly_is_not_counted_twice(make_env: Any) -> None:
    """The OMS routes the orders of two shops; the hub reads tmall_cn directly, so the account lists only
    the other shop's id: every order and after-sales call names it, and only its orders land."""
    oms = make_env(JushuitanEnv, world_shops=(SHOP, DIRECT), shops=[SHOP_ID])
    report = run_account(oms.config, oms.account)
    mine = oms.world.orders_of(SHOP.name)
    assert 0 < len(mine) < len(oms.world.orders) and report.rows["orders"] == len(mine)
    assert {o for (o,) in oms.rows("select o_id from raw_jst_oms.orders")} == {o_id(order) for order in mine}
    assert {call["shop_id"] for path in (ORDERS, REFUNDS) for call in oms.sandbox.calls_to(path)} == {SHOP_ID}


def test_a_refused_refresh_token_or_signature_fails_clearly_and_throttling_is_retried(oms: JushuitanEnv) -> None:
    oms.sandbox.calls = Bucket(size=3, rate=20)  # code 199 in HTTP 200 once the bucket is empty
    oms.sandbox.faults.server_error = 2  # HTTP 502
    report = run_account(oms.config, oms.account)
    assert report.rows["orders"] == len(oms.world.orders)
    assert oms.sandbox.throttled > 0 and oms.sandbox.stats.faults_served["server_error"] == 2

    oms.sandbox.app_secret = "a-secret-rotated-in-the-console"
    with pytest.raises(RunFailed) as failure:
        run_account(oms.config, oms.account)
    message = str(failure.value)
    assert "refused the refresh token: error 100 '签名错误'" in message, message
    oms.sandbox.app_secret, oms.sandbox.tokens.refresh_tokens = SECRET, frozenset({"another-authorisation"})
    with pytest.raises(RunFailed) as failure:
        run_account(oms.config, oms.account)
    message = str(failure.value)
    assert "refused the refresh token: error 104 'refresh_token无效'" in message, message
    assert all(secret not in message for secret in (APP_KEY, SECRET, REFRESH))
    check = connector.check(oms.config.account(oms.account))
    assert not check.ok and "error 104" in check.detail and REFRESH not in check.detail


def test_an_access_token_dropped_before_its_time_is_traded_again_and_a_lasting_refusal_fails_clearly(
        make_env: Any) -> None:
    """Tokens are traded by their announced lifetime; one the platform drops earlier (error 102) is
    forgotten and traded again, once for every thread that met it. An API that keeps refusing fresh tokens
    fails the run, naming the API and Jushuitan's code."""
    oms = make_env(JushuitanEnv, max_attempts=3)
    original, dropped = oms.sandbox.verify, []

    def dropping_once(path: str, form: dict[str, str]) -> None:
        if path == INVENTORY and not dropped:
            dropped.append(form["access_token"])
            oms.sandbox.tokens.expire_all()
        original(path, form)

    oms.sandbox.verify = dropping_once  # type: ignore[method-assign]
    report = run_account(oms.config, oms.account)
    assert report.rows["inventory"] == len(oms.world.stock) and oms.sandbox.tokens.issued == 2

    def always_refused(path: str, form: dict[str, str]) -> None:
        if path == INVENTORY:
            oms.sandbox.tokens.expire_all()
        original(path, form)

    oms.sandbox.verify = always_refused  # type: ignore[method-assign]
    with pytest.raises(RunFailed) as failure:
        run_account(oms.config, oms.account)
    message = str(failure.value)
    assert re.search(r"/open/[a-z/]+/query failed: error 102 'access_token无效或已过期'", message), message
    assert all(secret not in message for secret in (APP_KEY, SECRET, REFRESH))


def test_a_time_not_written_as_wall_clock_quarantines_the_order_naming_the_field(
        oms: JushuitanEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = oms.world.orders[5]
    render = oms.sandbox.render_order
    monkeypatch.setattr(oms.sandbox, "render_order", lambda shop, order: {**render(shop, order), "pay_date": "2026-13-01"}
                        if order is bad else render(shop, order))
    report = run_account(oms.config, oms.account)
    assert report.quarantined == {"orders": 1}
    assert oms.rows(f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"o_id {o_id(bad)}", "pay_date", "'2026-13-01' is not a time 'yyyy-MM-dd HH:mm:ss'")]
    assert oms.rows("select count(*) from raw_jst_oms.orders") == [(len(oms.world.orders) - 1,)]
