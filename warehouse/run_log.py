"""``ops.run_log``: one row per stream per run, plus the run's own row (stream ``*``), so ops can answer
"what loaded, how much, how long, what was set aside, and why did it fail" from the warehouse itself.

The run's row (no rows of its own: the streams' rows count them) is written as ``running`` when the run starts and settled as ``success`` or ``failed`` when
it ends. A run killed on the way never settles it: :func:`last_runs` reports it as ``interrupted`` once
its process is gone (or a later run of the account started), so nobody mistakes it for the last success.
"""

from __future__ import annotations

import json
import os
import socket
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
    sa.Column("outcome", sa.String(16), nullable=False),  # running | success | failed
    sa.Column("full_refresh", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("quarantined", sa.BigInteger),  # records set aside (ops.quarantine)
    sa.Column("note", sa.Text),               # what else ops should know: new columns, a pending package
    sa.Column("host", sa.String(255)),        # where the run's process runs, to tell running from killed
    sa.Column("pid", sa.Integer),
    sa.Column("reconciled", sa.Boolean),      # the run's row: it reconciled (or loaded whole) the account
)
RUN = "*"  # the stream of a run's own row


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
    quarantined: int = 0
    note: str | None = None
    host: str | None = None
    pid: int | None = None
    reconciled: bool | None = None


def record_runs(warehouse: Warehouse, runs: list[StreamRun]) -> None:
    if not runs:
        return
    with warehouse.engine.begin() as conn:  # one connection: on DuckDB each open and close costs
        ensure_tables(conn, run_log)
        _insert_spooled(conn, warehouse)
        conn.execute(run_log.insert(), [_row(run) for run in runs])


def spool_runs(warehouse: Warehouse, runs: list[StreamRun]) -> None:
    """Keep the rows of a run that could not open the DuckDB file (another process held it past the wait)
    beside it; the next run that records its own writes them to ``ops.run_log`` too, so no run goes
    unrecorded."""
    with warehouse.spool_path.open("a", encoding="utf-8") as spool:
        for run in runs:
            spool.write(json.dumps({**run.__dict__, "started_at": run.started_at.isoformat(),
                                    "finished_at": run.finished_at.isoformat()}) + "\n")


def _insert_spooled(conn: sa.Connection, warehouse: Warehouse) -> None:
    if warehouse.kind != "duckdb" or not warehouse.spool_path.exists():
        return
    taken = warehouse.spool_path.with_suffix(f".{os.getpid()}")
    os.replace(warehouse.spool_path, taken)  # rows spooled from now on go to a new file
    runs = []
    for line in taken.read_text(encoding="utf-8").splitlines():
        fields = json.loads(line)
        fields["started_at"], fields["finished_at"] = (datetime.fromisoformat(fields[key])
                                                       for key in ("started_at", "finished_at"))
        runs.append(_row(StreamRun(**fields)))
    if runs:
        conn.execute(run_log.insert(), runs)
    taken.unlink()


def settle_run(warehouse: Warehouse, run: StreamRun, streams: list[StreamRun]) -> None:
    """Replace the run's ``running`` row by its outcome and add its streams' rows, in one transaction."""
    with warehouse.engine.begin() as conn:
        ensure_tables(conn, run_log)
        _insert_spooled(conn, warehouse)
        conn.execute(run_log.delete().where(run_log.c.run_id == run.run_id, run_log.c.stream == RUN))
        conn.execute(run_log.insert(), [_row(item) for item in (run, *streams)])


def _row(run: StreamRun) -> dict:
    return {**run.__dict__, "duration_s": round((run.finished_at - run.started_at).total_seconds(), 3)}


def last_runs(warehouse: Warehouse, conn: sa.Connection | None = None) -> list[dict]:
    """Per account: the last run (``state``: success, failed, running or interrupted) and the last
    successful load (freshness); on ``conn`` when the caller reads more."""
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
                   max(case when outcome = 'running' then 1 else 0 end) as running,
                   max(error) as error, max(host) as host, max(pid) as pid
            from {SCHEMA}.run_log group by account, run_id
        ),
        ranked as (
            select *, row_number() over (partition by account order by finished_at desc) as rn
            from per_run
        ),
        last_success as (
            select account, max(finished_at) as last_success_at from per_run
            where failed = 0 and running = 0 group by account
        )
        select r.account, r.finished_at as last_run_at, r.rows_loaded, r.failed, r.running, r.error,
               r.host, r.pid, s.last_success_at
        from ranked r left join last_success s on s.account = r.account
        where r.rn = 1 order by r.account
    """)
    rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["state"] = ("failed" if row["failed"] else
                        ("interrupted" if not still_running(row["host"], row["pid"]) else "running")
                        if row["running"] else "success")
    return rows


def still_running(host: str | None, pid: int | None) -> bool:
    """Whether a run's process may still be running: on this host, whether the pid is alive; a run on
    another host (a Celery worker) is believed running."""
    if host is None or pid is None:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime: DuckDB hands back naive UTC for timestamptz through some drivers."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
