"""Settings of a spreadsheet drop folder: where the files are and how each file pattern maps to a table.

Merchants' exports differ per store and per ERP version, so nothing about a file's layout is
hard-coded: every stream names its file pattern, the accepted source headers per target column and
the type of each column. Validation happens at config load, so a typo fails ``channelhub check``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.sdk import RetrySettings, TimeZoneName

ColumnType = Literal["text", "decimal", "integer", "date", "datetime"]
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED_STREAMS = {"quarantine"}
# Columns every row carries; a mapping may not produce a column of the same name.
LINEAGE_COLUMNS = ("source_file", "source_sheet", "source_row", "row_key", "file_hash", "file_modified_at")
DEFAULT_SUBTOTAL_MARKERS = ("合计", "小计", "总计", "total", "subtotal", "grand total")


class StreamMapping(BaseModel):
    """How the files matching ``pattern`` become rows of one table.

    columns: target column -> the source header, or a list of accepted aliases (exports of the same
        report often differ: ``商品编码`` in one version, ``SKU`` or ``货号`` in the next).
    types: target column -> type; columns not listed are text.
    required: target columns that must have a value; key columns are always required.
    key: the columns identifying a row within one file (receipt no + SKU, or SKU + warehouse + date);
        duplicates within a file are quarantined and the key is kept as ``row_key``.
    currency: stamped on every row as ``currency`` (unless a ``currency`` column is mapped and filled),
        because store exports state money without one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(min_length=1)
    sheet: str | None = None
    columns: dict[str, str | list[str]] = Field(min_length=1)
    types: dict[str, ColumnType] = Field(default_factory=dict)
    required: list[str] = Field(default_factory=list)
    key: list[str] = Field(default_factory=list)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    subtotal_markers: list[str] = Field(default_factory=lambda: list(DEFAULT_SUBTOTAL_MARKERS))
    header_search_rows: int = Field(20, ge=1)

    @field_validator("columns")
    @classmethod
    def _columns(cls, columns: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for target, aliases in columns.items():
            if not IDENTIFIER.match(target):
                raise ValueError(f"target column {target!r} must be lower-case letters, digits and _")
            if target in LINEAGE_COLUMNS:
                raise ValueError(f"target column {target!r} is reserved for row lineage")
            if not aliases or (isinstance(aliases, list) and not all(a.strip() for a in aliases)):
                raise ValueError(f"target column {target!r} needs at least one non-empty source header")
        return columns

    @model_validator(mode="after")
    def _references(self) -> StreamMapping:
        for what, names in (("types", list(self.types)), ("required", self.required), ("key", self.key)):
            unknown = [name for name in names if name not in self.columns]
            if unknown:
                raise ValueError(f"{what} names columns not in columns: {unknown}")
        return self

    def aliases(self, target: str) -> list[str]:
        source = self.columns[target]
        return [source] if isinstance(source, str) else list(source)

    def type_of(self, target: str) -> ColumnType:
        return self.types.get(target, "text")

    @property
    def required_columns(self) -> list[str]:
        return list(dict.fromkeys([*self.key, *self.required]))


class SpreadsheetSettings(RetrySettings):
    """One drop folder. ``timezone`` is the zone of dates and times written without one."""

    folder: str = Field(min_length=1)
    timezone: TimeZoneName = "Asia/Shanghai"
    streams: dict[str, StreamMapping] = Field(min_length=1)

    @field_validator("streams")
    @classmethod
    def _stream_names(cls, streams: dict[str, StreamMapping]) -> dict[str, StreamMapping]:
        for name in streams:
            if not IDENTIFIER.match(name) or name in RESERVED_STREAMS:
                raise ValueError(f"stream name {name!r} must be lower-case letters, digits and _ "
                                 f"and not one of {sorted(RESERVED_STREAMS)}")
        return streams
