"""``ops.stock_push_log``: one row per attempted push of one level, and one row (``sku = '*'``) per
channel a sync refused or skipped, with the reason. A mirror's rows (``channel_id`` the mirror account)
address one figure: ``location_id`` the channel it is about, ``inventory_item_id`` the figure.

It is also the sync's memory: the last successful push of a level, or what a push refused as stale read
back from the channel, is what we believe the channel holds (unless a newer load says otherwise), so the
next sync sends only levels whose target moved and compares-and-sets against it
(:mod:`channelhub.stock.diff`); a stale level is pushed again on the next sync, not after the next ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from warehouse import Warehouse, ensure_tables

SCHEMA = "ops"
ALL = "*"  # sku of a channel-wide row (refusal, kill switch)
metadata = sa.MetaData(schema=SCHEMA)
stock_push_log = sa.Table(
    "stock_push_log", metadata,
    sa.Column("sync_id", sa.String(64), nullable=False),
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location_id", sa.String(64)),
    sa.Column("inventory_item_id", sa.String(64)),
    sa.Column("old_quantity", sa.Integer),  # what the push compared against (NULL: unknown)
    sa.Column("new_quantity", sa.Integer),
    sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # success | stale | failed | refused | skipped
    sa.Column("detail", sa.Text),
    sa.Column("seen_quantity", sa.Integer),  # what the channel held when a stale push read it back
)


@dataclass(frozen=True)
class PushRecord:
    sync_id: str
    channel_id: str
    sku: str
    location_id: str | None
    inventory_item_id: str | None
    old_quantity: int | None
    new_quantity: int | None
    pushed_at: datetime
    outcome: str
    detail: str | None = None
    seen_quantity: int | None = None


def record(warehouse: Warehouse, records: list[PushRecord]) -> None:
    """One transaction; SQLAlchemy's insertmanyvalues already batches 100k rows into multi-row INSERTs."""
    if not records:
        return
    with warehouse.engine.begin() as conn:
        ensure_tables(conn, stock_push_log)
        conn.execute(stock_push_log.insert(), [r.__dict__ for r in records])

