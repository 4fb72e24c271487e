"""Yonyou U8 connector: the shared contract against MariaDB, plus end-to-end runs on SQLite and
MariaDB for time zones, exact money, the health check and malformed data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import channelhub.config
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, DatabaseEnv, PostgresParity, scratch_mariadb_url
from channelhub.testing.database import MARIADB
from connectors.sdk import ConfigError
from connectors.sdk.sql import local_window
from connectors.yonyou_u8 import connector
from connectors.yonyou_u8.client import ROWVERSION_LAG
from sandbox.world import World, WorldSpec
from sandbox.yonyou_u8 import U8Sandbox, build_u8, local, so_main
from warehouse import Warehouse

ACCOUNT = "u8"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Resolve only this connector: the registry loads every entry point, and sibling connectors
    being written in the same checkout must not decide whether these tests pass."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(channelhub.config, "get_connector", lambda name: connector)


def config(tmp_path: Path, url: str, streams: list[str] | None = None, **settings: Any) -> HubConfig:
    """One U8 account; ``streams`` is the account's choice of tables (all when None)."""
    return HubConfig.model_validate({
        "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
        "accounts": {ACCOUNT: {"connector": "yonyou_u8", "streams": streams,
                               "settings": {"url": url, "max_wait_seconds": 0.05, **settings}}},
    })


def query(cfg: HubConfig, sql: str) -> list[tuple]:
    with Warehouse(cfg.warehouse_url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


class U8Env(DatabaseEnv):
    """A fresh MariaDB database per test class; the primary stream is the sales order header, loaded
    with the item master, stock and customers the marts read."""

    account = ACCOUNT
    primary_stream = "so_somain"
    primary_key = "id"
    source_table = "SO_SOMain"
    zero_date_column = "dDate"

    def __init__(self, tmp_path: Path, records: int, page_size: int) -> None:
        self.sandbox = build_u8(scratch_mariadb_url("u8_test"), World(WorldSpec(orders=records, skus=40, customers=100)))
        self.config = config(tmp_path, self.sandbox.connector_url, chunk_size=page_size,
                             streams=["so_somain", "inventory", "current_stock", "customer"])


class TestYonyouU8Contract(ConnectorContract):
    env_class = U8Env
    scenarios_in_quick_suite = True
    shared_records = 1_000  # one load path of each kind meets the full 1,000 sharing one cursor value


class TestYonyouU8OnPostgres(PostgresParity):
    env_class = U8Env
    in_quick_suite = True  # make test's PostgreSQL parity of a SQL source


@pytest.fixture
def sqlite_u8(tmp_path: Path):
    sandbox = build_u8(str(tmp_path / "UFDATA_001_2026.db"), World(WorldSpec(orders=300, skus=40, customers=80)))
    yield sandbox
    sandbox.close()


@pytest.fixture
def mariadb_u8():
    sandbox = build_u8(scratch_mariadb_url("u8_test"), World(WorldSpec(orders=300, skus=40, customers=80)))
    yield sandbox
    sandbox.drop()


def sqlite_config(tmp_path: Path, sandbox: U8Sandbox, **settings: Any) -> HubConfig:
    return config(tmp_path, f"sqlite:///{sandbox.url.database}", chunk_size=100, **settings)


STREAM_TABLES = {"inventory": "Inventory", "warehouse": "Warehouse", "current_stock": "CurrentStock",
                 "customer": "Customer", "so_somain": "SO_SOMain", "so_sodetails": "SO_SODetails"}


def test_sqlite_end_to_end_and_stock_rowversion(tmp_path: Path, sqlite_u8: U8Sandbox) -> None:
    cfg = sqlite_config(tmp_path, sqlite_u8)
    report = run_account(cfg, ACCOUNT)
    assert report.rows == {stream: sqlite_u8.count(table) for stream, table in STREAM_TABLES.items()}

    seen = sqlite_u8.max("CurrentStock", "ufts")
    changed = sqlite_u8.change_stock(0.1)
    report = run_account(cfg, ACCOUNT)
    with sqlite_u8.engine.connect() as conn:  # the changed rows and the lag's window of versions behind them
        window = conn.execute(sa.text('select count(*) from "CurrentStock" where ufts >= :start'),
                              {"start": seen - ROWVERSION_LAG}).scalar_one()
    assert report.rows["current_stock"] == window >= changed
    assert "so_sodetails" in report.rows  # its lag window too
    loaded = dict(query(cfg, f"select c_inv_code || '/' || c_wh_code, i_quantity from raw_{ACCOUNT}.current_stock"))
    assert loaded == {f"{s.sku.code}/{s.warehouse}": Decimal(s.quantity) for s in sqlite_u8.world.stock}


def test_a_relative_sqlite_path_is_read_from_the_working_directory(tmp_path: Path, sqlite_u8: U8Sandbox,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped channelhub.yml names ``sqlite:///.channelhub/sandbox/u8.sqlite``: connectorx alone would
    read that from the file system root."""
    monkeypatch.chdir(tmp_path)
    relative = Path(sqlite_u8.url.database).relative_to(tmp_path)
    report = run_account(config(tmp_path, f"sqlite:///{relative}", chunk_size=100), ACCOUNT)
    assert report.rows["inventory"] == sqlite_u8.count("Inventory") > 0


def test_times_are_utc_and_the_cursor_window_stays_in_source_time(tmp_path: Path, sqlite_u8: U8Sandbox) -> None:
    # the world's SKUs were modified at 2026-01-01 00:00 UTC = 08:00 in Shanghai, as U8 stores it
    with sqlite_u8.engine.connect() as conn:
        assert conn.execute(sa.text('select min("dModifyDate") from "Inventory"')).scalar_one().startswith(
            "2026-01-01 08:00:00")
    cfg = sqlite_config(tmp_path, sqlite_u8)
    run_account(cfg, ACCOUNT)
    assert query(cfg, f"select distinct d_modify_date from raw_{ACCOUNT}.inventory") == [
        (datetime(2026, 1, 1, tzinfo=UTC),)]
    touched = sqlite_u8.touch(0.02)
    report = run_account(cfg, ACCOUNT)
    assert report.rows["so_somain"] >= len(touched)
    loaded = dict(query(cfg, f"select c_define1, dmodifysystime from raw_{ACCOUNT}.so_somain"))
    assert {loaded[str(o.id)] for o in touched} == {touched[0].updated_at}


def test_a_zone_west_of_utc_does_not_skip_changes(tmp_path: Path, sqlite_u8: U8Sandbox) -> None:
    """Read as New York time, a WHERE written with UTC digits would start 5 hours late and miss
    every change of the next 5 hours; the window must be translated back to local time."""
    cfg = sqlite_config(tmp_path, sqlite_u8, timezone="America/New_York", streams=["so_somain"])
    run_account(cfg, ACCOUNT)
    changed = len(sqlite_u8.touch(0.05))
    report = run_account(cfg, ACCOUNT)
    assert changed <= report.rows["so_somain"] <= changed + 5
    newest = query(cfg, f"select max(dmodifysystime) from raw_{ACCOUNT}.so_somain")[0][0]
    # the sandbox wrote Shanghai digits; read as New York time they are that New York instant
    assert newest == local(sqlite_u8.world.now).replace(tzinfo=ZoneInfo("America/New_York"))


def test_mariadb_money_is_exact_and_names_survive(tmp_path: Path, mariadb_u8: U8Sandbox) -> None:
    cfg = config(tmp_path, mariadb_u8.connector_url, streams=["so_sodetails", "inventory"])
    mariadb_u8.fail_next("server_error", 3)  # the first three table reads lose their connection mid-query
    mariadb_u8.fail_next("rate_limit", 2)    # and two connections are refused (1040)
    run_account(cfg, ACCOUNT)
    assert mariadb_u8.pending("server_error") == mariadb_u8.pending("rate_limit") == 0  # retried past
    assert mariadb_u8.rows_served["SO_SODetails"] >= mariadb_u8.count("SO_SODetails")
    columns = dict(query(cfg, "select column_name, data_type from information_schema.columns "
                              f"where table_schema = 'raw_{ACCOUNT}' and table_name = 'so_sodetails'"))
    assert columns["i_sum"] == "DECIMAL(20,2)" and columns["i_tax_unit_price"] == "DECIMAL(28,6)"
    expected = sum((line.amount for order in mariadb_u8.world.orders for line in order.lines), Decimal(0))
    assert query(cfg, f"select sum(i_sum) from raw_{ACCOUNT}.so_sodetails") == [(expected,)]
    names = dict(query(cfg, f"select c_inv_code, c_inv_name from raw_{ACCOUNT}.inventory"))
    assert names == {sku.code: sku.product_zh for sku in mariadb_u8.world.skus}


@pytest.mark.reliability
def test_a_run_at_five_percent_statement_failures_completes(tmp_path: Path, mariadb_u8: U8Sandbox) -> None:
    """An ERP line failing 5% of statements: each statement is retried, the run completes."""
    cfg = config(tmp_path, mariadb_u8.connector_url, max_attempts=8)
    mariadb_u8.fail_statements(0.05)
    report = run_account(cfg, ACCOUNT, reconcile=True)  # the key listing too
    assert mariadb_u8.fail_statements(0) >= 3  # cut, and retried past
    assert report.rows == {stream: mariadb_u8.count(table) for stream, table in STREAM_TABLES.items()}


def test_check_reports_counts_and_fails_clearly(tmp_path: Path, mariadb_u8: U8Sandbox) -> None:
    url = str(mariadb_u8.url)
    result = connector.check(config(tmp_path, url).account(ACCOUNT))
    assert result.ok, result.detail
    assert result.facts["rows"]["SO_SOMain"] == 300 and "SO_SODetails" in result.detail

    wrong = HubConfig.model_validate({"accounts": {ACCOUNT: {
        "connector": "yonyou_u8", "settings": {"url": url}, "secrets": {"password": {"env": "U8_TEST_PASSWORD"}}}}})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("U8_TEST_PASSWORD", "not-the-password-4711")
        result = connector.check(wrong.account(ACCOUNT))
    assert not result.ok
    assert "Access denied" in result.detail and ACCOUNT in result.detail
    assert "not-the-password-4711" not in result.detail

    empty = build_u8(str(tmp_path / "other.db"), World(WorldSpec(orders=5, skus=4, customers=5)))
    with empty.engine.begin() as conn:
        conn.exec_driver_sql('DROP TABLE "CurrentStock"')
    result = connector.check(config(tmp_path, f"sqlite:///{empty.url.database}").account(ACCOUNT))
    empty.close()
    assert not result.ok and "tables missing: CurrentStock" in result.detail


def test_malformed_value_names_account_table_record_and_field(tmp_path: Path, sqlite_u8: U8Sandbox) -> None:
    cfg = sqlite_config(tmp_path, sqlite_u8, streams=["current_stock"])
    sqlite_u8.corrupt_row("CurrentStock", 7, "iQuantity", "twelve")
    with pytest.raises(RunFailed) as failure:
        run_account(cfg, ACCOUNT)
    message = str(failure.value)
    for part in (ACCOUNT, "current_stock", "CurrentStock", "AutoID=7", "iQuantity", "twelve"):
        assert part in message, message


def test_settings_keep_the_password_out_of_the_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="secrets"):
        config(tmp_path, f"{MARIADB.replace('root@', 'root:secret@')}/u8").account(ACCOUNT)
    with pytest.raises(ConfigError, match="streams"):
        config(tmp_path, "sqlite:///x.db", streams=["orders"]).account(ACCOUNT)


def test_entry_point_resolves_to_this_connector() -> None:
    (entry,) = [e for e in entry_points(group="channelhub.connectors") if e.name == "yonyou_u8"]
    assert entry.load() is connector and connector.name == "yonyou_u8"



def test_the_cursor_window_reaches_sql_in_source_local_time() -> None:
    """dlt's range may carry any offset (an Airflow interval is UTC); the naive Shanghai column must
    be compared with Shanghai digits, or the window lands eight hours off."""
    class Window:  # what the adapter reads of dlt's Incremental
        cursor_path = "dmodifysystime"

        def get_current_range(self) -> tuple[datetime, datetime]:
            return datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)

    query = local_window(ZoneInfo("Asia/Shanghai"), None, so_main, Window(), None)
    assert sorted(query.compile().params.values()) == [datetime(2026, 3, 1, 8), datetime(2026, 3, 2, 8)]
