"""The Taobao connector against its sandbox: the shared contract, the official TOP SDK (``taobao-openapi``)
as the outside check, window slicing, error envelopes in HTTP 200, and what lands. (The signature
against Taobao's published example: test_sdk_signing.py, with the SDK's other signing families.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import top
from dlt.sources.helpers.rest_client.redaction import sanitize_url
from top.api.base import RestApi, TopException
from top.api.rest.TradesSoldIncrementGetRequest import TradesSoldIncrementGetRequest

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_push
from connectors.sdk import StockLevel
from connectors.taobao import connector
from connectors.taobao.client import make_client
from sandbox.taobao import NUM_IID, SKU_ID, TID, TaobaoSandbox, local
from sandbox.world import EPOCH, ShopSpec, World, WorldSpec

KEY, SECRET, SESSION = "12345678", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "6100e2a7c0ffee0123456789abcdef"
SHOP = ShopSpec("tmall_cn", "CNY", "Asia/Shanghai", marketplace=True)
INCREMENT = "taobao.trades.sold.increment.get"


class TaobaoEnv(WorldSandboxEnv):
    account, connector = SHOP.name, "taobao"
    primary_stream = "trades"
    primary_key = "tid"
    fault_path = "method=taobao.trade"  # the two trade APIs (one gateway path serves every API)
    marts = ORDER_MARTS
    environment: ClassVar[dict[str, str]] = {"TEST_TOP_KEY": KEY, "TEST_TOP_SECRET": SECRET,
                                             "TEST_TOP_SESSION": SESSION}

    def __init__(self, tmp_path: Path, records: int = 60, page_size: int = 20, recent: bool = False,
                 **settings: Any) -> None:
        """``recent``: a month of trades ending yesterday, so a full load reads 31 one-day windows per
        windowed stream instead of one per day since the World's 2026-01-01."""
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(SHOP,),
                                     days=30 if recent else 300))
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=31) if recent else EPOCH
        self.world.shift(start - EPOCH)
        self.sandbox = TaobaoSandbox(self.world, SHOP.name, KEY, SECRET, SESSION)
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": self.sandbox.base_url, "page_size": page_size,
                                  "start_date": start.isoformat(), **settings},
                       {"app_key": "TEST_TOP_KEY", "app_secret": "TEST_TOP_SECRET", "session": "TEST_TOP_SESSION"})


class TaobaoMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: TaobaoEnv) -> None:
        """Through the connector's conformed models: every trade with its payment and refunds,
        closed-unpaid trades cancelled, every sub-order resolved to a merchant SKU, every SKU a listing."""
        check_order_marts(env, "taobao", env.world.orders_of(SHOP.name), env.world.skus,
                          refunded_orders_cancelled=False)


class TestTaobaoContract(TaobaoMarts, ConnectorContract):
    env_class, env_options = TaobaoEnv, {"recent": True}
    records = 250  # each trade is one fullinfo call per run: 250 keep the module's time down (3 pages of 100)
    scenarios_in_quick_suite = True  # make test's failure scenarios of a signed gateway


class TestTaobaoOnPostgres(TaobaoMarts, PostgresParity):
    env_class, env_options = TaobaoEnv, {"recent": True}
    records = 200


@pytest.fixture
def shop(make_env: Any) -> TaobaoEnv:
    """A small shop of its own (60 trades, pages of 20), for the tests below the contract."""
    return make_env(TaobaoEnv, recent=True)


class QuantityUpdate(RestApi):
    def __init__(self, domain: str, port: int) -> None:
        super().__init__(domain, port)
        self.num_iid = self.sku_id = self.quantity = None

    def getapiname(self) -> str:
        return "taobao.item.quantity.update"


def test_the_official_sdk_reads_trades_and_updates_a_quantity(shop: TaobaoEnv) -> None:
    """``taobao-openapi`` (the official SDK: md5, epoch-ms timestamp, system parameters in the query and
    business ones in a POST form) against the sandbox; a wrong secret and a span over a day are refused."""
    host, port = shop.sandbox.base_url.removeprefix("http://").split(":")
    top.setDefaultAppInfo(KEY, SECRET)
    newest = max(o.updated_at for o in shop.world.orders)
    ask = TradesSoldIncrementGetRequest(host, int(port))
    ask.fields, ask.page_no, ask.page_size, ask.use_has_next = "tid,modified,payment", 1, 100, True
    ask.start_modified, ask.end_modified = local(newest - timedelta(days=1)), local(newest)
    answer = ask.getResponse(SESSION)["trades_sold_increment_get_response"]
    trades = answer["trades"]["trade"]
    assert answer["has_next"] is False and trades[0]["tid"] > 10**18
    assert set(trades[0]) == {"tid", "modified", "payment"}  # the fields asked for
    ask.start_modified = "2026-01-01 00:00:00"
    with pytest.raises(TopException) as too_long:
        ask.getResponse(SESSION)
    assert too_long.value.errorcode == 41

    update = QuantityUpdate(host, int(port))
    update.num_iid, update.sku_id, update.quantity = NUM_IID + 1, SKU_ID + 5, 17
    item = update.getResponse(SESSION)["item_quantity_update_response"]["item"]
    assert shop.sandbox.quantities[5] == 17 and {"sku_id": SKU_ID + 5, "quantity": 17} in [
        {k: s[k] for k in ("sku_id", "quantity")} for s in item["skus"]["sku"]]
    top.setDefaultAppInfo(KEY, "wrong")  # a request reads the app's key and secret when it is made
    with pytest.raises(TopException) as refused:
        QuantityUpdate(host, int(port)).getResponse(SESSION)
    assert refused.value.errorcode == 25


def test_trades_land_with_exact_money_utc_times_and_their_sub_orders(shop: TaobaoEnv) -> None:
    assert connector.check(shop.config.account(shop.account)).detail == "6 items on sale"
    report = run_account(shop.config, shop.account)
    assert report.rows == {"trades": 60, "refunds": sum(len(o.refunds) for o in shop.world.orders),
                           "items": 6, "skus": 24}
    order = shop.world.orders[7]
    payment, modified, lines = shop.one(f"select payment, modified, (select count(*) from raw_tmall_cn.trades__orders"
                                        f" l where l._dlt_parent_id = t._dlt_id) from raw_tmall_cn.trades t "
                                        f"where tid = {TID + order.id}")
    assert isinstance(payment, Decimal) and payment == order.total and lines == len(order.lines)
    assert modified == order.updated_at.replace(microsecond=0) and modified.utcoffset() == timedelta(0)
    skus = dict(shop.rows("select outer_id, quantity from raw_tmall_cn.skus"))
    assert skus == {sku.code: shop.sandbox.quantities[sku.index] for sku in shop.world.skus}

    touched, before = shop.world.touch_orders(0.1), len(shop.sandbox.calls_to(INCREMENT))
    again = run_account(shop.config, shop.account)
    newest = max(o.updated_at for o in shop.world.orders if o not in touched)
    lagging = [o for o in shop.world.orders if o not in touched and o.updated_at >= newest - timedelta(seconds=30)]
    assert again.rows["trades"] == len(touched) + len(lagging)  # the changes, and what the 30 s lag re-reads
    windows = shop.sandbox.calls_to(INCREMENT)[before:]
    assert min(w["start_modified"] for w in windows) == local(newest - timedelta(seconds=30))


def test_the_url_dlt_logs_for_a_signed_call_masks_the_session_and_app_key(shop: TaobaoEnv) -> None:
    """dlt writes every request's URL to its INFO log through ``sanitize_url``; TOP puts the session key
    in the query, under a name dlt did not mask."""
    auth = make_client(shop.config.account(shop.account).settings)["auth"]
    signed = auth(requests.Request("GET", f"{shop.sandbox.base_url}/router/rest", params={"method": "x"}).prepare())
    assert SESSION in signed.url and KEY in signed.url
    logged = sanitize_url(signed.url)
    assert SESSION not in logged and KEY not in logged and "session=***" in logged


def test_a_range_of_two_and_a_half_days_is_read_in_three_windows_losing_no_boundary_trade(make_env: Any) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2, hours=12)
    shop = make_env(TaobaoEnv, start_date=start.isoformat())
    orders = shop.world.orders
    for order, offset in zip(orders[:3], (0, 1, 2), strict=True):
        order.updated_at = start + timedelta(days=offset)  # on the first window's start, then on each edge
    orders[3].updated_at = start - timedelta(seconds=1)
    report = run_account(shop.config, shop.account)
    windows = sorted((w["start_modified"], w["end_modified"]) for w in shop.sandbox.calls_to(INCREMENT))  # concurrent
    edges = [local(start + timedelta(days=n)) for n in range(3)]
    assert len(windows) == 3 and [low for low, _ in windows] == edges
    assert [high for _, high in windows[:2]] == edges[1:]  # each window ends where the next begins
    assert set(shop.rows("select tid from raw_tmall_cn.trades")) == {(TID + o.id,) for o in orders[:3]}
    assert report.rows["trades"] == 3


def test_a_trade_changed_while_its_window_is_paged_shifts_no_other_trade_out_of_the_read(make_env: Any) -> None:
    """Newest first: once page 1 is read, the newest trade changes and leaves the window, and every
    other moves up one place. Paged forwards, trade 29 would slide onto page 1, already read; read as
    page 1, then 3, 2 and 1 again, none is missed."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    shop = make_env(TaobaoEnv, start_date=start.isoformat())
    window = shop.world.orders[:50]
    for n, order in enumerate(window):
        order.updated_at = start + timedelta(seconds=n)
    first = local(start)

    def change_the_newest(params: dict[str, str]) -> None:
        if params["method"] != INCREMENT or params["start_modified"] != first:
            return  # windows are read concurrently: wait for page 1 of the first one
        shop.sandbox.after_listing = None
        window[-1].updated_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)

    shop.sandbox.after_listing = change_the_newest
    report = run_account(shop.config, shop.account)
    assert [w["page_no"] for w in shop.sandbox.calls_to(INCREMENT) if w["start_modified"] == first] == ["1", "3", "2", "1"]
    assert set(shop.rows("select tid from raw_tmall_cn.trades")) == {(TID + o.id,) for o in window}
    assert report.rows["trades"] == 50


def test_throttling_in_a_200_answer_is_paced_and_retried_and_a_bad_session_fails_clearly(make_env: Any) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    shop = make_env(TaobaoEnv, start_date=start.isoformat())
    shop.sandbox.faults.rate_limit = 3  # code 7 "App Call Limited" with its ban in sub_msg, in HTTP 200
    report = run_account(shop.config, shop.account)
    assert report.rows["trades"] == sum(o.updated_at >= start for o in shop.world.orders) > 0
    assert shop.sandbox.stats.faults_served["rate_limit"] == 3 and shop.sandbox.faults.rate_limit == 0
    shop.sandbox.session = "6100another"
    with pytest.raises(RunFailed) as failure:
        run_account(shop.config, shop.account)
    message = str(failure.value)
    assert ".get failed: error 27 'Invalid session'" in message and "invalid-sessionkey" in message, message
    assert SESSION not in message and SECRET not in message
    check = connector.check(shop.config.account(shop.account))
    assert not check.ok and "taobao.items.onsale.get failed: error 27" in check.detail


def test_a_time_not_written_as_wall_clock_quarantines_the_trade_naming_the_field(
        shop: TaobaoEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = shop.world.orders[5]
    render = shop.sandbox.render_trade
    monkeypatch.setattr(shop.sandbox, "render_trade", lambda order: {**render(order), "pay_time": "2026-13-01T25:00"}
                        if order is bad else render(order))
    report = run_account(shop.config, shop.account)
    assert report.quarantined == {"trades": 1}
    assert shop.rows(f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"tid {TID + bad.id}", "pay_time", "'2026-13-01T25:00' is not a time 'yyyy-MM-dd HH:mm:ss'")]
    assert shop.rows(f"select count(*) from raw_tmall_cn.trades where tid = {TID + bad.id}") == [(0,)]
    assert shop.rows("select count(*) from raw_tmall_cn.trades") == [(report.rows["trades"],)]


def test_stock_push_refuses_what_moved_writes_the_rest_and_reads_it_back(shop: TaobaoEnv) -> None:
    """One ``skus.quantity.update`` (type 1: full) per item, after ``item.seller.get`` read its SKUs."""
    held, item = shop.sandbox.quantities, str(NUM_IID)
    levels = [StockLevel(f"CH-{i}", item, str(SKU_ID + i), held[i] + 3, expected=held[i]) for i in range(4)]
    levels.append(StockLevel("CH-X", str(NUM_IID + 1), str(SKU_ID), 1, expected=None))  # not an SKU of that item
    shop.sandbox.stock.sell(2, 1)
    updates = lambda: shop.sandbox.calls_to("taobao.skus.quantity.update")
    check_stock_push(connector.stock_writer(shop.config.account(shop.account)), levels,
                     lambda level: held[int(level.item_id) - SKU_ID], sold=levels[2], sold_to=levels[2].expected - 1,
                     stray=levels[4], writes=lambda: len(updates()))
    assert len(updates()) == 1 and updates()[0]["type"] == "1" and updates()[0]["skuid_quantities"].count(":") == 3
