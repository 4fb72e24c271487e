"""Rows that become visible late and rows deleted at the source (U8 on SQLite, Shopify): the lag catches
the first, the scheduled reconciliation the rest, and the warehouse ends as a clean load of the source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channelhub.config import HubConfig
from channelhub.runner import run_account
from channelhub.testing.postgres import fresh_postgres_database
from connectors.yonyou_u8.client import ROWVERSION_LAG
from sandbox.world import World, WorldSpec
from sandbox.yonyou_u8 import U8Sandbox, build_u8, current_stock, so_main
from tests.connectors.test_shopify import ShopifyEnv
from warehouse import Warehouse

pytestmark = pytest.mark.reliability
ACCOUNT = "erp_u8"


def config(warehouse: str, url: str, **account: Any) -> HubConfig:
    return HubConfig.model_validate({
        "warehouse": {"url": warehouse},
        "accounts": {ACCOUNT: {"connector": "yonyou_u8", "settings": {"url": url, "max_wait_seconds": 0.05},
                               **account}}})


def rows(hub: HubConfig, table: str, key: str) -> list[tuple]:
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        columns = [c for (c,) in conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = :s and table_name = :t "
            "and column_name not like '\\_dlt%' escape '\\' order by column_name"), {"s": f"raw_{ACCOUNT}", "t": table})]
        return [tuple(r) for r in conn.execute(sa.text(
            f"select {', '.join(columns)} from raw_{ACCOUNT}.{table} order by {key}"))]


def late_header(u8: U8Sandbox, behind: timedelta, key: int) -> None:
    """A sales order that becomes visible now, stamped ``behind`` the newest one already there (its
    transaction committed late)."""
    with u8.engine.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(so_main.c.dmodifysystime))).scalar_one()
        template = dict(conn.execute(sa.select(so_main).limit(1)).one()._mapping)
        conn.execute(so_main.insert(), [{**template, "ID": key, "cSOCode": f"SO{key:08d}", "dmodifysystime": newest
                                         - behind, "ufts": u8.max("SO_SOMain", "ufts") + 1}])


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=(pytest.mark.postgres, pytest.mark.e2e))])
def warehouses(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """name -> the URL of a warehouse of that name: DuckDB files, or fresh PostgreSQL databases."""
    with ExitStack() as stack:
        made: dict[str, str] = {}

        def url(name: str) -> str:
            if name not in made:
                made[name] = (f"duckdb:///{tmp_path}/{name}.duckdb" if request.param == "duckdb"
                              else stack.enter_context(fresh_postgres_database()))
            return made[name]
        yield url


@pytest.fixture
def u8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> U8Sandbox:
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    sandbox = build_u8(str(tmp_path / "UFDATA_001_2026.db"), World(WorldSpec(orders=120, skus=20, customers=30)))
    yield sandbox
    sandbox.close()


def test_late_rows_land_with_the_lag_or_the_reconciliation_and_deletions_follow(
        warehouses: Callable[[str], str], u8: U8Sandbox) -> None:
    """Rows 15 min late, hours late and deleted end right after the next scheduled runs.

    15 minutes late: the next run (the lag). Two hours late, a stock row behind the rowversion lag, and rows
    deleted at the source: the next scheduled reconciliation, which counts them in ops.run_log. The warehouse
    then equals a clean load of the source."""
    url = f"sqlite:///{u8.url.database}"
    hourly = config(warehouses("wh"), url, reconcile_every=None)
    run_account(hourly, ACCOUNT)

    late_header(u8, timedelta(minutes=15), 90_001)
    late_header(u8, timedelta(hours=2), 90_002)
    with u8.engine.begin() as conn:  # a stock row whose rowversion is older than the lag window
        conn.execute(current_stock.insert(), [{"AutoID": 90_003, "cWhCode": "01", "cInvCode": "CH-LATE", "cBatch": "",
                                               "iQuantity": 4, "fOutQuantity": 0, "fInQuantity": 0, "fAvaQuantity": 4,
                                               "ufts": u8.max("CurrentStock", "ufts") - 2 * ROWVERSION_LAG}])
        conn.execute(current_stock.delete().where(current_stock.c.AutoID.in_([1, 2])))
        conn.execute(so_main.delete().where(so_main.c.ID == 3))
    run_account(hourly, ACCOUNT)
    with Warehouse(hourly.warehouse_url).engine.connect() as conn:
        ids = set(conn.execute(sa.text(f"select id from raw_{ACCOUNT}.so_somain")).scalars())
    assert 90_001 in ids and 90_002 not in ids and 3 in ids  # the lag reaches 15 minutes, no further

    daily = config(warehouses("wh"), url, reconcile_every="PT0S")  # the reconciliation is due
    report = run_account(daily, ACCOUNT)
    with Warehouse(daily.warehouse_url).engine.connect() as conn:
        notes = dict(conn.execute(sa.text("select stream, note from ops.run_log where run_id = :r"),
                                  {"r": report.run_id}).all())
        reconciled = conn.execute(sa.text("select reconciled from ops.run_log where run_id = :r and stream = '*'"),
                                  {"r": report.run_id}).scalar_one()
    assert reconciled is True
    assert notes["current_stock"] == "reconciled: 2 deleted at the source"
    assert notes["so_somain"] == "reconciled: 1 deleted at the source"

    clean = config(warehouses("clean"), url)
    run_account(clean, ACCOUNT)
    for table, key in (("so_somain", "id"), ("current_stock", "auto_id"), ("so_sodetails", "i_s_os_id")):
        assert rows(daily, table, key) == rows(clean, table, key), table


def test_the_reconciliation_is_due_once_its_interval_has_passed(tmp_path: Path, u8: U8Sandbox) -> None:
    """The reconciliation runs on its schedule: not on a first load, then once per interval."""
    hub = config(f"duckdb:///{tmp_path}/wh.duckdb", f"sqlite:///{u8.url.database}", reconcile_every="PT1H")
    first = run_account(hub, ACCOUNT)
    second = run_account(hub, ACCOUNT)
    with Warehouse(hub.warehouse_url).engine.begin() as conn:
        flags = dict(conn.execute(sa.text("select run_id, reconciled from ops.run_log where stream = '*'")).all())
        assert (flags[first.run_id], flags[second.run_id]) == (True, False)  # a first load is a whole one
        conn.execute(sa.text("update ops.run_log set finished_at = finished_at - interval 2 hour"))
    third = run_account(hub, ACCOUNT)
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        assert conn.execute(sa.text("select reconciled from ops.run_log where run_id = :r and stream = '*'"),
                            {"r": third.run_id}).scalar_one() is True


def test_shopify_orders_late_or_deleted_without_an_event_are_reconciled(make_env: Callable[..., Any],
                                                                        tmp_path: Path) -> None:
    """Shopify: a late order, and a deleted order, product and customer, end right after a reconciliation.

    The order is visible hours late; the deleted order's Order/destroy event is no longer listed."""
    shop = make_env(ShopifyEnv, 60, 20)
    hourly = replace_accounts(shop.config, reconcile_every=None)
    run_account(hourly, shop.account)
    [late] = shop.world.add_orders(1)
    late.updated_at = max(o.updated_at for o in shop.world.orders if o is not late) - timedelta(hours=2)
    gone = shop.world.orders_of("shop_us")[5]
    shop.sandbox.delete_order(gone.id)
    shop.sandbox.events.clear()  # its Order/destroy event no longer listed (events are kept for a while only)
    product, customer = shop.sandbox.products.pop(2), shop.world.customers.pop(4)  # deleted in the admin
    run_account(hourly, shop.account)
    ids = {row[0] for row in shop.rows("select id from raw_shop_us.orders")}
    assert late.id not in ids and gone.id in ids  # beyond the lag, and no event to say so

    report = run_account(replace_accounts(shop.config, reconcile_every="PT0S"), shop.account)
    ids = {row[0] for row in shop.rows("select id from raw_shop_us.orders")}
    assert late.id in ids and gone.id not in ids and len(ids) == shop.source_count()
    assert shop.rows(f"select count(*) from raw_shop_us.orders__line_items where order_id = {gone.id}") == [(0,)]
    assert shop.rows(f"select count(*) from raw_shop_us.products where id = {product.id}") == [(0,)]
    assert shop.rows(f"select count(*) from raw_shop_us.products__variants where product_id = {product.id}") == [(0,)]
    assert shop.rows(f"select count(*) from raw_shop_us.customers where id = {customer.id}") == [(0,)]
    notes = dict(shop.rows(f"select stream, note from ops.run_log where run_id = '{report.run_id}' and note is not null"))
    assert notes == {stream: "reconciled: 1 deleted at the source" for stream in ("orders", "products", "customers")}


def replace_accounts(hub: HubConfig, **account: Any) -> HubConfig:
    """``hub`` with every account's config changed by ``account`` (its reconciliation schedule)."""
    raw = hub.model_dump(mode="json", exclude_unset=True)
    for settings in raw["accounts"].values():
        settings.update(account)
    return HubConfig.model_validate(raw)
