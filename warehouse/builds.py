"""``ops.builds``: one row per build, written as ``running`` when it starts and settled when it ends.

A build killed half-way (model 28 of 37) leaves its row ``running``: the stock sync's readiness gate
and ``channelhub status`` see that the marts may be a mix of two builds, where the per-model log alone
would still show the previous, complete build as the last one. Quality runs record the build they
validated, so the gate can require that the marts it pushes from are the ones that were checked.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .run_log import SCHEMA, metadata, still_running
from .target import ensure_tables

builds = sa.Table(
    "builds", metadata,
    sa.Column("build_id", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("outcome", sa.String(16), nullable=False),  # running | success | failed
    sa.Column("host", sa.String(255)),
    sa.Column("pid", sa.Integer),
    schema=SCHEMA,
)


@dataclass(frozen=True)
class Build:
    build_id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running | success | failed; "interrupted" when its process is gone


def start_build(conn: sa.Connection, build_id: str, at: datetime) -> None:
    ensure_tables(conn, builds)
    conn.execute(builds.insert(), [{"build_id": build_id, "started_at": at, "outcome": "running",
                                    "host": socket.gethostname(), "pid": os.getpid()}])


def finish_build(conn: sa.Connection, build_id: str, outcome: str, at: datetime) -> None:
    ensure_tables(conn, builds)
    conn.execute(builds.update().where(builds.c.build_id == build_id).values(outcome=outcome, finished_at=at))


def last_build(conn: sa.Connection, *, finished: bool = False) -> Build | None:
    """The latest build (or the latest one that ran to its end), None when there is none."""
    if not sa.inspect(conn).has_table("builds", schema=SCHEMA):
        return None
    query = sa.select(builds).order_by(builds.c.started_at.desc()).limit(1)
    if finished:
        query = query.where(builds.c.outcome != "running")
    row = conn.execute(query).first()
    if row is None:
        return None
    outcome = row.outcome
    if outcome == "running" and not still_running(row.host, row.pid):
        outcome = "interrupted"
    return Build(row.build_id, row.started_at, row.finished_at, outcome)
