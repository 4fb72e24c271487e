"""The JD connector against its sandbox: the shared contract, JD's official Python SDK (``jd-sdk``) as
the outside check, business parameters packed into ``360buy_param_json``, window slicing, errors in
HTTP 200 (gateway and business), masked receivers, and the stock push. (The signature against JOS's
documented example: test_sdk_signing.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import jd
import pytest
from jd.api.base import RestApi

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_push
from connectors.jd import connector
from connectors.sdk import StockLevel
from sandbox.jd import FIRST_ORDER, ORDER_ID, SKU_ID, WARE_ID, JdSandbox, local
from sandbox.world import EPOCH, VARIANTS, ShopSpec, World, WorldSpec

KEY, SECRET, TOKEN = "7A3B9C1D2E4F", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "jd-token-0a1b2c3d4e5f"
SHOP = ShopSpec("jd_pop", "CNY", "Asia/Shanghai", marketplace=True)
SEARCH = "jingdong.pop.order.search"


class JdEnv(WorldSandboxEnv):
    account, connector = SHOP.name, "jd"
    primary_stream = "orders"
    primary_key = "order_id"
    fault_path = "method=jingdong.pop.order"
    marts = f"{ORDER_MARTS} +rpt_stock_availability"
    environment: ClassVar[dict[str, str]] = {"TEST_JD_KEY": KEY, "TEST_JD_SECRET": SECRET, "TEST_JD_TOKEN": TOKEN}

    def __init__(self, tmp_path: Path, records: int = 60, page_size: int = 20, recent: bool = False,
                 **settings: Any) -> None:
        """``recent``: a month of orders ending yesterday, read in week-long windows."""
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(SHOP,),
                                     days=30 if recent else 300))
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=31) if recent else EPOCH
        self.world.shift(start - EPOCH)
        self.sandbox = JdSandbox(self.world, SHOP.name, KEY, SECRET, TOKEN)
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": self.sandbox.base_url, "page_size": page_size,
                                  "window_minutes": 7 * 24 * 60, "start_date": start.isoformat(), **settings},
                       {"app_key": "TEST_JD_KEY", "app_secret": "TEST_JD_SECRET", "access_token": "TEST_JD_TOKEN"})


class JdMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: JdEnv) -> None:
        """Through the connector's conformed models: every order with its payment and refunds (fen made
        yuan), unpaid cancelled orders cancelled, every item resolved to a merchant SKU, every SKU a
        listing. A marketplace has no locations: rpt_stock_availability stocks each listing at the ware
        holding it (what the stock push addresses), its channel quantity the stockNum JD showed."""
        check_order_marts(env, "jd", env.world.orders_of(SHOP.name), env.world.skus, refunded_orders_cancelled=False)
        rows = env.rows("select location_id, inventory_item_id, channel_quantity from marts.rpt_stock_availability "
                        f"where channel_id = '{env.account}'")
        assert sorted(rows) == sorted((str(WARE_ID + sku.index // len(VARIANTS)), str(SKU_ID + sku.index),
                                       env.sandbox.quantities[sku.index]) for sku in env.world.skus)


class TestJdContract(JdMarts, ConnectorContract):
    env_class, env_options = JdEnv, {"recent": True}
    records = 250


class TestJdOnPostgres(JdMarts, PostgresParity):
    env_class, env_options = JdEnv, {"recent": True}
    records = 200


@pytest.fixture
def shop(make_env: Any) -> JdEnv:
    """A small shop of its own (60 orders, pages of 20), for the tests below the contract."""
    return make_env(JdEnv, recent=True)


class OrderSearch(RestApi):
    def __init__(self, domain: str, port: int) -> None:
        super().__init__(domain, port)
        self.start_date = self.end_date = self.order_state = self.page = self.page_size = None

    def getapiname(self) -> str:
        return SEARCH


class UpdateSkuStock(RestApi):
    def __init__(self, domain: str, port: int) -> None:
        super().__init__(domain, port)
        self.skuId = self.stockNum = None

    def getapiname(self) -> str:
        return "jingdong.stock.write.updateSkuStock"


def test_the_official_sdk_searches_orders_and_sets_a_sku_stock(shop: JdEnv) -> None:
    """``jd-sdk`` (JD's official Python SDK: business parameters as one JSON string, md5 over the latin-1
    text, a timestamp with milliseconds and an offset, an absolute request target with a portless Host)
    against the sandbox; a bad argument is refused inside the answer, a wrong secret at the gateway."""
    host, port = shop.sandbox.base_url.removeprefix("http://").split(":")
    jd.setDefaultAppInfo(KEY, SECRET)
    newest = max(o.updated_at for o in shop.world.orders)
    ask = OrderSearch(host, int(port))
    ask.start_date, ask.end_date = local(newest - timedelta(days=10)), local(newest)
    ask.order_state, ask.page, ask.page_size = "WAIT_SELLER_STOCK_OUT,FINISHED_L,TRADE_CANCELED", 1, 100
    result = ask.getResponse(TOKEN)["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
    expected = [o for o in shop.world.orders if newest - timedelta(days=10) <= o.updated_at]
    assert result["apiResult"]["success"] is True and result["orderTotal"] == len(expected) > 0
    assert result["orderInfoList"][0]["orderId"] == str(ORDER_ID + max(expected, key=lambda o: o.updated_at).id
                                                        - FIRST_ORDER)
    ask.page_size = 500
    refused = ask.getResponse(TOKEN)["jingdong_pop_order_search_responce"]["searchorderinfo_result"]["apiResult"]
    assert refused["success"] is False and "page_size" in refused["chineseErrCode"]

    update = UpdateSkuStock(host, int(port))
    update.skuId, update.stockNum = SKU_ID + 5, 17
    assert update.getResponse(TOKEN)["jingdong_stock_write_updateSkuStock_responce"]["success"] is True
    assert shop.sandbox.quantities[5] == 17
    jd.setDefaultAppInfo(KEY, "wrong")
    assert UpdateSkuStock(host, int(port)).getResponse(TOKEN)["error_response"]["code"] == "12"


def test_orders_land_with_exact_money_utc_times_items_and_masked_receivers(shop: JdEnv) -> None:
    assert connector.check(shop.config.account(shop.account)).detail == "24 SKUs"
    report = run_account(shop.config, shop.account)
    assert report.rows == {"orders": 60, "refunds": sum(len(o.refunds) for o in shop.world.orders), "skus": 24}
    order = shop.world.orders[7]
    payment, modified, items, name, mobile = shop.one(
        "select order_payment, modified, (select count(*) from raw_jd_pop.orders__item_info_list i "
        "where i._dlt_parent_id = o._dlt_id), consignee_info__fullname, consignee_info__mobile "
        f"from raw_jd_pop.orders o where order_id = '{ORDER_ID + order.id - FIRST_ORDER}'")
    assert isinstance(payment, Decimal) and payment == order.total and items == len(order.lines)
    assert modified == order.updated_at.replace(microsecond=0) and modified.utcoffset() == timedelta(0)
    assert name.endswith("**") and "****" in mobile  # as JD sent them
    refunds = shop.rows("select order_id, apply_refund_sum from raw_jd_pop.refunds")
    assert sorted(refunds) == sorted((ORDER_ID + o.id - FIRST_ORDER, int(r.amount * 100))
                                     for o in shop.world.orders for r in o.refunds)
    skus = dict(shop.rows("select outer_id, stock_num from raw_jd_pop.skus"))
    assert skus == {sku.code: shop.sandbox.quantities[sku.index] for sku in shop.world.skus}
    searches = shop.sandbox.calls_to(SEARCH)
    packed = json.loads(searches[0]["360buy_param_json"])
    assert packed["dateType"] == "0" and "FINISHED_L" in packed["order_state"] and "page" in packed
    assert {"start_date", "end_date", "page_size", "sortType"} <= set(packed)


def test_a_month_is_read_in_week_windows_losing_no_boundary_order(make_env: Any) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=17, hours=12)
    shop = make_env(JdEnv, start_date=start.isoformat())
    orders = shop.world.orders
    for order, offset in zip(orders[:3], (0, 7, 14), strict=True):
        order.updated_at = start + timedelta(days=offset)  # on the first window's start, then on each edge
    orders[3].updated_at = start - timedelta(seconds=1)
    report = run_account(shop.config, shop.account)
    windows = sorted((json.loads(w["360buy_param_json"])["start_date"], json.loads(w["360buy_param_json"])["end_date"])
                     for w in shop.sandbox.calls_to(SEARCH))
    edges = [local(start + timedelta(days=n)) for n in (0, 7, 14)]
    assert len(windows) == 3 and [low for low, _ in windows] == edges
    assert [high for _, high in windows[:2]] == edges[1:]
    assert set(shop.rows("select order_id from raw_jd_pop.orders")) == {
        (str(ORDER_ID + o.id - FIRST_ORDER),) for o in orders[:3]}
    assert report.rows["orders"] == 3


def test_throttling_is_retried_a_bad_argument_and_an_expired_token_fail_clearly(make_env: Any) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    shop = make_env(JdEnv, start_date=start.isoformat(), window_minutes=30 * 24 * 60)
    shop.sandbox.faults.rate_limit = 3  # code 2 "App Call Limited" in HTTP 200
    report = run_account(shop.config, shop.account)
    assert report.rows["orders"] == sum(o.updated_at >= start for o in shop.world.orders) > 0
    assert shop.sandbox.stats.faults_served["rate_limit"] == 3

    shop.sandbox.access_token = "jd-token-renewed"
    with pytest.raises(RunFailed) as failure:
        run_account(shop.config, shop.account)
    message = str(failure.value)
    assert "failed: error 19 'Token已过期或者不存在" in message, message
    assert TOKEN not in message and SECRET not in message
    check = connector.check(shop.config.account(shop.account))
    assert not check.ok and "jingdong.sku.read.searchSkuList failed: error 19" in check.detail


def test_a_business_error_inside_the_answer_fails_naming_the_method(shop: JdEnv) -> None:
    """JD answers a bad argument inside the method's own answer (apiResult.success = false)."""
    from connectors.jd.client import call, make_client
    from connectors.sdk.gateway import GatewayError

    client = make_client(shop.config.account(shop.account).settings)
    with pytest.raises(GatewayError) as refused:
        call(client, SEARCH, start_date="2026-01-01 00:00:00", end_date="2026-03-01 00:00:00",
             order_state="FINISHED_L")
    assert "jingdong.pop.order.search failed: error 10100001" in str(refused.value)
    assert "end_date must follow start_date by at most 30 days" in str(refused.value)


def test_a_time_not_written_as_wall_clock_quarantines_the_order_naming_the_field(
        shop: JdEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = shop.world.orders[5]
    render = shop.sandbox.render_order
    monkeypatch.setattr(shop.sandbox, "render_order", lambda order: {**render(order), "orderStartTime": "yesterday"}
                        if order is bad else render(order))
    report = run_account(shop.config, shop.account)
    assert report.quarantined == {"orders": 1}
    assert shop.rows(f"select record_key, field from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"orderId {ORDER_ID + bad.id - FIRST_ORDER}", "orderStartTime")]
    assert shop.rows("select count(*) from raw_jd_pop.orders") == [(report.rows["orders"],)]


def test_stock_push_refuses_what_moved_writes_the_rest_one_sku_a_call_and_reads_it_back(shop: JdEnv) -> None:
    held, ware = shop.sandbox.quantities, str(WARE_ID)
    levels = [StockLevel(f"CH-{i}", ware, str(SKU_ID + i), held[i] + 3, expected=held[i]) for i in range(len(VARIANTS))]
    levels.append(StockLevel("CH-X", str(WARE_ID + 1), str(SKU_ID), 1, expected=None))  # not a SKU of that ware
    shop.sandbox.stock.sell(2, 1)
    updates = lambda: shop.sandbox.calls_to("jingdong.stock.write.updateSkuStock")
    check_stock_push(connector.stock_writer(shop.config.account(shop.account)), levels,
                     lambda level: held[int(level.item_id) - SKU_ID], sold=levels[2], sold_to=levels[2].expected - 1,
                     stray=levels[-1], writes=lambda: len(updates()))
    assert len(updates()) == len(VARIANTS) - 1  # one call per SKU written; the sold one refused
