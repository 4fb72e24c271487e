"""The fast path from a REST page to the warehouse: each page becomes Arrow tables with declared types.

dlt's default path normalises every record in Python (flattening nested objects, splitting nested lists
into ``<table>__<field>`` tables joined by ``_dlt_parent_id``, inferring types value by value); for
Shopify that was half of a sync. A stream declared :class:`Columnar` instead has each page built into one
Arrow table (``pyarrow`` converts the decoded JSON in C++), money cast to ``decimal128`` and timestamps with
offsets to ``timestamp[us, UTC]`` in one vectorised cast, before dlt's incremental reads it (dlt filters
and deduplicates Arrow tables vectorised too). After the incremental, the nested lists are split into
child tables keyed by their parent's id (``order_id``), which dlt loads as they are.

A child table is replaced per parent on every load (``delete-insert`` on the parent's key), so a line
removed from an order vanishes with the order's next load, and a parent deleted at the source takes its
child rows along (:meth:`Columnar.deletions`). Only declared columns land: the declaration is the
table's contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items_transform import ItemTransform

from .errors import SourceDataError
from .quarantine import Rejected, excerpt, notice, reject
from .spec import Stream

Columns = tuple[tuple[str, str], ...]
NESTED = "__"  # a column ``customer__id`` reads field ``id`` of the record's ``customer`` object
LOAD_ID = "_dlt_load_id"
# Records per Arrow table handed to dlt (pages joined, see rest.paginate_in_batches): dlt's fixed cost
# per extracted table stays small, and a batch of decoded records stays a few tens of MB.
BATCH_ROWS = 5000
SAMPLED = 20  # records of each batch whose field names are compared with the declaration

# dlt data type -> (type the JSON value is read as, type it lands as). Money arrives as strings and
# lands exact (DECIMAL(38,9), dlt's own decimal); times arrive as ISO strings with an offset and land UTC.
ARROW_TYPES: dict[str, tuple[pa.DataType, pa.DataType]] = {
    "text": (pa.string(), pa.string()),
    "bigint": (pa.int64(), pa.int64()),
    "double": (pa.float64(), pa.float64()),
    "bool": (pa.bool_(), pa.bool_()),
    "decimal": (pa.string(), pa.decimal128(38, 9)),
    "timestamp": (pa.string(), pa.timestamp("us", tz="UTC")),
    "text_list": (pa.list_(pa.string()), pa.string()),  # joined by commas (spec.LANDS_AS)
}


@dataclass(frozen=True)
class Child:
    """A list field of a parent record that becomes its own table, ``<parent table>__<field>``.

    ``key_as`` names the column this child's own children refer to it by (``refund_id``)."""

    field: str
    columns: Columns
    primary_key: str = "id"
    key_as: str | None = None
    children: tuple[Child, ...] = ()


@dataclass(frozen=True)
class Columnar:
    """How a stream's pages become Arrow tables: the parent's columns are the stream's ``column_types``
    (record field ``key`` its id), ``children`` its list fields split into tables, and ``key_as`` the
    column every child table carries its root record's id in (``order_id``), on which child rows are
    replaced and deleted."""

    children: tuple[Child, ...] = ()
    key_as: str = ""
    key: str = "id"

    def steps(self, account: str, stream: Stream) -> list[ItemTransform[Any, Any]]:
        """The pipe steps of ``stream`` read this way: pages to Arrow before the incremental (the
        stream's ``column_types`` are its columns), child tables split after it."""
        return [PagesToArrow(account, stream.name, stream.column_types, self.children, self.key),
                SplitChildren(stream.name, self)]

    def tables(self, table: str) -> Iterator[tuple[str, Child]]:
        """Every child table below ``table`` with its declaration, parents first."""
        def walk(parent: str, children: tuple[Child, ...]) -> Iterator[tuple[str, Child]]:
            for child in children:
                name = f"{parent}{NESTED}{child.field}"
                yield name, child
                yield from walk(name, child.children)
        yield from walk(table, self.children)

    def table_hints(self, table: str) -> Iterator[dict[str, Any]]:
        """dlt hints of each child table: merged by delete-insert on the root key, so a load replaces
        all child rows of the records it carries; deduplicated on the child's own key. No column
        types: the Arrow schema carries them exactly, and dlt validates every declared column again
        for every Arrow table it extracts (a fifth of a sync when they were declared here)."""
        for name, child in self.tables(table):
            yield {"table_name": name, "primary_key": child.primary_key, "merge_key": self.key_as,
                   "write_disposition": {"disposition": "merge", "strategy": "delete-insert"}}

    def deletions(self, table: str, ids: pa.Array, flag: str) -> Iterator[Any]:
        """Rows that hard-delete the records ``ids`` (flagged by the ``hard_delete`` column ``flag``) and
        every child row of them: one row per child table matching the root key. Its own key is the
        negated root id, which no real row has (ids are positive), so it deletes nothing else."""
        ids = ids.cast(pa.int64())
        flags = pa.array([True] * len(ids))
        yield stamped(pa.table({self.key: ids, flag: flags}), table, (self.key,))
        for name, child in self.tables(table):
            yield stamped(pa.table({child.primary_key: pc.negate(ids), self.key_as: ids, flag: flags}), name,
                          (child.primary_key, self.key_as))


def stamped(table: pa.Table, name: str, keys: Sequence[str]) -> Any:
    """``table`` bound for table ``name``, its ``keys`` declared NOT NULL as dlt declares them, with the
    id of the load extracting it as ``_dlt_load_id`` (what incremental models select new rows by): set
    here, dlt moves the file to the loader as it is instead of rewriting it to add the column."""
    load_id = dlt.current.load_package_state()["load_id"]
    table = table.append_column(LOAD_ID, pa.array([load_id] * table.num_rows, pa.string()))
    schema = pa.schema([field.with_nullable(False) if field.name in keys else field for field in table.schema])
    return dlt.mark.with_table_name(pa.Table.from_arrays(table.columns, schema=schema), name)


def _read_type(columns: Columns, children: Sequence[Child], final: bool) -> pa.StructType:
    """The struct type of one record: ``customer__id`` columns nested as ``customer: struct<id>``, each
    child as a list of its records."""
    fields: dict[str, Any] = {}
    for column, kind in columns:
        arrow = ARROW_TYPES[kind][1 if final else 0]
        *path, leaf = column.split(NESTED)
        node = fields
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = arrow
    for child in children:
        fields[child.field] = pa.list_(_read_type(child.columns, child.children, final))

    def build(node: dict[str, Any]) -> pa.StructType:
        return pa.struct([(name, build(value) if isinstance(value, dict) else value) for name, value in node.items()])
    return build(fields)


class _Located(Exception):
    """The first value a declared type cannot hold, found by walking the page in Python (error path
    only): its record and field path."""

    def __init__(self, record: Any, field: str, value: Any, kind: str) -> None:
        super().__init__(field)
        self.record, self.field, self.value, self.kind = record, field, value, kind


def _check(record: dict[str, Any], columns: Columns, children: Sequence[Child], prefix: str, root: Any) -> None:
    for column, kind in columns:
        value: Any = record
        for part in column.split(NESTED):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and not _fits(value, kind):
            raise _Located(root, prefix + column.replace(NESTED, "."), value, kind)
    for child in children:
        for i, item in enumerate(record.get(child.field) or ()):
            if isinstance(item, dict):
                _check(item, child.columns, child.children, f"{prefix}{child.field}[{i}].", root)


def _fits(value: Any, kind: str) -> bool:
    if kind == "decimal":
        try:
            return isinstance(value, str) and Decimal(value).is_finite()
        except InvalidOperation:
            return False
    if kind == "timestamp":
        try:
            return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    if kind == "text_list":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    types: dict[str, tuple[type, ...]] = {"text": (str,), "bigint": (int,), "double": (int, float), "bool": (bool,)}
    return isinstance(value, types[kind]) and not (kind in ("bigint", "double") and isinstance(value, bool))


class AfterIncremental(ItemTransform[Any, Any]):
    """A pipe step placed after dlt's incremental (``rest_api``'s processing steps all run before it),
    turning each Arrow table that passed it into zero or more items."""

    placement_affinity: ClassVar[float] = 1.5  # the incremental's is 1

    def __init__(self) -> None:
        super().__init__(lambda item: item)

    def __call__(self, item: Any, meta: Any = None) -> Iterator[Any]:
        if isinstance(item, pa.Table):
            yield from self.split(item)
        else:
            yield item

    def split(self, table: pa.Table) -> Iterator[Any]:
        raise NotImplementedError


class HardDeletes(AfterIncremental):
    """Deletion events (a table with the deleted records' ids in ``id_column``) become the rows that
    hard-delete those records and their child rows (:meth:`Columnar.deletions`)."""

    def __init__(self, table: str, layout: Columnar, id_column: str, flag: str) -> None:
        super().__init__()
        self.table, self.layout, self.id_column, self.flag = table, layout, id_column, flag

    def split(self, table: pa.Table) -> Iterator[Any]:
        yield from self.layout.deletions(self.table, table.column(self.id_column).combine_chunks(), self.flag)


class PagesToArrow(ItemTransform[Any, Any]):
    """A pipe step before dlt's incremental: a page of decoded records becomes one typed Arrow table,
    nested objects as structs and child lists as lists of structs. A record with a value that does not
    fit its declared type is quarantined naming its field (found by walking the page again, only when the
    vectorised cast failed) and the rest of the page loads."""

    placement_affinity: ClassVar[float] = 0  # before the incremental (1)

    def __init__(self, account: str, stream: str, columns: Columns, children: tuple[Child, ...] = (),
                 key: str = "id") -> None:
        super().__init__(lambda item: item)
        self.account, self.stream, self.columns, self.children = account, stream, columns, children
        self.key = key
        self.declared = {column.split(NESTED)[0] for column, _ in columns} | {child.field for child in children}
        self.reported: set[str] = set()
        self.joined = [column for column, kind in columns if kind == "text_list" and NESTED not in column]
        self.read = pa.schema(_read_type(columns, children, final=False))
        self.final = pa.schema(_read_type(columns, children, final=True))

    def __call__(self, item: Any, meta: Any = None) -> Any:
        if not isinstance(item, list):
            return item
        self._report_undeclared(item)
        try:
            table = self._typed(item)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            kept = self._sift(item)
            if len(kept) == len(item):
                raise SourceDataError(self.account, self.stream, "a page does not fit the declared columns") from exc
            if not kept:
                return None
            table = self._typed(kept)
        return table

    def _typed(self, records: list[Any]) -> pa.Table:
        table = pa.Table.from_pylist(records, schema=self.read)
        for column in self.joined:
            at = table.schema.get_field_index(column)
            table = table.set_column(at, column, pc.binary_join(table.column(column), ","))
        return table.cast(self.final)

    def _report_undeclared(self, page: list[Any]) -> None:
        """Only declared columns land (the declaration is the table's contract); fields the source sends
        beyond them are reported (the runner writes each to the run log once, the first time it is seen;
        the first records of each batch are looked at: cheap)."""
        sent = {key for record in page[:SAMPLED] if isinstance(record, dict) for key in record}
        for field in sorted(sent - self.declared - self.reported):
            self.reported.add(field)
            notice(self.account, self.stream, f"field {field!r} is not a declared column: not loaded")

    def _sift(self, page: list[Any]) -> list[Any]:
        """The records of ``page`` that fit the declared columns (error path only: the vectorised cast
        failed); each one that does not is quarantined naming its field."""
        kept = []
        for index, record in enumerate(page):
            try:
                if not isinstance(record, dict):
                    raise _Located(None, "", record, "object")
                _check(record, self.columns, self.children, "", record.get(self.key))
                kept.append(record)
            except _Located as found:
                wanted = {"decimal": "a money amount", "timestamp": "a timestamp with an offset"}.get(
                    found.kind, f"of type {found.kind}")
                reject(Rejected(self.account, self.stream, f"item {index + 1} of a batch",
                                None if found.record is None else str(found.record), found.field or None,
                                f"{found.value!r:.80} is not {wanted}", excerpt(record)))
        return kept


class SplitChildren(AfterIncremental):
    """A pipe step after dlt's incremental: the parent table loses its child lists and nested structs
    (``customer.id`` becomes ``customer__id``), and each child list becomes its own table carrying the
    root key (and its parent's key, ``key_as``). Every table gets the load's id, so models read a load's
    rows without dlt rewriting the files."""

    def __init__(self, table: str, layout: Columnar) -> None:
        super().__init__()
        self.table, self.layout = table, layout

    def split(self, item: pa.Table) -> Iterator[Any]:
        tables = [(self.table, self._flat(item.drop_columns([c.field for c in self.layout.children])),
                   (self.layout.key,))]
        root_ids = item.column(self.layout.key)
        self._children(item, self.table, self.layout.children, root_ids, None, tables)
        for name, table, keys in tables:
            yield stamped(table, name, keys)

    def _children(self, parent: pa.Table, name: str, children: Sequence[Child], root_ids: pa.ChunkedArray,
                  parent_key: tuple[str, pa.ChunkedArray] | None,
                  out: list[tuple[str, pa.Table, tuple[str, ...]]]) -> None:
        for child in children:
            lists = parent.column(child.field).combine_chunks()
            rows = pa.Table.from_struct_array(pc.list_flatten(lists))
            at = pc.list_parent_indices(lists)
            rows = rows.append_column(self.layout.key_as, pc.take(root_ids, at))
            if parent_key is not None:
                rows = rows.append_column(parent_key[0], pc.take(parent_key[1], at))
            child_name = f"{name}{NESTED}{child.field}"
            own_key = (child.key_as, rows.column(child.primary_key)) if child.key_as else None
            self._children(rows, child_name, child.children, rows.column(self.layout.key_as), own_key, out)
            out.append((child_name, self._flat(rows.drop_columns([c.field for c in child.children])),
                        (child.primary_key, self.layout.key_as)))

    @staticmethod
    def _flat(table: pa.Table) -> pa.Table:
        while any(pa.types.is_struct(field.type) for field in table.schema):
            table = table.flatten()
        return table.rename_columns([name.replace(".", NESTED) for name in table.column_names])
