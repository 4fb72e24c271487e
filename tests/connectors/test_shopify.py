"""The Shopify connector against an in-process ShopifySandbox: the shared contract plus what is
specific to Shopify (request params, leaky-bucket pacing, stock pushes, money and time types)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import sqlalchemy as sa

from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv, count_rows, snapshot
from connectors.sdk import SourceDataError, StockLevel
from connectors.shopify import connector
from connectors.shopify.convert import Converter
from connectors.shopify.stock import ShopifyStockWriter
from sandbox.kit import Bucket
from sandbox.shopify import ShopifySandbox
from sandbox.world import ShopSpec, World, WorldSpec
from warehouse import Warehouse

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
TOKEN_ENV = "CHANNELHUB_TEST_SHOPIFY_TOKEN"
SHOP = ShopSpec("shop_us", "USD", "America/New_York")
FAST_LEAK = 200.0  # bucket leak per second in tests: real throttling, negligible waits


@pytest.fixture(autouse=True)
def shopify_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


class ShopifyEnv(WorldSandboxEnv):
    account = "shop_us"
    environment: ClassVar[dict[str, str]] = {TOKEN_ENV: TOKEN}
    primary_stream = "orders"
    primary_key = "id"
    fault_path = "/orders.json"

    def __init__(self, tmp_path: Path, records: int, page_size: int, *, bucket_size: int = 40,
                 leak_rate: float = FAST_LEAK, token: str = TOKEN, skus: int = 24, **settings: Any) -> None:
        self.world = World(WorldSpec(orders=records, skus=skus, customers=50, shops=(SHOP,)))
        self.sandbox = ShopifySandbox(self.world, SHOP.name, access_token=token, bucket_size=bucket_size,
                                      leak_rate=leak_rate)
        self.sandbox.retry_after = 0.05
        self.sandbox.faults.stall_seconds = 1.0
        self.sandbox.serve()
        self.config = HubConfig.model_validate({
            "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
            "accounts": {self.account: {
                "connector": "shopify",
                "settings": {"base_url": self.sandbox.base_url, "page_size": page_size,
                             "calls_per_second": leak_rate, "max_wait_seconds": 0.2,
                             "start_date": "2025-01-01T00:00:00Z", **settings},
                "secrets": {"access_token": {"env": TOKEN_ENV}},
            }},
        })

    def source_count(self) -> int:
        return len(self.sandbox.orders())

    # -- helpers for the Shopify tests --------------------------------------------------------------
    def requests_to(self, resource: str) -> list[tuple[dict[str, str], int]]:
        return [(args, status) for path, args, status in self.sandbox.log if path.endswith(f"/{resource}.json")]

    def query(self, sql: str) -> list[tuple]:
        with Warehouse(self.config.warehouse_url).engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]


class TestShopifyContract(ConnectorContract):
    env_class = ShopifyEnv
    scenarios_in_quick_suite = True
    shared_records = 1_000  # one load path of each kind meets the full 1,000 sharing one cursor value


class TestShopifyOnPostgres(PostgresParity):
    env_class = ShopifyEnv
    in_quick_suite = True  # make test's PostgreSQL parity of REST pages as Arrow tables


@pytest.fixture
def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    envs: list[ShopifyEnv] = []

    def build(records: int = 300, page_size: int = 50, **kwargs: Any) -> ShopifyEnv:
        envs.append(ShopifyEnv(tmp_path, records, page_size, **kwargs))
        return envs[-1]

    yield build
    for env in envs:
        env.close()


def test_first_page_filters_then_only_page_info_and_limit(make) -> None:
    env = make(records=300, page_size=50)
    run_account(env.config, env.account)
    calls = env.requests_to("orders")
    first, rest = calls[0][0], [args for args, _ in calls[1:]]
    assert first == {"limit": "50", "status": "any", "order": "updated_at asc",
                     "updated_at_min": "2025-01-01T00:00:00+00:00"}
    assert len(rest) == 5 and all(set(args) == {"limit", "page_info"} for args in rest), rest
    assert all(status == 200 for _, status in calls)
    # the next run starts the declared lag behind the newest updated_at loaded
    newest = max(order.updated_at for order in env.world.orders)
    run_account(env.config, env.account)
    second = env.requests_to("orders")[len(calls)][0]
    lag = connector.stream("orders").cursor.lag
    assert lag > 0 and datetime.fromisoformat(second["updated_at_min"]) == newest - timedelta(seconds=lag)


def test_pacing_keeps_a_real_bucket_from_overflowing(make) -> None:
    env = make(records=300, page_size=10, bucket_size=8, leak_rate=40.0)
    run_account(env.config, env.account)
    statuses = [status for _, _, status in env.sandbox.log]
    assert len(statuses) > 3 * 8  # far more calls than the bucket holds
    assert 429 not in statuses
    assert count_rows(env) == 300
    # the bucket is real: an unpaced burst overflows it (at Shopify's own 2 calls/s leak, so a slow
    # machine's burst still outruns it)
    env.sandbox.bucket.rate = 2.0
    headers = {"X-Shopify-Access-Token": TOKEN}
    burst = [requests.get(f"{env.sandbox.base_url}/admin/api/2024-07/shop.json", headers=headers).status_code
             for _ in range(30)]
    assert 429 in burst


def test_rate_limit_answers_are_retried_after_retry_after(make) -> None:
    env = make(records=120, page_size=50)
    env.inject("rate_limit", 4)
    run_account(env.config, env.account)
    assert env.sandbox.stats.faults_served["rate_limit"] == 4
    assert count_rows(env) == 120


def test_timeout_is_retried(make) -> None:
    env = make(records=120, page_size=50, timeout_seconds=0.3)
    env.inject("timeout", 1)
    run_account(env.config, env.account)
    assert env.sandbox.stats.faults_served["timeout"] == 1
    assert count_rows(env) == 120


def test_malformed_page_in_the_middle_of_an_incremental_run_loses_nothing(make, monkeypatch) -> None:
    env = make(records=400, page_size=20)
    run_account(env.config, env.account)
    loaded = snapshot(env)
    env.change(0.3)  # 120 changed orders: 6+ pages
    served = env.sandbox.count_records
    pages: list[int] = []

    def break_third_page(stream: str, n: int) -> None:
        served(stream, n)
        if stream == "orders":
            pages.append(n)
            if len(pages) == 3:
                env.sandbox.faults.malformed = 1

    monkeypatch.setattr(env.sandbox, "count_records", break_third_page)
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, env.account)
    assert "'orders'" in str(failure.value) and "page 3" in str(failure.value)
    assert snapshot(env) == loaded
    run_account(env.config, env.account)
    fulfilled = env.query("select count(*) from raw_shop_us.orders where fulfillment_status = 'fulfilled'")[0][0]
    assert fulfilled == sum(o.fulfillment_status == "fulfilled" for o in env.world.orders)
    assert count_rows(env) == 400


def test_money_is_exact_decimal_and_times_are_utc(make) -> None:
    env = make(records=200, page_size=100)
    run_account(env.config, env.account)
    order = max(env.world.orders, key=lambda o: len(o.lines))
    total, updated, line_price = env.query(
        f"select o.total_price, o.updated_at, l.price from raw_shop_us.orders o "
        f"join raw_shop_us.orders__line_items l on l.order_id = o.id "
        f"where o.id = {order.id} and l.id = {order.lines[0].id}")[0]
    assert isinstance(total, Decimal) and total == order.total
    assert isinstance(line_price, Decimal) and line_price == order.lines[0].unit_price
    assert updated.utcoffset() is not None and updated == order.updated_at
    types = dict(env.query("select column_name, data_type from information_schema.columns "
                           "where table_schema = 'raw_shop_us' and table_name = 'orders'"))
    assert types["total_price"].startswith("DECIMAL") and types["currency"] == "VARCHAR"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    refund = next(o for o in env.world.orders if o.refunds).refunds[0]
    amount, refunded_at = env.query(f"select amount, created_at from raw_shop_us.orders__refunds__transactions "
                                    f"where refund_id = {refund.id}")[0]
    assert isinstance(amount, Decimal) and amount == refund.amount
    assert refunded_at.utcoffset() is not None and refunded_at == refund.created_at


def test_a_token_without_read_products_loads_the_streams_its_account_chose(make) -> None:
    """Shopify answers 403 outside a token's scopes. Such an account lists the streams its token may
    read under ``streams:`` and loads exactly those; without the list, check and run name the gap."""
    env = make(records=60, page_size=50)
    env.sandbox.scopes = tuple(scope for scope in env.sandbox.scopes if scope != "read_products")
    everything = env.config.account(env.account)
    result = everything.connector.check(everything)
    assert not result.ok and "read_products" in result.detail, result.detail
    with pytest.raises(RunFailed, match="products"):
        run_account(env.config, env.account)

    raw = env.config.model_dump()
    raw["accounts"][env.account]["streams"] = ["orders", "customers", "locations", "inventory_levels"]
    chosen = HubConfig.model_validate(raw)
    account = chosen.account(env.account)
    assert account.connector.check(account).ok
    requests_before = len(env.sandbox.log)
    report = run_account(chosen, env.account)
    assert report.rows["orders"] == 60 and "products" not in report.rows
    assert all(status == 200 for _, _, status in env.sandbox.log[requests_before:])
    tables = {row[0] for row in env.query(
        "select table_name from information_schema.tables where table_schema = 'raw_shop_us'")}
    assert {"orders", "customers", "locations", "inventory_levels"} <= tables
    assert not tables & {"products", "inventory_items"}
    logged = env.query(f"select distinct stream from ops.run_log where run_id = '{report.run_id}' and stream <> '*'")
    assert sorted(row[0] for row in logged) == ["customers", "inventory_levels", "locations", "orders"]


@pytest.mark.reliability
@pytest.mark.parametrize("warehouse", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_bad_records_are_quarantined_naming_the_field_and_the_rest_loads(make, monkeypatch, request,
                                                                         warehouse: str) -> None:
    """Poisoned records are quarantined; the rest loads.

    No key, an unparsable key, a required field missing, money or a quantity that is not one: each record
    is set aside in ops.quarantine naming account, stream, record and field; the other orders load, and
    once the shop fixes them (a new updated_at) the next run loads them."""
    if warehouse == "postgres":
        monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", request.getfixturevalue("postgres_url"))
    env = make(records=60, page_size=50)
    render = env.sandbox.render_order
    damage = {  # order -> (what the shop sends wrong, the field named)
        env.world.orders[3].id: (lambda o: o.update(id=None, note=f"token {TOKEN}"), "id"),  # a secret in it
        env.world.orders[7].id: (lambda o: o.update(id="abc"), "id"),
        env.world.orders[10].id: (lambda o: o["line_items"][0].update(price="12,50"), "line_items[0].price"),
        env.world.orders[20].id: (lambda o: o.pop("currency"), "currency"),
        env.world.orders[30].id: (lambda o: o.update(total_price=None), "total_price"),
        env.world.orders[55].id: (lambda o: o["line_items"][0].update(quantity="two"), "line_items[0].quantity"),
    }

    def corrupt(order):
        rendered = render(order)
        if order.id in damage:
            damage[order.id][0](rendered)
        return rendered

    listing = env.sandbox.listings["orders"]
    monkeypatch.setitem(env.sandbox.listings, "orders", replace(listing, render=corrupt))
    report = run_account(env.config, env.account)
    assert report.quarantined == {"orders": len(damage)} and report.rows["orders"] == 60 - len(damage)
    set_aside = env.query(f"select field, reason from ops.quarantine where run_id = '{report.run_id}' "
                          "and account = 'shop_us' and stream = 'orders'")
    assert sorted(field for field, _ in set_aside) == sorted(field for _, field in damage.values())
    assert "'12,50' is not a money amount" in {reason for _, reason in set_aside}
    excerpts = [excerpt for (excerpt,) in env.query("select excerpt from ops.quarantine")]
    assert any("token ***" in excerpt for excerpt in excerpts) and not any(TOKEN in e for e in excerpts)
    loaded = {row[0] for row in env.query("select id from raw_shop_us.orders")}
    assert loaded == {order.id for order in env.world.orders} - set(damage)
    assert env.query("select count(*) from information_schema.columns where table_schema = 'raw_shop_us' "
                     "and position('__v_' in column_name) > 0") == [(0,)]  # no variant column for a declared field

    monkeypatch.setitem(env.sandbox.listings, "orders", listing)
    now = env.world.tick()
    for order in env.world.orders:
        if order.id in damage:
            order.updated_at = now
    report = run_account(env.config, env.account)
    assert report.quarantined == {} and count_rows(env) == 60


def test_converter_rejects_naive_times() -> None:
    converter = Converter("acct", "orders")
    with pytest.raises(SourceDataError) as naive:
        converter.record({"id": 8, "updated_at": "2026-01-01T00:00:00", "total_price": "1.00"})
    assert naive.value.field == "updated_at"
    converted = converter.record({"id": 9, "updated_at": "2026-05-01T10:00:00-04:00", "total_price": "40.10",
                                  "refunds": [{"transactions": [{"amount": "0.10"}]}]})
    assert converted["updated_at"] == datetime(2026, 5, 1, 14, tzinfo=UTC)
    assert converted["total_price"] == Decimal("40.10")
    assert converted["refunds"][0]["transactions"][0]["amount"] == Decimal("0.10")


def test_deleted_orders_are_removed_with_their_lines(make) -> None:
    env = make(records=100, page_size=50)
    run_account(env.config, env.account)
    victim = env.world.orders[5]
    env.world.tick()
    env.sandbox.delete_order(victim.id)
    run_account(env.config, env.account)
    assert env.query(f"select count(*) from raw_shop_us.orders where id = {victim.id}")[0][0] == 0
    assert env.query(f"select count(*) from raw_shop_us.orders__line_items where id = {victim.lines[0].id}"
                     )[0][0] == 0
    assert count_rows(env) == 99 == env.source_count()
    events = env.requests_to("events")
    assert events[-1][0]["filter"] == "Order" and events[-1][0]["verb"] == "destroy"


def test_child_rows_are_replaced_with_their_order_and_carry_its_load(make, monkeypatch) -> None:
    """Line items are split from their order by the connector, keyed by ``order_id``: a load of a changed
    order replaces all its child rows (a line removed at the source vanishes) and stamps them with the
    order's load id, so incremental models read them by load."""
    env = make(records=60, page_size=50)
    run_account(env.config, env.account)
    touched = env.world.touch_orders(0.2)
    order = next(o for o in touched if len(o.lines) > 1)
    render = env.sandbox.render_order

    def drop_first_line(rendered_order):
        rendered = render(rendered_order)
        if rendered_order.id == order.id:
            rendered["line_items"] = rendered["line_items"][1:]
        return rendered

    monkeypatch.setitem(env.sandbox.listings, "orders", replace(env.sandbox.listings["orders"], render=drop_first_line))
    run_account(env.config, env.account)
    lines = env.query(f"select id from raw_shop_us.orders__line_items where order_id = {order.id} order by id")
    assert [row[0] for row in lines] == sorted(line.id for line in order.lines[1:])
    rows = env.query("select orders._dlt_load_id, lines._dlt_load_id from raw_shop_us.orders as orders "
                     "join raw_shop_us.orders__line_items as lines on lines.order_id = orders.id")
    newest = max(load for load, _ in rows)
    assert len([load for load, _ in rows if load == newest]) >= len(touched) > 0
    assert all(line == load for load, line in rows)
    assert env.query("select count(*) from raw_shop_us.orders__line_items")[0][0] == \
        sum(len(o.lines) for o in env.world.orders) - 1


def stock_levels(env: ShopifyEnv, target: Callable[[int], int], warehouse: str = "01") -> list[StockLevel]:
    """One level per SKU of the env's world, expecting what the sandbox holds, set to ``target(held)``."""
    location = env.sandbox.location_id(warehouse)
    levels = []
    for sku in env.world.skus:
        item = env.sandbox.inventory_item_id(sku)
        held = env.sandbox.available(item, location)
        levels.append(StockLevel(sku.code, str(location), str(item), target(held), expected=held))
    return levels


def test_stock_writer_sets_levels_in_compare_and_set_batches_then_reports(make) -> None:
    env = make(records=20, page_size=50, skus=260)
    account = env.config.account(env.account)
    levels = stock_levels(env, lambda held: held + 3)
    levels.append(StockLevel("CH-UNKNOWN", levels[0].location_id, "999", 5, expected=0))
    results = account.connector.stock_writer(account).push(levels, reference="channelhub://stock-sync/t")
    assert [r.ok for r in results] == [True] * 260 + [False]
    assert "INVALID_INVENTORY_ITEM" in results[-1].detail
    sent = [call["variables"]["input"] for call in env.sandbox.graphql_calls]
    assert [len(i["quantities"]) for i in sent] == [250, 11, 10]  # a rejected quantity is dropped, the rest resent
    assert sent[0]["quantities"][0] == {
        "inventoryItemId": f"gid://shopify/InventoryItem/{levels[0].item_id}",
        "locationId": f"gid://shopify/Location/{levels[0].location_id}",
        "quantity": levels[0].available, "compareQuantity": levels[0].expected}
    assert sent[0]["reason"] == "correction" and sent[0]["referenceDocumentUri"] == "channelhub://stock-sync/t"
    assert all(env.sandbox.available(int(lv.item_id), int(lv.location_id)) == lv.available for lv in levels[:-1])
    env.world.tick()
    run_account(env.config, env.account)
    item, location = levels[3].item_id, levels[3].location_id
    assert env.query(f"select available from raw_shop_us.inventory_levels where inventory_item_id = {item} "
                     f"and location_id = {location}") == [(levels[3].available,)]


def test_stock_writer_settles_lost_answers_and_reports_stale_levels(make) -> None:
    env = make(records=20, page_size=50, skus=8)
    account = env.config.account(env.account)
    levels = stock_levels(env, lambda held: held + 2)
    env.sandbox.faults.malformed, env.sandbox.faults.path_contains = 1, "/graphql.json"
    writer = account.connector.stock_writer(account)
    first = writer.push(levels)  # lands on the shop, but its answer is cut in half
    assert not any(r.ok for r in first) and "unreadable answer" in first[0].detail
    moved = levels[1]
    requests.post(f"{env.sandbox.base_url}/admin/api/2024-07/inventory_levels/set.json",
                  headers={"X-Shopify-Access-Token": TOKEN}, timeout=10,
                  json={"inventory_item_id": int(moved.item_id), "location_id": int(moved.location_id),
                        "available": 999})  # a merchant edit before we retry
    second = writer.push(levels)  # the same expectations again
    assert [r.ok for r in second] == [True, False] + [True] * 6
    assert second[0].detail == "already at target (an earlier attempt landed)"
    assert second[1].stale and second[1].actual == 999 and "holds 999" in second[1].detail
    assert env.sandbox.available(int(moved.item_id), int(moved.location_id)) == 999
    applied = [(c.inventory_item_id, c.location_id) for c in env.sandbox.inventory_changes]
    assert len(applied) == len(set(applied)) == 8  # each level set once, by the first push only


def test_stock_writer_paces_on_the_cost_bucket_and_waits_out_throttles(make) -> None:
    env = make(records=20, page_size=50, skus=40)
    env.sandbox.cost_bucket = Bucket(size=30, rate=200.0)
    account = env.config.account(env.account)
    writer = ShopifyStockWriter(account.settings, batch_size=5)
    results = writer.push(stock_levels(env, lambda held: held + 1))
    assert all(r.ok for r in results) and len(env.sandbox.graphql_calls) == 8
    assert env.sandbox.throttled_calls == 0 and writer.pacer.slept > 0  # paced before a throttle happened
    env.sandbox.faults.rate_limit, env.sandbox.faults.path_contains = 2, "/graphql.json"
    results = writer.push(stock_levels(env, lambda held: held + 1)[:5])
    assert all(r.ok for r in results) and env.sandbox.stats.faults_served["rate_limit"] == 2
    env.sandbox.faults.server_error = account.settings.max_attempts  # every attempt fails: nothing applied
    before = len(env.sandbox.inventory_changes)
    results = writer.push(stock_levels(env, lambda held: held + 1)[:5])
    assert not any(r.ok for r in results) and "HTTP 500" in results[0].detail
    assert len(env.sandbox.inventory_changes) == before
    assert env.sandbox.stats.faults_served["server_error"] == account.settings.max_attempts


def test_check_reports_scopes_and_explains_a_bad_token(make) -> None:
    env = make(records=10)
    good = env.config.account(env.account)
    result = good.connector.check(good)
    assert result.ok, result.detail
    assert "read_orders" in result.facts["scopes"] and result.facts["currency"] == "USD"
    bad_env = make(records=10, token="shpat_other")
    bad = bad_env.config.account(bad_env.account)
    result = bad.connector.check(bad)
    assert not result.ok
    assert "401" in result.detail and "access token" in result.detail and TOKEN not in result.detail


def test_page_size_above_shopify_maximum_is_a_config_error(make) -> None:
    from channelhub.config import ConfigError
    env = make(records=10, page_size=251)
    with pytest.raises(ConfigError, match="page_size"):
        env.config.account(env.account)


@pytest.mark.reliability
def test_fields_the_shop_starts_sending_are_reported_once(make, monkeypatch) -> None:
    """Schema drift is reported once: a new field lands and is listed, an undeclared one is named."""
    env = make(records=40, page_size=20)
    run_account(env.config, env.account)
    orders, products = env.sandbox.listings["orders"], env.sandbox.listings["products"]
    monkeypatch.setitem(env.sandbox.listings, "orders", replace(
        orders, render=lambda order: {**orders.render(order), "buyer_accepts_sms": True}))
    monkeypatch.setitem(env.sandbox.listings, "products", replace(
        products, render=lambda product: {**products.render(product), "tax_code": "P0000000"}))

    def notes() -> dict[str, str]:
        report = run_account(env.config, env.account)
        return dict(env.query(f"select stream, note from ops.run_log where run_id = '{report.run_id}' "
                              "and note is not null"))

    assert notes() == {"orders": "field 'buyer_accepts_sms' is not a declared column: not loaded",
                       "products": "new columns: products.tax_code"}
    assert notes() == {}  # reported once, not on every run
    assert env.query("select count(tax_code) from raw_shop_us.products")[0][0] > 0
