"""What a build compares against: each model's last successful build, kept in ``ops.build_state``
rather than read back from the whole, ever-growing ``ops.build_log``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from transforms.build_log import LastBuild, ModelRun, build_log, last_builds, record_model_runs
from warehouse import ensure_tables

START = datetime(2026, 11, 2, 8, tzinfo=UTC)


def run(build: int, model: str, outcome: str, fingerprint: str | None = None) -> ModelRun:
    at = START + timedelta(minutes=build)
    return ModelRun(f"b{build}", model, "marts", at, at, fingerprint=fingerprint, inputs=f"in-{fingerprint}",
                    outcome=outcome)


def test_state_follows_each_build_and_an_older_warehouse_upgrades_from_its_log(tmp_path: Path) -> None:
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    with engine.begin() as conn:  # a warehouse from before build_state: its history is the log alone
        ensure_tables(conn, build_log)
        conn.execute(build_log.insert(), [
            {"build_id": r.build_id, "model": r.model, "layer": r.layer, "started_at": r.started_at,
             "finished_at": r.finished_at, "duration_s": 0, "fingerprint": r.fingerprint, "inputs": r.inputs,
             "outcome": r.outcome}
            for r in (run(1, "fct_orders", "success", "f1"), run(2, "fct_orders", "failed", "f2"),
                      run(1, "dim_channels", "success", "d1"), run(2, "dim_channels", "current", "d1"))])
        assert last_builds(conn) == {"fct_orders": LastBuild("f1", "in-f1", latest=False),
                                     "dim_channels": LastBuild("d1", "in-d1", latest=True)}

        record_model_runs(conn, [run(3, "dim_channels", "success", "d2"), run(3, "fct_inventory", "failed", "i1")])
        conn.execute(build_log.delete())  # from now on the state alone answers
        assert last_builds(conn) == {"fct_orders": LastBuild("f1", "in-f1", latest=False),
                                     "dim_channels": LastBuild("d2", "in-d2", latest=True)}  # never built: absent

        record_model_runs(conn, [run(4, "dim_channels", "skipped"), run(4, "fct_orders", "success", "f3"),
                                 run(4, "fct_inventory", "success", "i1")])
        assert last_builds(conn) == {"fct_orders": LastBuild("f3", "in-f3", latest=True),
                                     "dim_channels": LastBuild("d2", "in-d2", latest=False),
                                     "fct_inventory": LastBuild("i1", "in-i1", latest=True)}
        assert conn.execute(sa.text("select count(*) from ops.build_log")).scalar_one() == 3
