"""The Pinduoduo connector against its sandbox: the shared contract, a public PDD client (``pddsdk``) as
the outside check, 30-minute windows in UNIX seconds, error envelopes in HTTP 200, and what lands. (The
signature beside the family's other signers: test_sdk_signing.py.)"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from pddsdk.client import Client

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_push
from connectors.pinduoduo import connector
from connectors.pinduoduo.client import make_client
from connectors.sdk import StockLevel
from sandbox.pinduoduo import GOODS_ID, SKU_ID, PinduoduoSandbox, local, order_sn
from sandbox.world import EPOCH, ShopSpec, World, WorldSpec

CLIENT_ID, SECRET = "8d2f6c0a9b1e4f37a5c6d7e8f9012345", "5f0e1d2c3b4a59687766554433221100ffeeddcc"
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
SHOP = ShopSpec("pdd_cn", "CNY", "Asia/Shanghai", marketplace=True)
INCREMENT, UPDATE = "pdd.order.number.list.increment.get", "pdd.goods.quantity.update"


def epoch(when: datetime) -> str:
    return str(int(when.timestamp()))


class PinduoduoEnv(WorldSandboxEnv):
    account, connector = SHOP.name, "pinduoduo"
    primary_stream = "orders"
    primary_key = "order_sn"
    fault_path = "method=pdd.order"  # the order increment API (one gateway path serves every API)
    marts = ORDER_MARTS
    environment: ClassVar[dict[str, str]] = {"TEST_PDD_CLIENT_ID": CLIENT_ID, "TEST_PDD_SECRET": SECRET,
                                             "TEST_PDD_TOKEN": TOKEN}

    def __init__(self, tmp_path: Path, records: int = 60, page_size: int = 20, **settings: Any) -> None:
        """A day of orders starting two days ago (updates run up to ten hours later), read from that start
        unless ``start_date`` says otherwise: 30-minute windows make a longer history cost 48 listing
        calls a day per windowed stream."""
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(SHOP,), days=1))
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        self.world.shift(self.start - EPOCH)
        self.sandbox = PinduoduoSandbox(self.world, SHOP.name, CLIENT_ID, SECRET, TOKEN)
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": self.sandbox.base_url, "page_size": page_size,
                                  "start_date": self.start.isoformat(), **settings},
                       {"client_id": "TEST_PDD_CLIENT_ID", "client_secret": "TEST_PDD_SECRET",
                        "access_token": "TEST_PDD_TOKEN"})

    def fetched(self) -> int:
        """Orders come whole from the increment listing: what it served is what was fetched."""
        return self.sandbox.stats.records_served["orders_listed"]


class PinduoduoMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: PinduoduoEnv) -> None:
        """Through the connector's conformed models: every order with its payment and refunds, unpaid
        orders cancelled (a refund in full leaves an order refunded, not cancelled), every item resolved
        to a merchant SKU, every SKU a listing."""
        orders = env.world.orders_of(SHOP.name)
        check_order_marts(env, "pinduoduo", orders, env.world.skus, refunded_orders_cancelled=False)
        statuses = env.rows("select source_financial_status, source_fulfillment_status, count(*) "
                            "from intermediate.int_pinduoduo__orders group by 1, 2")
        assert Counter({(financial, fulfilled): n for financial, fulfilled, n in statuses}) == Counter(
            (o.financial_status, o.fulfillment_status) for o in orders)
        refunded = Counter(line_id for o in orders for r in o.refunds for line_id, _ in r.lines)
        waiting = [line for o in orders if o.financial_status not in ("pending", "voided")
                   and o.fulfillment_status is None for line in o.lines]
        assert env.one("select sum(open_quantity) from intermediate.int_pinduoduo__order_lines") == (
            sum(max(line.quantity - refunded[line.id], 0) for line in waiting),)


class TestPinduoduoContract(PinduoduoMarts, ConnectorContract):
    env_class = PinduoduoEnv
    records = 200  # two days of 30-minute windows per run: 200 orders keep the module's time down


class TestPinduoduoOnPostgres(PinduoduoMarts, PostgresParity):
    env_class = PinduoduoEnv
    records = 200


@pytest.fixture
def shop(make_env: Any) -> PinduoduoEnv:
    """A small shop of its own (60 orders, pages of 20), for the tests below the contract."""
    return make_env(PinduoduoEnv)


def test_a_public_pdd_client_reads_orders_and_updates_a_quantity(shop: PinduoduoEnv) -> None:
    """``pddsdk`` (every parameter in a POST form, md5, a millisecond timestamp) against the sandbox; a span
    over 30 minutes and a wrong secret are refused in PDD's envelope."""
    client = Client(CLIENT_ID, SECRET, url=f"{shop.sandbox.base_url}/api/router")
    newest = max(o.updated_at for o in shop.world.orders)
    ask = {"type": INCREMENT, "access_token": TOKEN, "is_lucky_flag": 0, "order_status": 5, "refund_status": 5,
           "page": 1, "page_size": 100, "start_updated_at": epoch(newest - timedelta(minutes=30)),
           "end_updated_at": epoch(newest)}
    answer = client.call(ask)["order_sn_increment_get_response"]
    listed = answer["order_sn_list"]
    assert answer["total_count"] == len(listed) > 0
    assert listed[0]["updated_at"] == local(newest)  # newest first
    assert listed[0]["item_list"][0]["sku_id"] > 10**12 and listed[0]["order_sn"][6] == "-"
    too_long = client.call({**ask, "start_updated_at": epoch(newest - timedelta(minutes=31))})["error_response"]
    assert (too_long["error_code"], too_long["error_msg"]) == (10000, "参数错误")

    update = {"type": UPDATE, "access_token": TOKEN, "goods_id": GOODS_ID + 1, "sku_id": SKU_ID + 5, "quantity": 17,
              "update_type": 1}
    assert client.call(update)["goods_quantity_update_response"]["is_success"] is True
    assert shop.sandbox.quantities[5] == 17
    refused = Client(CLIENT_ID, "wrong", url=f"{shop.sandbox.base_url}/api/router").call(update)["error_response"]
    assert refused["error_code"] == 20004


def test_orders_land_with_exact_money_utc_times_their_items_and_the_receivers_as_pdd_masks_them(
        shop: PinduoduoEnv) -> None:
    assert connector.check(shop.config.account(shop.account)).detail == "6 goods listed"
    report = run_account(shop.config, shop.account)
    refunds = [(o, r) for o in shop.world.orders for r in o.refunds]
    assert report.rows == {"orders": 60, "refunds": len(refunds), "skus": 24}
    order = shop.world.orders[7]
    sn = order_sn(order)
    pay, goods, updated, items = shop.one(
        "select pay_amount, goods_amount, updated_at, (select count(*) from raw_pdd_cn.orders__item_list i "
        f"where i._dlt_parent_id = o._dlt_id and i.order_sn = o.order_sn) from raw_pdd_cn.orders o where order_sn = '{sn}'")
    assert isinstance(pay, Decimal) and pay == order.total and goods == order.subtotal and items == len(order.lines)
    assert updated == order.updated_at.replace(microsecond=0) and updated.utcoffset() == timedelta(0)
    prices = shop.rows(f"select sku_id, goods_price from raw_pdd_cn.orders__item_list where order_sn = '{sn}'")
    assert sorted(prices) == sorted((SKU_ID + line.sku.index, line.unit_price) for line in order.lines)
    name, name_mask, phone_mask = shop.one("select receiver_name, receiver_name_mask, receiver_phone_mask "
                                           f"from raw_pdd_cn.orders where order_sn = '{sn}'")
    rendered = shop.sandbox.render_order(order)
    assert (name, name_mask, phone_mask) == (rendered["receiver_name"], rendered["receiver_name_mask"],
                                             rendered["receiver_phone_mask"])
    assert name.startswith("~AgAAAA") and name.endswith("~") and name_mask.endswith("**")
    assert phone_mask[3:7] == "****"
    landed = dict(shop.rows("select order_sn, refund_amount from raw_pdd_cn.refunds"))
    assert landed == {order_sn(o): int(r.amount * 100) for o, r in refunds}  # whole fen, as sent (marts: yuan)
    skus = dict(shop.rows("select outer_id, sku_quantity from raw_pdd_cn.skus"))
    assert skus == {sku.code: shop.sandbox.quantities[sku.index] for sku in shop.world.skus}

    touched, before = shop.world.touch_orders(0.1), len(shop.sandbox.calls_to(INCREMENT))
    again = run_account(shop.config, shop.account)
    newest = max(o.updated_at for o in shop.world.orders if o not in touched)
    lagging = [o for o in shop.world.orders if o not in touched and o.updated_at >= newest - timedelta(minutes=3)]
    assert again.rows["orders"] == len(touched) + len(lagging)  # the changes, and what the 3-minute lag re-reads
    windows = shop.sandbox.calls_to(INCREMENT)[before:]
    assert min(int(w["start_updated_at"]) for w in windows) == int(newest.timestamp()) - 180


def test_the_url_dlt_logs_for_a_signed_call_masks_the_access_token_and_client_id(shop: PinduoduoEnv) -> None:
    """dlt writes every request's URL to its INFO log through ``sanitize_url``; PDD puts the shop's token
    and the app's id in the query."""
    auth = make_client(shop.config.account(shop.account).settings)["auth"]
    signed = auth(requests.Request("GET", f"{shop.sandbox.base_url}/api/router", params={"type": "x"}).prepare())
    assert TOKEN in signed.url and CLIENT_ID in signed.url and "timestamp=" in signed.url
    logged = sanitize_url(signed.url)
    assert TOKEN not in logged and CLIENT_ID not in logged and "access_token=***" in logged and "sign=***" in logged


def test_ninety_minutes_are_read_in_three_windows_of_unix_seconds_losing_no_boundary_order(make_env: Any) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=80)
    shop = make_env(PinduoduoEnv, start_date=start.isoformat())
    orders = shop.world.orders
    for order, offset in zip(orders[:3], (0, 30, 60), strict=True):
        order.updated_at = start + timedelta(minutes=offset)  # on the first window's start, then on each edge
    orders[3].updated_at = start - timedelta(seconds=1)
    report = run_account(shop.config, shop.account)
    calls = shop.sandbox.calls_to(INCREMENT)
    assert all(len(call[name]) == 10 and call[name].isdigit()  # UNIX seconds, bounds and stamp alike
               for call in calls for name in ("start_updated_at", "end_updated_at", "timestamp"))
    windows = sorted((int(w["start_updated_at"]), int(w["end_updated_at"])) for w in calls)
    edges = [int((start + timedelta(minutes=n)).timestamp()) for n in (0, 30, 60)]
    assert len(windows) == 3 and [low for low, _ in windows] == edges
    assert [high for _, high in windows[:2]] == edges[1:]  # each window ends where the next begins
    assert windows[2][1] - windows[2][0] <= 30 * 60
    assert set(shop.rows("select order_sn from raw_pdd_cn.orders")) == {(order_sn(o),) for o in orders[:3]}
    assert report.rows["orders"] == 3


def test_an_order_changed_while_its_window_is_paged_shifts_no_other_order_out_of_the_read(make_env: Any) -> None:
    """Newest first: once page 1 is read, the newest order changes and leaves the window, and every other
    moves up one place. Paged forwards, order 29 would slide onto page 1, already read; read as page 1,
    then 3, 2 and 1 again, none is missed."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)
    shop = make_env(PinduoduoEnv, start_date=start.isoformat())
    window = shop.world.orders[:50]
    for n, order in enumerate(window):
        order.updated_at = start + timedelta(seconds=n)
    first = epoch(start)

    def change_the_newest(params: dict[str, str]) -> None:
        if params["type"] != INCREMENT or params["start_updated_at"] != first:
            return  # windows are read concurrently: wait for page 1 of the first one
        shop.sandbox.after_listing = None
        window[-1].updated_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)

    shop.sandbox.after_listing = change_the_newest
    report = run_account(shop.config, shop.account)
    assert [w["page"] for w in shop.sandbox.calls_to(INCREMENT) if w["start_updated_at"] == first] == ["1", "3", "2", "1"]
    assert set(shop.rows("select order_sn from raw_pdd_cn.orders")) == {(order_sn(o),) for o in window}
    assert report.rows["orders"] == 50


def test_throttling_in_a_200_answer_is_retried_and_an_expired_token_fails_clearly(shop: PinduoduoEnv) -> None:
    shop.sandbox.faults.rate_limit = 3  # error_code 70031 in HTTP 200
    report = run_account(shop.config, shop.account)
    assert report.rows["orders"] == len(shop.world.orders)
    assert shop.sandbox.stats.faults_served["rate_limit"] == 3 and shop.sandbox.faults.rate_limit == 0
    shop.sandbox.access_token = "a-token-pdd-issued-later"
    with pytest.raises(RunFailed) as failure:
        run_account(shop.config, shop.account)
    message = str(failure.value)
    assert re.search(r"pdd\.[a-z.]+\.get failed: error 10019 'access_token已过期'", message), message
    assert TOKEN not in message and SECRET not in message and CLIENT_ID not in message
    check = connector.check(shop.config.account(shop.account))
    assert not check.ok and "pdd.goods.list.get failed: error 10019" in check.detail
    assert TOKEN not in check.detail and SECRET not in check.detail


def test_a_time_not_written_as_wall_clock_quarantines_the_order_naming_the_field(
        shop: PinduoduoEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = shop.world.orders[5]
    render = shop.sandbox.render_order
    monkeypatch.setattr(shop.sandbox, "render_order", lambda order: {**render(order), "pay_time": "2026-13-01T25:00"}
                        if order is bad else render(order))
    report = run_account(shop.config, shop.account)
    assert report.quarantined == {"orders": 1}
    assert shop.rows(f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"order_sn {order_sn(bad)}", "pay_time", "'2026-13-01T25:00' is not a time 'yyyy-MM-dd HH:mm:ss'")]
    assert shop.rows(f"select count(*) from raw_pdd_cn.orders where order_sn = '{order_sn(bad)}'") == [(0,)]
    assert shop.rows("select count(*) from raw_pdd_cn.orders") == [(report.rows["orders"],)]


def test_stock_push_refuses_what_moved_writes_the_rest_one_sku_a_call_and_reads_it_back(shop: PinduoduoEnv) -> None:
    """One ``goods.quantity.update`` (update_type 1: full) per SKU, between two ``goods.detail.get`` reads."""
    held, goods = shop.sandbox.quantities, str(GOODS_ID)
    levels = [StockLevel(f"CH-{i}", goods, str(SKU_ID + i), held[i] + 3, expected=held[i]) for i in range(4)]
    levels.append(StockLevel("CH-X", str(GOODS_ID + 1), str(SKU_ID), 1, expected=None))  # not an SKU of that goods
    shop.sandbox.stock.sell(2, 1)
    updates = lambda: shop.sandbox.calls_to(UPDATE)
    check_stock_push(connector.stock_writer(shop.config.account(shop.account)), levels,
                     lambda level: held[int(level.item_id) - SKU_ID], sold=levels[2], sold_to=levels[2].expected - 1,
                     stray=levels[4], writes=lambda: len(updates()))
    assert [(u["sku_id"], u["update_type"]) for u in updates()] == [(str(SKU_ID + i), "1") for i in (0, 1, 3)]
