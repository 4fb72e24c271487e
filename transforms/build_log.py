"""``ops.build_log``: one row per model per build, so ops (and the stock guardrails) can tell whether
the marts in the warehouse come from a complete build. ``ops.build_state``: one row per model, what
its last successful build was built from, which is what the next build compares against; the log
grows with every build (forty rows each, every few minutes), so reading it would make each build
slower than the one before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

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
    sa.Column("fingerprint", sa.String(64)),  # Dbt.fingerprint: the logic the table was built with
    sa.Column("inputs", sa.String(64)),  # transforms.inputs.input_digest: the source states it read
    # success | current (nothing new to build it from, left as it was) | failed | skipped (an input failed)
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
)

build_state = sa.Table(
    "build_state", metadata,
    sa.Column("model", sa.String(128), primary_key=True),
    sa.Column("fingerprint", sa.String(64)),  # of the model's last successful (or current) build
    sa.Column("inputs", sa.String(64)),
    sa.Column("latest_ok", sa.Boolean, nullable=False),  # false while its latest build failed or was skipped
    sa.Column("build_id", sa.String(64), nullable=False),  # the build that last wrote the row
)

# Keys an incremental model deleted because they vanished at the source (the remove_vanished hook): a
# record of orders deleted in a shop or dropped from a spreadsheet, and what relink_orders reads to
# unlink the payments of a deleted order without comparing every payment with every order.
vanished_keys = sa.Table(
    "vanished_keys", metadata,
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("vanished_key", sa.String(256), nullable=False),
    sa.Column("invocation_id", sa.String(64), nullable=False),  # the dbt run that deleted it
    sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
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
    inputs: str | None = None
    outcome: str = "running"
    error: str | None = None
    seconds: float = 0.0


UP_TO_DATE = ("success", "current")


class LastBuild(NamedTuple):
    """A model's last successful build: the logic and inputs it was built from, and whether it is
    also the model's latest log row (False after a failure or a skip)."""

    fingerprint: str | None
    inputs: str | None
    latest: bool


def last_builds(conn: sa.Connection) -> dict[str, LastBuild]:
    """Model -> its :class:`LastBuild`. Models never built are absent."""
    inspector = sa.inspect(conn)
    if not inspector.has_table("build_state", schema="ops"):
        return _last_builds_from_log(conn) if inspector.has_table("build_log", schema="ops") else {}
    rows = conn.execute(sa.select(build_state.c.model, build_state.c.fingerprint, build_state.c.inputs,
                                  build_state.c.latest_ok))
    return {model: LastBuild(fingerprint, inputs, latest) for model, fingerprint, inputs, latest in rows}


def _last_builds_from_log(conn: sa.Connection) -> dict[str, LastBuild]:
    """The same, read from the whole log: once, for a warehouse built before ``ops.build_state``."""
    ranked = sa.select(build_log.c.model, build_log.c.fingerprint, build_log.c.inputs, build_log.c.outcome,
                       sa.func.row_number().over(partition_by=build_log.c.model,
                                                 order_by=build_log.c.finished_at.desc()).label("recency"),
                       sa.func.row_number().over(partition_by=[build_log.c.model, build_log.c.outcome.in_(UP_TO_DATE)],
                                                 order_by=build_log.c.finished_at.desc()).label("recency_ok"),
                       ).subquery()
    rows = conn.execute(sa.select(ranked.c.model, ranked.c.fingerprint, ranked.c.inputs, ranked.c.recency)
                        .where(ranked.c.outcome.in_(UP_TO_DATE), ranked.c.recency_ok == 1))
    return {model: LastBuild(fingerprint, inputs, recency == 1) for model, fingerprint, inputs, recency in rows}


def record_model_runs(conn: sa.Connection, runs: list[ModelRun]) -> None:
    """Append ``runs`` to the log and bring the state of their models up to date (in the caller's
    transaction, so the two never disagree)."""
    upgrading = not sa.inspect(conn).has_table("build_state", schema="ops")
    state = last_builds(conn)  # read from the log when upgrading
    ensure_tables(conn, build_log, build_state)
    for run in runs:
        if run.outcome in UP_TO_DATE:
            state[run.model] = LastBuild(run.fingerprint, run.inputs, latest=True)
        elif run.model in state:  # failed or skipped: what it was last built from still stands
            state[run.model] = state[run.model]._replace(latest=False)
    models = sorted(set(state) if upgrading else {run.model for run in runs} & set(state))
    if models:
        conn.execute(build_state.delete().where(build_state.c.model.in_(models)))
        conn.execute(build_state.insert(), [
            {"model": model, "fingerprint": state[model].fingerprint, "inputs": state[model].inputs,
             "latest_ok": state[model].latest, "build_id": runs[-1].build_id if runs else "upgrade"}
            for model in models])
    if runs:
        conn.execute(build_log.insert(), [{
            "build_id": run.build_id, "model": run.model, "layer": run.layer, "started_at": run.started_at,
            "finished_at": run.finished_at or run.started_at, "duration_s": round(run.seconds, 3),
            "strategy": run.strategy, "rows": run.rows, "fingerprint": run.fingerprint, "inputs": run.inputs,
            "outcome": run.outcome, "error": run.error} for run in runs])
