"""``ops.tracker_queries``: how many queries each tracker account made on each of its platform's days.

Kuaidi100 and SF Express sell queries by the package, so a tracker stops at its ``daily_quota``. The
count lives here, outside the load, because a query is spent when it is asked: a run that fails after
asking, and a full refresh (which drops the account's raw tables and dlt state), must still count.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from .run_log import SCHEMA, metadata
from .target import Warehouse, ensure_tables

tracker_queries = sa.Table(
    "tracker_queries", metadata,
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("quota_day", sa.Date, nullable=False),  # the day in the platform's zone, when its quota turns over
    sa.Column("queries", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account", "quota_day"),
    schema=SCHEMA,
)

# both warehouses' upsert: a second run the same day adds to the first one's count
ADD = sa.text(f"insert into {SCHEMA}.tracker_queries (account, quota_day, queries) values (:account, :day, :queries) "
              "on conflict (account, quota_day) do update set queries = tracker_queries.queries + excluded.queries")


def queries_made(warehouse: Warehouse, account: str, day: date) -> int:
    """The queries ``account`` has made on ``day`` (0 before its first)."""
    with warehouse.engine.begin() as conn:
        ensure_tables(conn, tracker_queries)
        made = conn.execute(sa.select(tracker_queries.c.queries).where(
            tracker_queries.c.account == account, tracker_queries.c.quota_day == day)).scalar()
    return int(made or 0)


def add_queries(warehouse: Warehouse, account: str, day: date, queries: int) -> None:
    if queries:
        with warehouse.engine.begin() as conn:
            ensure_tables(conn, tracker_queries)
            conn.execute(ADD, {"account": account, "day": day, "queries": queries})
