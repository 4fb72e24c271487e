"""Runs that die or fail on the way: the next run finishes what was left, fetches what is new, and the
warehouse ends as a clean load leaves it; no load package blocks an account."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob

from channelhub.runner import RunFailed, run_account
from channelhub.testing import count_rows, snapshot
from channelhub.testing.postgres import fresh_postgres_database
from tests.connectors.test_shopify import ShopifyEnv
from warehouse import Warehouse, last_runs

pytestmark = pytest.mark.reliability
ROOT = Path(__file__).parents[2]
COPY_JOBS = (DuckDbCopyJob, PostgresCsvCopyJob)  # the jobs loading parquet into DuckDB, CSV into PostgreSQL


# On PostgreSQL the scenarios run with the end-to-end checks (make test-e2e; PostgreSQL parity is make test's once)
WAREHOUSES = ["duckdb", pytest.param("postgres", marks=(pytest.mark.postgres, pytest.mark.e2e))]


@pytest.fixture(params=["duckdb"])
def warehouse_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The warehouse the scenario runs on (DuckDB unless a test asks for ``WAREHOUSES``): on PostgreSQL,
    a fresh database for the run and another one for the clean load it is compared with."""
    if request.param == "postgres":
        with fresh_postgres_database() as url, fresh_postgres_database() as clean:
            monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", url)
            monkeypatch.setenv("CHANNELHUB_TEST_CLEAN_URL", clean)
            yield request.param
    else:
        yield request.param


@pytest.fixture
def shop(make_env: Callable[..., Any], warehouse_kind: str) -> ShopifyEnv:
    """60 orders in pages of 10: enough batches and load jobs to stop between."""
    return make_env(ShopifyEnv, 60, 10)


def tables(env: ShopifyEnv) -> dict[str, Any]:
    """Orders and their line items as comparable rows (no load ids), and the row count of every raw table."""
    names = [name for (name,) in env.rows("select table_name from information_schema.tables where "
                                          "table_schema = 'raw_shop_us' and table_name not like '_dlt%'")]
    return {"orders": snapshot(env), "lines": env.rows(
        "select order_id, id, sku, quantity, price from raw_shop_us.orders__line_items order by order_id, id"),
        "counts": {name: env.one(f"select count(*) from raw_shop_us.{name}")[0] for name in sorted(names)}}


def clean_load(env: ShopifyEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple]]:
    """What one clean run from nothing loads from the source as it is now, in a warehouse of its own."""
    with monkeypatch.context() as patch:
        patch.setenv("CHANNELHUB_WAREHOUSE_URL",
                     os.environ.get("CHANNELHUB_TEST_CLEAN_URL", f"duckdb:///{tmp_path}/clean.duckdb"))
        patch.setenv("CHANNELHUB_HOME", str(tmp_path / "clean-home"))
        run_account(env.config, env.account)
        return tables(env)


def killed_run(env: ShopifyEnv, tmp_path: Path, point: str, n: int) -> None:
    config = tmp_path / "channelhub.yml"
    config.write_text(yaml.safe_dump(env.config.model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    child = subprocess.run([sys.executable, "-m", "tests.reliability.crash", str(config), env.account, point, str(n)],
                           check=False, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]


@pytest.mark.parametrize(("point", "n", "warehouse_kind"), [
    ("extract", 3, "duckdb"), ("normalize", 1, "duckdb"), ("load", 1, "duckdb"), ("mid-load", 2, "duckdb"),
    pytest.param("mid-load", 2, "postgres", marks=(pytest.mark.postgres, pytest.mark.e2e))], indirect=["warehouse_kind"])
def test_kill_9_then_a_rerun_equals_a_clean_load(shop: ShopifyEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 point: str, n: int) -> None:
    """kill -9 in a run; the re-run equals a clean load.

    Killed during extract, before normalize, before load or between load jobs: status says interrupted; the
    re-run completes what was left and fetches what changed since; the warehouse equals a clean load."""
    run_account(shop.config, shop.account)
    shop.change(0.2)
    killed_run(shop, tmp_path, point, n)
    assert last_runs(Warehouse(shop.config.warehouse_url))[0]["state"] == "interrupted"
    changed_since = shop.change(0.1)
    report = run_account(shop.config, shop.account)
    assert report.rows["orders"] >= changed_since
    assert count_rows(shop) == count_rows(shop, "id") == shop.source_count()
    assert tables(shop) == clean_load(shop, tmp_path, monkeypatch)


class FailingLoads:
    """Every load job of the first load package it meets fails terminally (a rejected file, a full disk),
    each time that package is loaded, while patched in; later packages load."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.package: str | None = None
        for job_class in COPY_JOBS:
            monkeypatch.setattr(job_class, "run", self.failing(job_class.run))

    def failing(self, original: Callable[[Any], None]) -> Callable[[Any], None]:
        def run(job: Any) -> None:
            self.package = self.package or job._load_id
            if job._load_id == self.package:
                raise DestinationTerminalException("injected: the destination refused the file")
            original(job)
        return run


@contextmanager
def a_refused_load(shop: ShopifyEnv) -> Iterator[None]:
    """Load the shop, change a fifth of its orders, and meet a destination refusing the run's load package;
    the refusal stays in force while the block runs."""
    run_account(shop.config, shop.account)
    shop.change(0.2)
    with pytest.MonkeyPatch.context() as patch:
        FailingLoads(patch)
        with pytest.raises(RunFailed, match="injected"):
            run_account(shop.config, shop.account)
        yield


def test_a_package_that_fails_once_is_loaded_by_the_next_run(shop: ShopifyEnv, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed load package is loaded by the next run.

    The next run loads it, then fetches what is new as well; the warehouse equals a clean load."""
    with a_refused_load(shop):
        pass
    new = shop.change(0.1)
    report = run_account(shop.config, shop.account)
    assert report.rows["orders"] >= new
    assert shop.one(f"select note from ops.run_log where run_id = '{report.run_id}' and stream = '*'") == (
        "completed the load package an interrupted run left",)
    assert tables(shop) == clean_load(shop, tmp_path, monkeypatch)


@pytest.mark.parametrize("warehouse_kind", WAREHOUSES, indirect=True)
def test_a_package_that_fails_twice_is_discarded_and_the_account_carries_on(
        shop: ShopifyEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package failing twice is discarded; the account carries on.

    It is discarded with a clear note, state rewinds to the last committed load, and the same run extracts it
    all again: the account is never blocked, and ends as a clean load."""
    with a_refused_load(shop):
        report = run_account(shop.config, shop.account)
    (note,) = shop.one(f"select note from ops.run_log where run_id = '{report.run_id}' and stream = '*'")
    assert note.startswith("discarded a load package that failed again") and "injected" in note
    assert report.rows["orders"] >= int(0.2 * 60)  # extracted again from the last committed state
    assert tables(shop) == clean_load(shop, tmp_path, monkeypatch)


def test_full_refresh_with_a_package_left_pending_reloads_everything(shop: ShopifyEnv) -> None:
    """--full-refresh with a pending package reloads everything."""
    with a_refused_load(shop):
        pass
    report = run_account(shop.config, shop.account, full_refresh=True)
    assert report.rows["orders"] == 60 and count_rows(shop) == 60
    (note,) = shop.one(f"select note from ops.run_log where run_id = '{report.run_id}' and stream = '*'")
    assert note == "discarded the load package a previous run left (full refresh)"


def test_rate_limits_server_errors_and_timeouts_end_as_a_clean_load(
        make_env: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Injected 429s, 5xx and timeouts: the same warehouse as a clean load."""
    shop = make_env(ShopifyEnv, 60, 10, timeout_seconds=0.5)
    shop.sandbox.faults.stall_seconds = 1.0
    shop.sandbox.faults.rate_limit, shop.sandbox.faults.server_error, shop.sandbox.faults.timeout = 3, 3, 2
    run_account(shop.config, shop.account)
    assert shop.sandbox.stats.faults_served == {"rate_limit": 3, "server_error": 3, "timeout": 2}
    assert tables(shop) == clean_load(shop, tmp_path, monkeypatch)
