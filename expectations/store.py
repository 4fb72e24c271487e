"""``ops.quality_runs`` and ``ops.quality_results``: every validation run and every expectation result,
kept in the warehouse next to the data they judge.

The stock sync reads the last run's verdict from here, ops read the history with SQL, and the row-count
band of the next run takes its baseline from the last successful run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from warehouse import Warehouse, ensure_tables

from .suites import ROW_COUNT_EXPECTATION

SCHEMA = "ops"
metadata = sa.MetaData(schema=SCHEMA)
quality_runs = sa.Table(
    "quality_runs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),  # no critical failure
    sa.Column("critical_failures", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("docs_path", sa.Text),
    sa.Column("build_id", sa.String(64)),  # the last finished build (ops.builds) when it ran: what it validated
)
quality_results = sa.Table(
    "quality_results", metadata,
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("suite", sa.String(255), nullable=False),
    sa.Column("table_name", sa.String(255), nullable=False),
    sa.Column("expectation", sa.String(128), nullable=False),
    sa.Column("column_name", sa.Text),
    sa.Column("severity", sa.String(16), nullable=False),  # critical | warning | info
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("observed", sa.Text),
    sa.Column("details", sa.Text),
)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result on one table, as stored in ``ops.quality_results``."""

    suite: str
    table_name: str
    expectation: str
    column_name: str | None
    severity: str
    success: bool
    observed: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class QualityRun:
    run_id: str
    started_at: datetime
    finished_at: datetime
    success: bool
    critical_failures: int
    warnings: int
    docs_path: str | None
    build_id: str | None = None


def record(warehouse: Warehouse, run: QualityRun, outcomes: list[ExpectationOutcome]) -> None:
    """The run and its results in one transaction: a run row never exists without its results."""
    with warehouse.engine.begin() as conn:
        ensure_tables(conn, quality_runs, quality_results)
        conn.execute(quality_runs.insert(), [run.__dict__])
        if outcomes:
            conn.execute(quality_results.insert(), [{"run_id": run.run_id, **o.__dict__} for o in outcomes])


def last_good_row_counts(warehouse: Warehouse) -> dict[str, int]:
    """Row count per table (``schema.table``) observed by the last successful run; empty before one."""
    last_good = (sa.select(quality_runs.c.run_id).where(quality_runs.c.success)
                 .order_by(quality_runs.c.finished_at.desc()).limit(1).scalar_subquery())
    query = (sa.select(quality_results.c.table_name, quality_results.c.observed)
             .where(quality_results.c.run_id == last_good,
                    quality_results.c.expectation == ROW_COUNT_EXPECTATION))
    with warehouse.engine.connect() as conn:
        if not warehouse.table_exists(SCHEMA, "quality_runs", conn):
            return {}
        return {table: int(observed) for table, observed in conn.execute(query) if observed is not None}
