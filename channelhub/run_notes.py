"""What a run notes in ``ops.run_log.note`` beside its counts, per stream: columns it added, what the
reconciliation found, and what the streams noticed (fields a declared stream does not load, columns a
file has that its mapping leaves out), each reported the first time only."""

from __future__ import annotations

from collections.abc import Iterable

import dlt
import sqlalchemy as sa

from channelhub.reconcile import Reconciled
from warehouse import Warehouse


def table_columns(pipeline: dlt.Pipeline) -> dict[str, set[str]]:
    if not pipeline.default_schema_name:
        return {}
    return {table["name"]: set(table["columns"]) for table in pipeline.default_schema.data_tables()}


def new_columns(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, list[str]]:
    """Columns a run added to tables that existed before it: fields the source started sending, which
    land (dlt evolves the table) and are reported once, in the run log, for someone to model or ignore."""
    added: dict[str, list[str]] = {}
    for table, columns in after.items():
        fresh = sorted(c for c in columns - before.get(table, columns) if not c.startswith("_dlt"))
        if fresh:
            added.setdefault(table.split("__")[0], []).extend(f"{table}.{column}" for column in fresh)
    return added


def new_notices(warehouse: Warehouse, account: str, notices: dict[str, list[str]]) -> dict[str, list[str]]:
    """The notices no earlier run of the account wrote to its log: a field the source keeps sending beyond
    the declaration is reported the first time, not on every run."""
    if not notices:
        return {}
    with warehouse.engine.connect() as conn:
        earlier = conn.execute(sa.text("select stream, note from ops.run_log where account = :account and "
                                       "note is not null"), {"account": account}).all()
    noted: dict[str, str] = {}
    for stream, note in earlier:
        noted[stream] = noted.get(stream, "") + "; " + note
    return {stream: fresh for stream, texts in notices.items()
            if (fresh := [text for text in texts if text not in noted.get(stream, "")])}


def stream_notes(added: dict[str, list[str]], reconciled: Iterable[Reconciled],
                 notices: dict[str, list[str]]) -> dict[str, str]:
    """Stream -> its note for the run log."""
    notes: dict[str, list[str]] = {stream: [f"new columns: {', '.join(columns)}"] for stream, columns in added.items()}
    for found in reconciled:
        notes.setdefault(found.stream, []).append(found.note)
    for stream, texts in notices.items():
        notes.setdefault(stream, []).extend(texts)
    return {stream: "; ".join(texts) for stream, texts in notes.items()}
