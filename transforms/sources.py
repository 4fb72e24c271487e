"""``sources.<connector>__<table>``: one view per raw table the models read, over every account.

A merchant has several accounts per connector (two Shopify shops), each loaded into its own
``raw_<account>`` schema. The models should not care how many there are, so this module reads the
account list from ``channelhub.yml`` and the column declarations from ``sources.yml`` and writes one
``union all`` view per table, tagging each row with ``channel_id`` (the account name). Columns an
account has not produced yet become typed NULLs; an absent table contributes no rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlalchemy as sa
import yaml

from channelhub.config import HubConfig

from .ddl import replace_view
from .project import SOURCES_FILE

SCHEMA = "sources"
# DuckDB's bare NUMERIC is DECIMAL(18,3), which would round money; raw money is DECIMAL(38,9).
SQL_TYPES = {"text": "varchar", "bigint": "bigint", "numeric": "decimal(38, 9)", "money": "decimal(18, 4)",
             "boolean": "boolean", "date": "date", "timestamptz": "timestamptz"}


@dataclass(frozen=True)
class SourceTable:
    connector: str
    table: str
    columns: dict[str, str]  # name -> portable type

    @property
    def view(self) -> str:
        return f"{SCHEMA}.{self.connector}__{self.table}"


@cache
def declared_sources(path: Path = SOURCES_FILE) -> tuple[SourceTable, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(SourceTable(connector, table, columns)
                 for connector, tables in raw.items() for table, columns in tables.items())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def union_sql(source: SourceTable, present: dict[str, set[str]]) -> str:
    """The view body: one select per account that has the table, or an empty typed select.

    ``present`` maps ``account`` -> columns its raw table has (accounts without the table are absent).
    """
    selects = []
    for account, columns in sorted(present.items()):
        items = [f"cast('{account}' as varchar) as channel_id"]  # account names are validated identifiers
        for column, kind in source.columns.items():
            value = _quote(column) if column in columns else "null"
            items.append(f"cast({value} as {SQL_TYPES[kind]}) as {_quote(column)}")
        selects.append(f"select {', '.join(items)} from {_quote('raw_' + account)}.{_quote(source.table)}")
    if not selects:
        items = ["cast(null as varchar) as channel_id",
                 *(f"cast(null as {SQL_TYPES[kind]}) as {_quote(column)}" for column, kind in source.columns.items())]
        selects.append(f"select {', '.join(items)} where 1 = 0")
    return "\nunion all\n".join(selects)


def _present(conn: sa.Connection, schemas: Iterable[str]) -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> columns, for the raw schemas, in one catalog query."""
    wanted = sorted(schemas)
    if not wanted:
        return {}
    rows = conn.execute(sa.text("select table_schema, table_name, column_name from information_schema.columns "
                                "where table_schema in :schemas").bindparams(sa.bindparam("schemas", expanding=True)),
                        {"schemas": wanted})
    found: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        found.setdefault((schema, table), set()).add(column)
    return found


def create_source_views(conn: sa.Connection, hub: HubConfig) -> list[str]:
    """(Re)create every declared source view; returns their names."""
    accounts: dict[str, list[str]] = {}
    for name in hub.enabled_accounts():
        accounts.setdefault(hub.accounts[name].connector, []).append(name)
    present = _present(conn, (f"raw_{name}" for names in accounts.values() for name in names))
    conn.execute(sa.text(f"create schema if not exists {SCHEMA}"))
    for source in declared_sources():
        tables = {account: present[(f"raw_{account}", source.table)]
                  for account in accounts.get(source.connector, []) if (f"raw_{account}", source.table) in present}
        replace_view(conn, source.view, union_sql(source, tables))
    return [source.view for source in declared_sources()]
