"""The periodic reconciliation of an account: rows the incremental reads missed or the source deleted.

An incremental cursor with a lag catches rows that become visible a little late; nothing catches a row
later than that, or a row deleted at the source (a stock row emptied, a voucher line removed). Every
``reconcile_every`` (daily by default) a run of the account reconciles:

1. its cursors re-read ``reconcile_lookback`` (version counters: the whole table), through
   :func:`connectors.sdk.spec.reconciling`, so late rows land with the run;
2. for each stream whose connector lists its keys cheaply (:meth:`Connector.source_keys`), the keys in
   ``raw_<account>`` that the source no longer has are hard-deleted (merge tables; with their child
   rows, found by ``_dlt_root_id`` or the child table's merge key), and keys the source has that the
   warehouse still lacks are counted.

What it found is the stream's ``note`` in ``ops.run_log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import dlt
import sqlalchemy as sa

from connectors.sdk import Account, Stream
from warehouse import Warehouse
from warehouse.run_log import RUN, SCHEMA

ROOT_ID = "_dlt_root_id"


@dataclass(frozen=True)
class Reconciled:
    stream: str
    deleted: int
    missing: int

    @property
    def note(self) -> str:
        text = f"reconciled: {self.deleted} deleted at the source"
        if self.missing:
            text += (f", {self.missing} at the source but not loaded (older than the lookback: "
                     "run with --full-refresh)")
        return text


def _parent_link(table: dict) -> str | None:
    """How a child table's rows name their root row: dlt's ``_dlt_root_id`` (nested by dlt), or the
    merge key carrying the root's id (split off by the connector: Shopify's ``order_id``)."""
    columns = table.get("columns", {})
    if ROOT_ID in columns:
        return ROOT_ID
    return next((name for name, hints in columns.items() if hints.get("merge_key")), None)


def due(warehouse: Warehouse, account: str, every: timedelta | None, now: datetime) -> bool:
    """Whether ``account``'s next run reconciles: never when ``every`` is None, else when its last
    reconciling (or full) run finished more than ``every`` ago. A first load is a full one."""
    if every is None:
        return False
    with warehouse.engine.connect() as conn:
        if not warehouse.table_exists(SCHEMA, "run_log", conn):
            return False
        last, loaded = conn.execute(sa.text(f"""
            select max(case when reconciled then finished_at end), max(finished_at) from {SCHEMA}.run_log
            where account = :account and stream = '{RUN}' and outcome = 'success'"""), {"account": account}).one()
    if loaded is None:
        return False  # the first run loads everything
    last = last or loaded
    return now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) >= every


def reconcile_keys(account: Account, pipeline: dlt.Pipeline, warehouse: Warehouse) -> list[Reconciled]:
    """Delete what the source deleted, stream by stream, and count what it has that was never loaded."""
    found = []
    for stream in account.connector.streams_for(account):
        if stream.write_disposition != "merge":
            continue  # a replaced table is whole after every run
        keys = account.connector.source_keys(account, stream)
        if keys is None:
            continue
        found.append(_reconcile(stream, {tuple(str(v) for v in key) for key in keys}, account, pipeline, warehouse))
    return found


def _reconcile(stream: Stream, at_source: set[tuple[str, ...]], account: Account, pipeline: dlt.Pipeline,
               warehouse: Warehouse) -> Reconciled:
    naming = pipeline.default_schema.naming
    table = naming.normalize_table_identifier(stream.name)
    columns = [naming.normalize_identifier(column) for column in stream.primary_key]
    quote = warehouse.engine.dialect.identifier_preparer.quote
    root = f"{quote(account.dataset)}.{quote(table)}"
    schema = pipeline.default_schema
    children = {name: _parent_link(schema.get_table(name)) for name in schema.data_table_names()
                if name.startswith(f"{table}__")}
    with warehouse.engine.begin() as conn:
        if not warehouse.table_exists(account.dataset, table, conn):
            return Reconciled(stream.name, 0, len(at_source))
        loaded = {tuple(str(v) for v in row): row for row in conn.execute(sa.text(
            f"select {', '.join(quote(c) for c in columns)} from {root}"))}
        gone = [dict(zip(columns, loaded[key], strict=True)) for key in loaded.keys() - at_source]
        if gone:
            match = " and ".join(f"{quote(c)} = :{c}" for c in columns)
            for child, link in children.items():  # their child rows first, while the parents still say which
                target = f"{quote(account.dataset)}.{quote(child)}"
                if link == ROOT_ID:
                    conn.execute(sa.text(f"delete from {target} where {ROOT_ID} in "
                                         f"(select _dlt_id from {root} where {match})"), gone)
                elif link is not None and len(columns) == 1:
                    conn.execute(sa.text(f"delete from {target} where {quote(link)} = :{columns[0]}"), gone)
            conn.execute(sa.text(f"delete from {root} where {match}"), gone)
    return Reconciled(stream.name, len(gone), len(at_source - loaded.keys()))
