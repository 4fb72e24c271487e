"""``ops.build_log``: one row per model per build, so ops (and the stock guardrails) can tell whether
the marts in the warehouse come from a complete build."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from warehouse import ensure_tables

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
    sa.Column("fingerprint", sa.String(64)),  # Project.fingerprint: the logic the table was built with
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
    fingerprint: str | None = None
    outcome: str = "running"
    error: str | None = None
    seconds: float = 0.0


def last_fingerprint(conn: sa.Connection, model: str) -> str | None:
    """The fingerprint of the model's last successful build, if the log has one."""
    if not sa.inspect(conn).has_table("build_log", schema="ops"):
        return None
    return conn.execute(sa.select(build_log.c.fingerprint).where(build_log.c.model == model,
                                                                  build_log.c.outcome == "success")
                        .order_by(build_log.c.finished_at.desc()).limit(1)).scalar_one_or_none()


def record_model_run(conn: sa.Connection, run: ModelRun) -> None:
    with conn.begin():
        ensure_tables(conn, build_log)
        conn.execute(build_log.insert(), [{
            "build_id": run.build_id, "model": run.model, "layer": run.layer, "started_at": run.started_at,
            "finished_at": run.finished_at or run.started_at, "duration_s": round(run.seconds, 3),
            "strategy": run.strategy, "rows": run.rows, "fingerprint": run.fingerprint, "outcome": run.outcome, "error": run.error}])
