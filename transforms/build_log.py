"""``ops.build_log``: one row per model per build, so ops (and the stock guardrails) can tell whether
the marts in the warehouse come from a complete build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

metadata = sa.MetaData(schema="ops")
build_log = sa.Table(
    "build_log", metadata,
    sa.Column("build_id", sa.String(64), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("layer", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_s", sa.Numeric(12, 3), nullable=False),
    sa.Column("strategy", sa.String(16)),  # view | table | incremental
    sa.Column("rows", sa.BigInteger),
    sa.Column("outcome", sa.String(16), nullable=False),  # success | failed | skipped
    sa.Column("error", sa.Text),
)


@dataclass
class ModelRun:
    build_id: str
    model: str
    layer: str
    started_at: datetime
    finished_at: datetime | None = None
    rows: int | None = None
    strategy: str | None = None
    outcome: str = "running"
    error: str | None = None
    seconds: float = 0.0


def record_model_run(conn: sa.Connection, run: ModelRun) -> None:
    with conn.begin():
        conn.execute(sa.text("create schema if not exists ops"))
        metadata.create_all(conn, tables=[build_log])
        conn.execute(build_log.insert(), [{
            "build_id": run.build_id, "model": run.model, "layer": run.layer, "started_at": run.started_at,
            "finished_at": run.finished_at or run.started_at, "duration_s": round(run.seconds, 3),
            "strategy": run.strategy, "rows": run.rows, "outcome": run.outcome, "error": run.error}])
