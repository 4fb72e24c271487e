"""Settings of one Guanjiapo account: where the database is, and which of its tables and columns hold
what channelhub reads (the mapping).

Guanjiapo's schema differs by edition and no vendor document of it was found, so the mapping is
configuration: :data:`SHIPPED` is the default (README.md says which parts are documented and which are
assumed), and an account overrides only what its edition names differently::

    mapping:
      goods: {table: ptype, columns: {barcode: BarCode2}}
      sales: {cursor: null}                      # no modification column: replaced every run

Each entity lands under fixed warehouse column names (the keys of ``columns``), so the staging models
read every edition alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from connectors.sdk import TimeZoneName
from connectors.sdk.sql_source import SqlSettings

# A table or column name as the database spells it (SQLAlchemy quotes it; no expressions).
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\"'`;\[\]]+$")]
CursorKind = Literal["modified", "rowversion"]
CURSOR_COLUMN = {"modified": "modified_at", "rowversion": "row_version"}  # where each kind lands


@dataclass(frozen=True)
class SourceCursor:
    """How a table shows its changed rows: a naive local modification time, or a rowversion."""

    column: str
    kind: CursorKind


@dataclass(frozen=True)
class SourceTable:
    """One entity's source table, its warehouse columns (-> source columns) and its cursor, if any."""

    table: str
    columns: dict[str, str]
    cursor: SourceCursor | None = None


# The shipped mapping: what third-party code shows of Guanjiapo's SQL Server tables (Dlyndx, Btype,
# ptype, stock), completed with assumptions for the rest (README.md, "The shipped mapping").
SHIPPED: dict[str, SourceTable] = {
    "goods": SourceTable("ptype", {"goods_id": "typeId", "code": "UserCode", "name": "FullName",
                                   "spec": "Standard", "unit": "Unit1", "barcode": "BarCode"}),
    "warehouses": SourceTable("stock", {"warehouse_id": "typeId", "code": "UserCode", "name": "FullName"}),
    "stock": SourceTable("GoodsStocks", {"goods_id": "PtypeId", "warehouse_id": "KtypeId", "quantity": "Qty"}),
    "partners": SourceTable("Btype", {"partner_id": "typeId", "code": "UserCode", "name": "FullName",
                                      "contact": "Contact", "phone": "Tel"}),
    "sales": SourceTable("Dlyndx", {"document_id": "VchCode", "number": "Number", "date": "Date",
                                    "vch_type": "VchType", "partner_id": "BtypeId", "warehouse_id": "KtypeId",
                                    "total": "Total", "draft": "Draft", "memo": "Memo"},
                         SourceCursor("UpdateTime", "modified")),
    "sale_lines": SourceTable("DlySale", {"line_id": "DlyCode", "document_id": "VchCode", "vch_type": "VchType",
                                          "goods_id": "PtypeId", "warehouse_id": "KtypeId", "quantity": "Qty",
                                          "price": "Price", "total": "Total"}),
}


class CursorSetting(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: SourceName
    kind: CursorKind


class TableSetting(BaseModel):
    """An account's override of one entity: any of its table, columns and cursor (``null``: none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: SourceName | None = None
    columns: dict[str, SourceName] = Field(default_factory=dict)
    cursor: CursorSetting | None = None


class GuanjiapoSettings(SqlSettings):
    """``url`` is a SQLAlchemy URL without the password, e.g.
    ``mssql+pyodbc://gjp_reader@gjp-host:1433/gjp_data?driver=ODBC+Driver+18+for+SQL+Server``; the
    password lives under ``secrets:``. ``sales_vch_types``: the ``VchType`` values of the documents read as
    sales; 11 is what third-party code writes for a sales document, *unverified* (another script reads 12
    as sales invoices): check your edition's ``vchtype`` table."""

    timezone: TimeZoneName = "Asia/Shanghai"   # the zone Guanjiapo's naive datetimes are written in
    sales_vch_types: tuple[int, ...] = Field((11,), min_length=1)
    mapping: dict[str, TableSetting] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_entities_and_columns(self) -> Self:
        for entity, setting in self.mapping.items():
            if entity not in SHIPPED:
                raise ValueError(f"mapping: unknown entity {entity!r} (known: {', '.join(SHIPPED)})")
            unknown = sorted(set(setting.columns) - set(SHIPPED[entity].columns))
            if unknown:
                raise ValueError(f"mapping.{entity}.columns: unknown column(s) {', '.join(map(repr, unknown))} "
                                 f"({entity} has: {', '.join(SHIPPED[entity].columns)})")
        return self

    def tables(self) -> dict[str, SourceTable]:
        """Every entity's table: the shipped mapping with the account's overrides laid over it."""
        resolved = {}
        for entity, shipped in SHIPPED.items():
            setting = self.mapping.get(entity, TableSetting())
            cursor = shipped.cursor
            if "cursor" in setting.model_fields_set:
                cursor = SourceCursor(setting.cursor.column, setting.cursor.kind) if setting.cursor else None
            resolved[entity] = SourceTable(setting.table or shipped.table, {**shipped.columns, **setting.columns}, cursor)
        return resolved
