"""The contract every connector passes. A connector's test module subclasses :class:`ConnectorContract`
as ``Test<Name>Contract`` and implements :meth:`make_env` returning a :class:`ContractEnv`.

The contract: pagination over many pages; a second incremental run fetches only changes; 1,000 records
sharing one cursor value across a page boundary are neither lost nor duplicated; injected rate limits
and server errors are retried to the same result; a re-run is idempotent; a malformed page fails with a
clear error, loses nothing already loaded, and a re-run recovers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import pytest
import sqlalchemy as sa

from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from warehouse import Warehouse


class ContractEnv(ABC):
    """A sandboxed source plus a config with one account (``account``) pointing at it.

    The sandbox must be seeded with ``records`` primary-stream records and serve pages of ``page_size``.
    """

    config: HubConfig
    account: str
    primary_stream: str     # table in raw_<account> the contract counts
    primary_key: str        # its key column in the warehouse

    @abstractmethod
    def source_count(self) -> int:
        """How many primary-stream records the source holds now."""

    @abstractmethod
    def fetched(self) -> int:
        """How many primary-stream records the source has handed out so far (all runs)."""

    @abstractmethod
    def change(self, fraction: float) -> int:
        """Modify ``fraction`` of the primary records so their cursor moves; returns how many."""

    @abstractmethod
    def share_cursor_value(self, n: int) -> None:
        """Give ``n`` primary records one identical, new cursor value."""

    @abstractmethod
    def inject(self, kind: str, times: int) -> None:
        """Arm a fault for the next ``times`` requests/reads: ``rate_limit``, ``server_error``
        (each the source's transient failure) or ``malformed`` (unreadable data)."""

    def close(self) -> None:
        """Stop sandboxes."""


def count_rows(env: ContractEnv, column: str | None = None) -> int:
    warehouse = Warehouse(env.config.warehouse_url)
    expr = f"count(distinct {column})" if column else "count(*)"
    with warehouse.engine.connect() as conn:
        return conn.execute(sa.text(f"select {expr} from raw_{env.account}.{env.primary_stream}")).scalar_one()


def snapshot(env: ContractEnv) -> list[tuple]:
    """The primary table without dlt's load bookkeeping columns, ordered: two equal snapshots mean two
    equal warehouses for this stream."""
    warehouse = Warehouse(env.config.warehouse_url)
    with warehouse.engine.connect() as conn:
        # information_schema, not sa.inspect: duckdb_engine's inspector queries pg_catalog.pg_collation,
        # which DuckDB 1.4 does not have
        names = conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = :schema "
            "and table_name = :table order by ordinal_position"),
            {"schema": f"raw_{env.account}", "table": env.primary_stream}).scalars()
        columns = [name for name in names if not name.startswith("_dlt")]
        rows = conn.execute(sa.text(
            f"select {', '.join(columns)} from raw_{env.account}.{env.primary_stream} order by {env.primary_key}"))
        return [tuple(row) for row in rows]


class ConnectorContract(ABC):
    records = 1_200
    page_size = 100

    @abstractmethod
    def make_env(self, tmp_path: Path, records: int, page_size: int) -> ContractEnv: ...

    @pytest.fixture(params=["duckdb", "postgres"])
    def env(self, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        """Every contract test runs on both warehouses: the DuckDB file the harness configures, and a
        fresh PostgreSQL database (CHANNELHUB_WAREHOUSE_URL overrides the config's URL)."""
        monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
        if request.param == "postgres":
            monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", request.getfixturevalue("postgres_url"))
        env = self.make_env(tmp_path, self.records, self.page_size)
        yield env
        env.close()

    def test_paginates_over_many_pages(self, env: ContractEnv) -> None:
        report = run_account(env.config, env.account)
        assert env.source_count() == self.records
        assert count_rows(env) == self.records
        assert count_rows(env, env.primary_key) == self.records
        assert report.rows[env.primary_stream] == self.records

    def test_second_incremental_run_fetches_only_changes(self, env: ContractEnv) -> None:
        run_account(env.config, env.account)
        before = env.fetched()
        changed = env.change(0.02)
        assert changed > 0
        report = run_account(env.config, env.account)
        fetched = env.fetched() - before
        assert changed <= fetched <= changed + self.page_size, (changed, fetched)
        assert report.rows[env.primary_stream] == fetched
        assert count_rows(env) == env.source_count()

    def test_records_sharing_a_cursor_value_across_pages(self, env: ContractEnv) -> None:
        run_account(env.config, env.account)
        env.share_cursor_value(1_000)
        run_account(env.config, env.account)
        run_account(env.config, env.account)
        assert count_rows(env) == env.source_count()
        assert count_rows(env, env.primary_key) == env.source_count()
        # a clean full load of the same source gives the very same table
        changed = snapshot(env)
        run_account(env.config, env.account, full_refresh=True)
        assert snapshot(env) == changed

    def test_transient_failures_are_retried_to_the_same_result(self, env: ContractEnv) -> None:
        env.inject("rate_limit", 3)
        env.inject("server_error", 3)
        run_account(env.config, env.account)
        with_faults = snapshot(env)
        run_account(env.config, env.account, full_refresh=True)
        assert len(with_faults) == self.records
        assert snapshot(env) == with_faults

    def test_rerun_is_idempotent(self, env: ContractEnv) -> None:
        run_account(env.config, env.account)
        first = snapshot(env)
        run_account(env.config, env.account)
        assert snapshot(env) == first
        assert count_rows(env) == self.records

    def test_malformed_data_fails_clearly_and_loses_nothing(self, env: ContractEnv) -> None:
        run_account(env.config, env.account)
        loaded = snapshot(env)
        env.change(0.05)
        env.inject("malformed", 1)
        with pytest.raises(RunFailed) as failure:
            run_account(env.config, env.account)
        message = str(failure.value)
        assert env.account in message and env.primary_stream in message, message
        assert snapshot(env) == loaded
        run_account(env.config, env.account)
        assert count_rows(env) == env.source_count()
        assert count_rows(env, env.primary_key) == env.source_count()
