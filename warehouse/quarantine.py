"""``ops.quarantine``: the records a run set aside instead of loading (no key, a required field missing, a
value its declared type cannot hold), one row each, so whoever fixes the source sees what and where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .run_log import SCHEMA, metadata
from .target import Warehouse, ensure_tables

if TYPE_CHECKING:
    from connectors.sdk.quarantine import Rejected

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("stream", sa.String(128), nullable=False),
    sa.Column("location", sa.String(255), nullable=False),  # batch and item, or the file
    sa.Column("record_key", sa.Text),
    sa.Column("field", sa.String(255)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("excerpt", sa.Text, nullable=False),            # the record, cut short, secrets replaced
    sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
    schema=SCHEMA,
)


def record_quarantine(warehouse: Warehouse, run_id: str, at: datetime, items: Sequence[Rejected]) -> None:
    if not items:
        return
    with warehouse.engine.begin() as conn:
        ensure_tables(conn, quarantine)
        conn.execute(quarantine.insert(), [
            {"run_id": run_id, "account": item.account, "stream": item.stream, "location": item.location[:255],
             "record_key": item.record_key, "field": item.field, "reason": item.reason, "excerpt": item.excerpt,
             "quarantined_at": at} for item in items])
