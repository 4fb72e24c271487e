"""Records a run cannot trust are set aside, named, and counted, instead of blocking the account.

A record without its primary key, without a field its stream requires, or with a value its declared
type cannot hold would otherwise fail the load package (a NOT NULL key), land in a silent variant column
(``quantity__v_text``) or as a NULL. :class:`RecordGate`, a pipe step the runner adds to every stream,
takes such records out of the batch and hands them to the run's :class:`Quarantine`, which the runner
writes to ``ops.quarantine``; the rest of the batch loads.

Outside a run (no quarantine collecting) a rejected record raises :class:`SourceDataError` instead, so
nothing is ever dropped without being reported.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items_transform import ItemTransform

from .errors import SourceDataError
from .spec import Stream

EXCERPT_CHARS = 600
log = logging.getLogger(__name__)
NESTED = "__"  # a declared column ``customer__id`` is field ``id`` of the record's ``customer`` object


@dataclass(frozen=True)
class Rejected:
    """One record set aside: where it came from and the first reason it cannot load."""

    account: str
    stream: str
    location: str      # "batch 3, item 17" or a file name: enough to find it at the source
    record_key: str | None
    field: str | None
    reason: str
    excerpt: str       # the record as JSON, cut short; secrets are replaced by the runner


class Quarantine:
    """The records one run set aside, and what the streams noticed on the way (columns a file has that
    its mapping leaves out). Thread-safe: dlt extracts parallelized resources on a pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rejected: list[Rejected] = []
        self.notices: dict[str, list[str]] = {}

    def add(self, rejected: Rejected) -> None:
        with self._lock:
            self.rejected.append(rejected)

    def notice(self, stream: str, text: str) -> None:
        with self._lock:
            if text not in self.notices.setdefault(stream, []):
                self.notices[stream].append(text)

    def counts(self) -> Counter[str]:
        return Counter(item.stream for item in self.rejected)


_active: Quarantine | None = None


@contextmanager
def collecting(quarantine: Quarantine) -> Iterator[Quarantine]:
    """Collect what the streams reject into ``quarantine`` while the block runs (one run at a time)."""
    global _active
    previous, _active = _active, quarantine
    try:
        yield quarantine
    finally:
        _active = previous


def reject(rejected: Rejected) -> None:
    """Quarantine ``rejected`` in the run collecting, or raise when none is."""
    if _active is None:
        raise SourceDataError(rejected.account, rejected.stream, rejected.reason, record=rejected.record_key,
                              field=rejected.field)
    _active.add(rejected)


def notice(account: str, stream: str, text: str) -> None:
    """Something about ``stream`` worth reporting once in the run's log (``ops.run_log.note``), which is
    not a reason to set a record aside; logged as a warning too."""
    log.warning("account %r, stream %r: %s", account, stream, text)
    if _active is not None:
        _active.notice(stream, text)


def quarantining(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A record map (a connector's conversion) whose :class:`SourceDataError` quarantines that record
    instead of failing the run: it maps the record to None, which :class:`RecordGate` drops."""
    @wraps(convert)
    def safely(record: Any) -> Any:
        try:
            return convert(record)
        except SourceDataError as exc:
            reject(Rejected(exc.account, exc.stream, "converting a record", exc.record, exc.field, exc.reason,
                            excerpt(record)))
            return None
    return safely


def excerpt(record: Any) -> str:
    text = json.dumps(record, default=str, ensure_ascii=False)  # as the source ordered it: ids come first
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def fits(value: Any, kind: str) -> bool:
    """Whether dlt can load ``value`` into a column of dlt type ``kind`` without a variant column: the
    value itself, or text it coerces exactly (a money string, an ISO time, a numeric id as text)."""
    if isinstance(value, bool):
        return kind in ("bool", "text", "json")
    if kind == "text":
        return isinstance(value, str | int | Decimal)
    if kind == "bigint":
        return isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())
    if kind in ("decimal", "double"):
        if isinstance(value, int | float | Decimal):
            return True
        try:
            return isinstance(value, str) and Decimal(value).is_finite()
        except InvalidOperation:
            return False
    if kind == "timestamp":
        if isinstance(value, datetime):
            return True
        try:
            return isinstance(value, str) and datetime.fromisoformat(value) is not None
        except ValueError:
            return False
    if kind == "date":
        if isinstance(value, date):
            return True
        try:
            return isinstance(value, str) and date.fromisoformat(value[:10]) is not None
        except ValueError:
            return False
    if kind == "bool":
        return False  # a bool was handled above; "true" or 1 would land as a variant
    if kind == "json":
        return isinstance(value, dict | list)
    return True


def field_value(record: dict[str, Any], column: str) -> Any:
    value: Any = record
    for part in column.split(NESTED):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _routed_elsewhere(meta: Any, table: str) -> bool:
    """Whether dlt's item meta sends the item to a table other than ``table``."""
    name = getattr(meta, "table_name", None) or (getattr(meta, "hints", None) or {}).get("table_name")
    return isinstance(name, str) and name != table


class RecordGate(ItemTransform[Any, Any]):
    """A pipe step after the connector's own conversions and before dlt's incremental: each record of a
    batch (decoded records, or an Arrow table) is checked against its stream's declaration (primary key,
    required fields, declared column types); records that fail are quarantined, the rest go on.

    A key column declared ``bigint`` that holds "abc" is unparsable: quarantined, not loaded as text. A
    None in a batch is a record a :func:`quarantining` conversion set aside; it is dropped here."""

    placement_affinity: ClassVar[float] = 0.5  # after conversions and the Arrow fast path (0), before
                                                # the incremental (1), which reads the cursor

    def __init__(self, account: str, stream: Stream) -> None:
        super().__init__(lambda item: item)
        self.account, self.stream = account, stream
        cursor = (stream.cursor.field,) if stream.cursor else ()  # dlt's incremental cannot place a record without it
        self.required = tuple(dict.fromkeys((*stream.primary_key, *cursor, *stream.required)))
        self.types = dict(stream.column_types)
        self.batches = 0

    def __call__(self, item: Any, meta: Any = None) -> Any:
        if _routed_elsewhere(meta, self.stream.name):
            return item  # bound for another table (a file stream's own quarantine rows)
        self.batches += 1
        if isinstance(item, pa.Table):
            return self._table(item)
        if isinstance(item, list):
            kept = [record for index, record in enumerate(item) if record is not None and self._keep(record, index)]
            return item if len(kept) == len(item) else kept  # as it was: dlt's markers are lists too
        return item if item is not None and self._keep(item, 0) else None

    def _keep(self, record: Any, index: int) -> bool:
        if not isinstance(record, dict):
            return True  # not a record (a marker dlt passes through)
        problem = self.problem(record)
        if problem is None:
            return True
        field, reason = problem
        key = ",".join(str(record.get(column)) for column in self.stream.primary_key)
        reject(Rejected(self.account, self.stream.name, f"batch {self.batches}, item {index + 1}", key, field,
                        reason, excerpt(record)))
        return False

    def problem(self, record: dict[str, Any]) -> tuple[str, str] | None:
        """The first field that keeps ``record`` out, with why; None when it may load."""
        for column in self.required:
            value = field_value(record, column)  # "" is a valid key part (a CSV's sheet), not a value
            if value is None or (column not in self.stream.primary_key and _blank(value)):
                return column, f"{self._role(column)} {column!r} is missing or empty"
        for column, kind in self.types.items():
            value = field_value(record, column)
            if value is not None and not fits(value, kind):
                return column, f"{value!r:.80} is not a {kind}"
        return None

    def _role(self, column: str) -> str:
        if column in self.stream.primary_key:
            return "primary key"
        return "cursor" if self.stream.cursor and column == self.stream.cursor.field else "required field"

    def _table(self, table: pa.Table) -> pa.Table:
        """Arrow batches are typed already (a typed read or the fast path's cast): only missing keys and
        required fields are left to find."""
        present = [column for column in self.required if column in table.column_names]
        missing = [column for column in self.required if column not in table.column_names]
        if missing:
            raise SourceDataError(self.account, self.stream.name, "batch lacks the column", field=missing[0])
        if not present or not any(table.column(column).null_count for column in present):
            return table
        bad = pc.is_null(table.column(present[0]))
        for column in present[1:]:
            bad = pc.or_(bad, pc.is_null(table.column(column)))
        for index in pc.indices_nonzero(bad).to_pylist():
            row = table.slice(index, 1).to_pylist()[0]
            column = next(column for column in present if row.get(column) is None)
            reject(Rejected(self.account, self.stream.name, f"batch {self.batches}, row {index + 1}",
                            ",".join(str(row.get(k)) for k in self.stream.primary_key), column,
                            f"{self._role(column)} {column!r} is missing", excerpt(row)))
        return table.filter(pc.invert(bad))
