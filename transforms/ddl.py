"""DDL that behaves the same on DuckDB and PostgreSQL.

PostgreSQL tracks which views read which relations: dropping a view drops everything built on it,
and ``create or replace view`` refuses a changed column list. So a view is replaced in place when it
can be (the normal case: the same columns), and dropped with its dependants only when its shape
changed; the next full build recreates those dependants.
"""

from __future__ import annotations

import sqlalchemy as sa


def replace_view(conn: sa.Connection, relation: str, sql: str) -> None:
    try:
        with conn.begin_nested():
            conn.execute(sa.text(f"create or replace view {relation} as\n{sql}"))
    except sa.exc.DBAPIError:
        conn.execute(sa.text(f"drop view if exists {relation} cascade"))
        conn.execute(sa.text(f"create view {relation} as\n{sql}"))


def swap_table(conn: sa.Connection, schema: str, name: str, sql: str) -> None:
    """Build the table beside the old one and swap it in; inside the caller's transaction, so
    readers see the old table or the new one, never neither."""
    building = f"{schema}.{name}__new"
    conn.execute(sa.text(f"drop table if exists {building}"))
    conn.execute(sa.text(f"create table {building} as\n{sql}"))
    conn.execute(sa.text(f"drop table if exists {schema}.{name} cascade"))
    conn.execute(sa.text(f"alter table {building} rename to {name}"))
