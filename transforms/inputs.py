"""What each model reads, as it stands now, so that a build runs only the models with something new.

A connector's source table is read from ``raw_<account>.<table>`` for every account of that connector
(the ``account_union`` macro). Its *structure* is which accounts have the table and with which columns,
which is what a staging view's SQL is compiled from; its *data* is, per account, the table's row count
and the newest dlt load among its rows. Any load that writes a row to the table changes the newest load
(dlt stamps every row it writes, inserted, updated or replaced, with the load's id), and a row deleted
at the source changes the count, so a load that did not touch the table (products, when only orders came
in) leaves it as it was. A newest load dlt has not completed yet is marked as such: the models read
completed loads only, and must build again once it completes. A nested table (``orders__line_items``)
changes with its root (dlt rewrites an order's nested rows with it), so it takes the root's newest load.
A table without load ids at all falls back to the newest completed load of its account (``_dlt_loads``).
channelhub's own ``ops`` tables are small and edited in place (by a build or by the merchant), so their
data is a checksum of their content. A model's input digest hashes the states of every source upstream
of it: the data and the structure for a table, the structure alone for a view (a view holds no rows,
only SQL).

Each digest costs a handful of catalog queries and one count per raw table a model reads.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

OPS_SOURCE = "ops"


@dataclass(frozen=True)
class SourceState:
    structure: str
    data: str


def source_states(conn: sa.Connection, sources: list[Any]) -> dict[str, SourceState]:
    """Source unique id -> its state now, for the dbt source nodes ``sources``."""
    platforms = defaultdict(list)
    for channel_id, platform in conn.execute(sa.text("select channel_id, platform from ops.channels")):
        platforms[platform].append(channel_id)
    columns: dict[tuple[str, str], list[str]] = defaultdict(list)
    for schema, table, column in conn.execute(sa.text(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema like 'raw\\_%' escape '\\'")):
        columns[(schema, table)].append(column)
    newest = _newest_loads(conn, sorted({schema for schema, table in columns if table == "_dlt_loads"}))
    ops_tables = set(conn.execute(sa.text(
        f"select table_name from information_schema.tables where table_schema = '{OPS_SOURCE}'")).scalars())
    read = [(f"raw_{account}", source.name) for source in sources if source.source_name != OPS_SOURCE
            for account in platforms[source.source_name] if (f"raw_{account}", source.name) in columns]
    tables = _table_states(conn, read, columns, newest)
    states = {}
    for source in sources:
        if source.source_name == OPS_SOURCE:
            content = _checksum(conn, source.schema, source.name) if source.name in ops_tables else "missing"
            states[source.unique_id] = SourceState("", content)
            continue
        schemas = [f"raw_{account}" for account in sorted(platforms[source.source_name])]
        present = [schema for schema in schemas if (schema, source.name) in columns]
        states[source.unique_id] = SourceState(
            ";".join(f"{schema}:{','.join(sorted(columns[(schema, source.name)]))}" for schema in present),
            ";".join(f"{schema}:{tables[(schema, source.name)]}" for schema in present))
    return states


def input_digest(states: dict[str, SourceState], source_ids: list[str], *, structure_only: bool) -> str:
    """One hash of the states of ``source_ids``: what a model built now would be built from."""
    digest = hashlib.sha256()
    for uid in sorted(source_ids):
        state = states[uid]
        digest.update(f"{uid}|{state.structure}|{'' if structure_only else state.data}\n".encode())
    return digest.hexdigest()


def _newest_loads(conn: sa.Connection, schemas: list[str]) -> dict[str, str]:
    """Raw schema -> its newest completed dlt load id (status 0: loaded and committed)."""
    if not schemas:
        return {}
    query = " union all ".join(f"select '{schema}' as raw_schema, max(load_id) as load_id "
                               f'from "{schema}"._dlt_loads where status = 0' for schema in schemas)
    return {schema: load_id for schema, load_id in conn.execute(sa.text(query))}


def _table_states(conn: sa.Connection, tables: list[tuple[str, str]], columns: dict[tuple[str, str], list[str]],
                  newest: dict[str, str]) -> dict[tuple[str, str], str]:
    """(raw schema, table) -> "<rows>@<newest load>" for ``tables`` (see the module). Each root's
    newest load is read once, however many nested tables share it. A newest load that dlt has not
    completed (still being written, or left by a crash) is marked, so the state changes again when
    it completes and the models, which read completed loads only, are built once more to take it."""
    if not tables:
        return {}
    wanted = sorted(set(tables))
    roots = sorted({(schema, table.split("__")[0]) for schema, table in wanted
                    if "_dlt_load_id" in columns.get((schema, table.split("__")[0]), [])})
    root_loads: dict[tuple[str, str], str] = {}
    if roots:
        query = " union all ".join(
            f"select '{schema}', '{root}', newest, "
            + (f'newest in (select load_id from "{schema}"._dlt_loads where status = 0) ' if schema in newest else
               "true ")
            + f'from (select cast(max(_dlt_load_id) as varchar) as newest from "{schema}"."{root}") as root_table'
            for schema, root in roots)
        root_loads = {(schema, root): load if completed is not False else f"{load} (loading)"
                      for schema, root, load, completed in conn.execute(sa.text(query))}
    counts = " union all ".join(f"select '{schema}', '{table}', count(*) from \"{schema}\".\"{table}\""
                                for schema, table in wanted)
    # a root without load ids: the account's newest completed load stands for them
    return {(schema, table): f"{count}@{root_loads.get((schema, table.split('__')[0]), newest.get(schema))}"
            for schema, table, count in conn.execute(sa.text(counts))}


def _checksum(conn: sa.Connection, schema: str, table: str) -> str:
    """Row count and a hash of every row's text, in a form both warehouses compute."""
    return str(conn.execute(sa.text(
        f"select count(*) || ':' || coalesce(md5(string_agg(cast(t as varchar), '|' order by cast(t as varchar))), '') "
        f'from {schema}."{table}" as t')).scalar_one())
