"""ops.run_log and status on both warehouses (PostgreSQL is the real service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.sdk import ConfigError
from warehouse import StreamRun, Warehouse, last_runs, record_runs


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    if request.param == "duckdb":
        return Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    return Warehouse(request.getfixturevalue("postgres_url"))


def run(account: str, at: datetime, outcome: str = "success", rows: int = 10, error: str | None = None,
        run_id: str = "r1", stream: str = "orders") -> StreamRun:
    return StreamRun(run_id, account, "shopify", stream, at - timedelta(seconds=3), at, rows, outcome, False, error)


def test_runs_are_recorded_with_duration(warehouse: Warehouse) -> None:
    at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    record_runs(warehouse, [run("shop_us", at), run("shop_us", at, stream="customers", rows=5)])
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text("select stream, rows_loaded, duration_s, outcome from ops.run_log "
                                    "order by stream")).all()
    assert [(r.stream, r.rows_loaded, float(r.duration_s), r.outcome) for r in rows] == [
        ("customers", 5, 3.0, "success"), ("orders", 10, 3.0, "success")]


def test_status_shows_last_run_and_last_success(warehouse: Warehouse) -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    record_runs(warehouse, [run("shop_us", day, run_id="a"), run("stripe", day, run_id="b")])
    record_runs(warehouse, [run("shop_us", day + timedelta(hours=1), "failed", 0, "HTTP 401", run_id="c")])
    status = {row["account"]: row for row in last_runs(warehouse)}
    assert status["shop_us"]["failed"] == 1 and status["shop_us"]["error"] == "HTTP 401"
    assert status["shop_us"]["last_success_at"].replace(tzinfo=UTC) == day
    assert status["stripe"]["failed"] == 0 and int(status["stripe"]["rows_loaded"]) == 10


def test_status_of_an_empty_warehouse_is_empty(warehouse: Warehouse) -> None:
    assert last_runs(warehouse) == []


def test_urls_are_validated_and_passwords_hidden() -> None:
    assert Warehouse("postgresql://bi:s3cret@db:5432/wh").redacted_url == "postgresql://bi:***@db:5432/wh"
    with pytest.raises(ConfigError, match="use duckdb:///path or postgresql://"):
        _ = Warehouse("mysql://x/y").kind
