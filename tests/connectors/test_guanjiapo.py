"""Guanjiapo connector: the shared contract against MariaDB (DuckDB and PostgreSQL warehouses) with its
stock and sales in the marts, a merchant's own mapping on SQLite, and mappings that cannot work failing
clearly."""

from __future__ import annotations

from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import channelhub.config
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, DatabaseEnv, PostgresParity, scratch_mariadb_url
from channelhub.testing.checks import check_stock_marts
from connectors.guanjiapo import connector
from connectors.sdk import ConfigError
from sandbox.guanjiapo import SHANGHAI, GuanjiapoSandbox, build_guanjiapo
from sandbox.world import ShopSpec, World, WorldSpec
from warehouse import Warehouse

ACCOUNT = "gjp"
SHOP = ShopSpec(ACCOUNT, "CNY", "Asia/Shanghai", marketplace=True)  # the distributor sales booked in Guanjiapo


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Resolve only this connector: sibling connectors written in the same checkout must not decide
    whether these tests pass."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(channelhub.config, "get_connector", lambda name: connector)


def world(orders: int) -> World:
    return World(WorldSpec(orders=orders, skus=30, customers=60, shops=(SHOP,)))


def config(tmp_path: Path, url: str, streams: list[str] | None = None, **settings: Any) -> HubConfig:
    """One Guanjiapo account; ``streams`` is the account's choice (all when None)."""
    return HubConfig.model_validate({
        "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
        "accounts": {ACCOUNT: {"connector": "guanjiapo", "streams": streams,
                               "settings": {"url": url, "max_wait_seconds": 0.05, **settings}}},
    })


def query(cfg: HubConfig, sql: str) -> list[tuple]:
    with Warehouse(cfg.warehouse_url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


class GuanjiapoEnv(DatabaseEnv):
    """A fresh MariaDB database per class; the primary stream is the sales document header (Dlyndx)."""

    account = ACCOUNT
    primary_stream = "sales"
    primary_key = "document_id"
    source_table = "Dlyndx"
    zero_date_column = "date"  # the column as the mapped read names it
    marts = "+fct_inventory +fct_orders +fct_order_lines"

    def __init__(self, tmp_path: Path, records: int, page_size: int) -> None:
        self.sandbox = build_guanjiapo(scratch_mariadb_url("gjp_test"), world(records), ACCOUNT)
        self.config = config(tmp_path, self.sandbox.connector_url, chunk_size=page_size)


class GuanjiapoMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: GuanjiapoEnv) -> None:
        """Stock per SKU and warehouse in fct_inventory; every sales document an order of the account,
        its lines resolved to merchant SKUs, totals exact."""
        check_stock_marts(env, env.sandbox.world.stock)
        orders = env.sandbox.orders()
        lines = [line for order in orders for line in order.lines]
        assert env.one("select count(*), sum(total_amount), sum(item_quantity) from marts.fct_orders "
                       f"where channel_id = '{ACCOUNT}'") == (
            len(orders), sum(o.total for o in orders), sum(line.quantity for line in lines))
        assert env.one("select count(*), count(product_id), sum(line_amount) from marts.fct_order_lines "
                       f"where channel_id = '{ACCOUNT}'") == (len(lines), len(lines), sum(li.amount for li in lines))


class TestGuanjiapoContract(GuanjiapoMarts, ConnectorContract):
    env_class = GuanjiapoEnv


class TestGuanjiapoOnPostgres(GuanjiapoMarts, PostgresParity):
    env_class = GuanjiapoEnv


@pytest.fixture
def sqlite_gjp(tmp_path: Path):
    sandbox = build_guanjiapo(str(tmp_path / "gjp.db"), world(120), ACCOUNT)
    yield sandbox
    sandbox.close()


def renamed(sandbox: GuanjiapoSandbox) -> None:
    """Another edition's names: the goods table and its barcode column, no modification time on the
    headers, and a rowversion on the lines."""
    with sandbox.engine.begin() as conn:
        conn.exec_driver_sql('ALTER TABLE "DlySale" ADD COLUMN "ts" BIGINT')
        conn.exec_driver_sql('UPDATE "DlySale" SET "ts" = "DlyCode" + 7')
        conn.exec_driver_sql('ALTER TABLE "ptype" RENAME TO "Ptype2"')
        conn.exec_driver_sql('ALTER TABLE "Ptype2" RENAME COLUMN "BarCode" TO "Barcode2"')
        conn.exec_driver_sql('DROP INDEX "ix_Dlyndx_UpdateTime"')
        conn.exec_driver_sql('ALTER TABLE "Dlyndx" DROP COLUMN "UpdateTime"')


def test_a_merchant_mapping_reads_another_editions_names_on_sqlite(tmp_path: Path, sqlite_gjp: GuanjiapoSandbox) -> None:
    """The edition's own names in channelhub.yml, no code: the same warehouse columns land, the
    documents without a modification time are replaced whole, and only the configured VchTypes load."""
    renamed(sqlite_gjp)
    mapping = {"goods": {"table": "Ptype2", "columns": {"barcode": "Barcode2"}}, "sales": {"cursor": None},
               "sale_lines": {"cursor": {"column": "ts", "kind": "rowversion"}}}
    cfg = config(tmp_path, f"sqlite:///{sqlite_gjp.url.database}", chunk_size=50, mapping=mapping)
    account = cfg.account(ACCOUNT)
    assert connector.check(account).ok
    report = run_account(cfg, ACCOUNT)
    assert report.rows["sales"] == sqlite_gjp.count("Dlyndx") == len(sqlite_gjp.orders())
    streams = {stream.name: stream for stream in connector.streams_for(account)}
    assert (streams["sales"].write_disposition, streams["sales"].cursor) == ("replace", None)
    assert (streams["sale_lines"].write_disposition, streams["sale_lines"].cursor.versions) == ("merge", True)
    assert query(cfg, f"select count(*), max(row_version - line_id) from raw_{ACCOUNT}.sale_lines") == [
        (sqlite_gjp.count("DlySale"), 7)]
    barcodes = dict(query(cfg, f"select code, barcode from raw_{ACCOUNT}.goods"))
    assert barcodes == {sku.code: sku.barcode for sku in sqlite_gjp.world.skus}
    stock = dict(query(cfg, f"select goods_id || '/' || warehouse_id, quantity from raw_{ACCOUNT}.stock"))
    assert sum(stock.values()) == sum(Decimal(s.quantity) for s in sqlite_gjp.world.stock)

    other = config(tmp_path, f"sqlite:///{sqlite_gjp.url.database}", streams=["sales"], mapping=mapping,
                   sales_vch_types=[12])
    assert run_account(other, ACCOUNT).rows["sales"] == 0


def test_shipped_mapping_on_sqlite_times_in_utc_and_deleted_documents_reconciled(tmp_path: Path,
                                                                                  sqlite_gjp: GuanjiapoSandbox) -> None:
    """Naive Shanghai UpdateTimes land as the World's UTC instants; a document deleted in Guanjiapo leaves
    the warehouse with the reconciliation, which lists the keys through the mapped read."""
    cfg = config(tmp_path, f"sqlite:///{sqlite_gjp.url.database}", streams=["sales"])
    run_account(cfg, ACCOUNT)
    loaded = dict(query(cfg, f"select number, modified_at from raw_{ACCOUNT}.sales"))
    assert len(loaded) == len(sqlite_gjp.orders())
    first = sqlite_gjp.orders()[0]
    assert loaded["XS-" + f"{first.created_at.astimezone(SHANGHAI):%Y-%m-%d}-00001"] == first.updated_at
    with sqlite_gjp.engine.begin() as conn:
        conn.exec_driver_sql('DELETE FROM "Dlyndx" WHERE "VchCode" = 1')
    run_account(cfg, ACCOUNT, reconcile=True)
    assert query(cfg, f"select count(*), count(*) filter (where document_id = 1) from raw_{ACCOUNT}.sales") == [
        (len(sqlite_gjp.orders()) - 1, 0)]


def test_a_mapping_that_cannot_work_fails_naming_account_entity_and_column(tmp_path: Path,
                                                                          sqlite_gjp: GuanjiapoSandbox) -> None:
    url = f"sqlite:///{sqlite_gjp.url.database}"
    with pytest.raises(ConfigError, match=r"account 'gjp'.*mapping\.goods\.columns: unknown column\(s\) 'bar_code'"):
        config(tmp_path, url, mapping={"goods": {"columns": {"bar_code": "X"}}}).account(ACCOUNT)
    with pytest.raises(ConfigError, match="unknown entity 'goodz'"):
        config(tmp_path, url, mapping={"goodz": {"table": "ptype"}}).account(ACCOUNT)

    wrong = config(tmp_path, url, streams=["goods"], mapping={"goods": {"columns": {"barcode": "EAN"}}})
    result = connector.check(wrong.account(ACCOUNT))
    assert not result.ok and "goods: ptype.EAN (mapped to barcode)" in result.detail
    with pytest.raises(RunFailed, match=r"account 'gjp', stream 'goods': table ptype has no column 'EAN' "
                                        r"\(read as 'barcode'\)"):
        run_account(wrong, ACCOUNT)


def test_entry_point_resolves_to_this_connector() -> None:
    (entry,) = [e for e in entry_points(group="channelhub.connectors") if e.name == "guanjiapo"]
    assert entry.load() is connector and connector.name == "guanjiapo"
