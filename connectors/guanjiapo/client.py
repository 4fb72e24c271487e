"""The streams of one account, derived from its mapping (:mod:`.settings`): the warehouse stream each
entity lands as, its key in warehouse columns, and its cursor semantics, declared once here.

A mapped cursor column lands under a fixed name (``modified_at``, ``row_version``), so the cursor and the
staging models do not depend on what the edition calls it. The lags are U8's, for the same reasons
(README.md, "Cursors"): a modification time is stamped before its transaction commits, a rowversion when
the row is written, so either can become visible behind newer values.
"""

from __future__ import annotations

from connectors.sdk import Cursor, Stream
from connectors.sdk.sql_source import SqlTable

from .settings import CURSOR_COLUMN, GuanjiapoSettings, SourceCursor, SourceTable

MODIFIED_LAG = 900.0     # seconds: a document saved in a long transaction
ROWVERSION_LAG = 20_000  # versions: the database's writes during such a transaction

KEYS = {"goods": ("goods_id",), "warehouses": ("warehouse_id",), "stock": ("goods_id", "warehouse_id"),
        "partners": ("partner_id",), "sales": ("document_id",), "sale_lines": ("line_id",)}
DESCRIPTIONS = {
    "goods": "Goods (ptype): code is the merchant SKU; name, spec, unit, barcode.",
    "warehouses": "Warehouses (stock, 仓库): a handful of rows.",
    "stock": "On-hand quantity per goods and warehouse (GoodsStocks; assumed).",
    "partners": "Partners (Btype, 往来单位): customers and suppliers, with contact and phone.",
    "sales": "Sales document headers (Dlyndx) of the account's sales_vch_types.",
    "sale_lines": "Sales document lines (DlySale; assumed) of the account's sales_vch_types.",
}
NOT_NULL = {"stock": ("quantity",), "sale_lines": ("quantity",)}


def cursor(mapped: SourceCursor | None, timezone: str) -> Cursor | None:
    """The cursor semantics of a mapped cursor column: a modification time read in the account's zone,
    or a version counter."""
    if mapped is None:
        return None
    if mapped.kind == "rowversion":
        return Cursor(field=CURSOR_COLUMN["rowversion"], lag=ROWVERSION_LAG, dedup_on_boundary=True, versions=True)
    return Cursor(field=CURSOR_COLUMN["modified"], source_timezone=timezone, lag=MODIFIED_LAG, dedup_on_boundary=True)


def sql_table(entity: str, table: SourceTable, settings: GuanjiapoSettings) -> SqlTable:
    """One entity as a stream: merged on its key where a cursor shows changes, replaced where none does;
    sales documents and lines only of the sales ``VchType`` values."""
    declared = cursor(table.cursor, settings.timezone)
    columns = dict(table.columns)
    if table.cursor is not None:
        columns[CURSOR_COLUMN[table.cursor.kind]] = table.cursor.column
    where = ((columns["vch_type"], settings.sales_vch_types),) if "vch_type" in columns else ()
    stream = Stream(entity, KEYS[entity], "merge" if declared else "replace", declared, DESCRIPTIONS[entity],
                    not_null=NOT_NULL.get(entity, ()))
    return SqlTable(table.table, stream, tuple(columns.items()), where)


def tables(settings: GuanjiapoSettings) -> tuple[SqlTable, ...]:
    """Every entity of the account's mapping, in the shipped order."""
    return tuple(sql_table(entity, table, settings) for entity, table in settings.tables().items())


SHIPPED_TABLES = tables(GuanjiapoSettings(url="sqlite:///guanjiapo.db"))
"""The streams of the shipped mapping: what ``channelhub connectors list`` and the docs show."""
