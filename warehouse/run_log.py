"""``ops.run_log``: one row per stream per run (and one per failed run), so ops can answer
"what loaded, how much, how long, and why did it fail" from the warehouse itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from .target import Warehouse, ensure_tables

SCHEMA = "ops"
metadata = sa.MetaData(schema=SCHEMA)
run_log = sa.Table(
    "run_log", metadata,
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("stream", sa.String(128), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_s", sa.Numeric(12, 3), nullable=False),
    sa.Column("rows_loaded", sa.BigInteger, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # success | failed
    sa.Column("full_refresh", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
)


@dataclass(frozen=True)
class StreamRun:
    run_id: str
    account: str
    connector: str
    stream: str
    started_at: datetime
    finished_at: datetime
    rows_loaded: int
    outcome: str
    full_refresh: bool
    error: str | None = None


def record_runs(warehouse: Warehouse, runs: list[StreamRun]) -> None:
    if not runs:
        return
    rows = [
        {**run.__dict__, "duration_s": round((run.finished_at - run.started_at).total_seconds(), 3)}
        for run in runs
    ]
    with warehouse.engine.begin() as conn:  # one connection: on DuckDB each open and close costs
        ensure_tables(conn, run_log)
        conn.execute(run_log.insert(), rows)


def last_runs(warehouse: Warehouse, conn: sa.Connection | None = None) -> list[dict]:
    """Per account: the last run's outcome and the last successful load (freshness); on ``conn`` when
    the caller reads more."""
    if conn is None:
        with warehouse.engine.connect() as own:
            return last_runs(warehouse, own)
    if not warehouse.table_exists(SCHEMA, "run_log", conn):
        return []
    query = sa.text(f"""
        with per_run as (
            select account, run_id, max(finished_at) as finished_at,
                   sum(rows_loaded) as rows_loaded,
                   max(case when outcome = 'failed' then 1 else 0 end) as failed,
                   max(error) as error
            from {SCHEMA}.run_log group by account, run_id
        ),
        ranked as (
            select *, row_number() over (partition by account order by finished_at desc) as rn
            from per_run
        ),
        last_success as (
            select account, max(finished_at) as last_success_at from per_run where failed = 0 group by account
        )
        select r.account, r.finished_at as last_run_at, r.rows_loaded, r.failed, r.error, s.last_success_at
        from ranked r left join last_success s on s.account = r.account
        where r.rn = 1 order by r.account
    """)
    return [dict(row._mapping) for row in conn.execute(query)]


def utcnow() -> datetime:
    return datetime.now(UTC)
