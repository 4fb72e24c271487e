"""The dlt source: one ``sql_table`` (pyarrow backend) per U8 table, incremental where U8 keeps a
modification time or rowversion.

Time zones, the one subtle part. U8 writes naive Shanghai wall-clock times. The reflected
DATETIME columns are declared zone-aware to dlt (``_zoned``) and dlt's arrow conversion reads the
naive values in ``settings.timezone`` (``backend_kwargs["tz"]``), so the incremental state and the
warehouse hold true instants (UTC). The SQL WHERE, however, compares a naive local column: the
query adapter (``_local_window``) turns the UTC range back into local wall-clock time before it
reaches the database. Comparing UTC digits with local digits would skip eight hours of changes
west of the source zone and re-read eight hours east of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.common.libs.pyarrow import PyToArrowConversionException
from dlt.extract.source import DltSource
from dlt.sources.sql_database import TableLoader, sql_table
from dlt.sources.sql_database.arrow_helpers import row_tuples_to_arrow

from connectors.sdk import SourceDataError

from .client import create_engine, reflect, retrying
from .settings import U8Settings
from .streams import STREAMS, U8Table

# What each dlt data type must be in Python before arrow conversion; anything else is malformed.
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "timestamp": (datetime,), "date": (date,), "decimal": (Decimal, int), "bigint": (int,),
    "double": (float, int, Decimal), "bool": (bool, int), "text": (str,),
}
CONVERSION_ERRORS = (PyToArrowConversionException, pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError,
                     ArithmeticError)


def _zoned(sql_type: Any) -> Any:
    """Declare naive DATETIME columns zone-aware so dlt reads them in the source zone."""
    if isinstance(sql_type, sa.DateTime) and not getattr(sql_type, "timezone", False):
        return sa.DateTime(timezone=True)
    return sql_type


def _local_naive(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None) if moment.tzinfo else moment


def _local_window(zone: ZoneInfo, query: Any, table: sa.Table, incremental: Any, engine: sa.Engine) -> Any:
    """Rebuild dlt's closed-open cursor range in the source's local wall-clock time."""
    start, end = incremental.get_current_range()
    column = table.c[incremental.cursor_path]
    query = table.select()
    if start is not None:
        query = query.where(column >= _local_naive(start, zone))
    if end is not None:
        query = query.where(column < _local_naive(end, zone))
    return query


class U8TableLoader(TableLoader):
    """dlt's loader with the two things a legacy ERP needs: the query is retried on transient
    errors, and a value that cannot be converted fails with the account, table, record and field.

    A failure after rows were handed on is not retried (they would be yielded twice); the run fails
    and the next run resumes from the last committed cursor."""

    account: str
    u8: U8Table
    settings: U8Settings

    def _load_rows(self, query: Any, backend_kwargs: dict[str, Any]) -> Iterator[Any]:
        for attempt in retrying(self.settings):
            with attempt:
                conn = self.engine.connect()
                try:
                    result = conn.execution_options(yield_per=self.chunk_size).execute(query)
                except BaseException:
                    conn.close()
                    raise
        try:
            yield from self._convert_result(result, backend_kwargs)
        finally:
            result.close()
            conn.close()

    def _convert_result(self, result: Any, backend_kwargs: dict[str, Any]) -> Iterator[Any]:
        names = list(result.keys())
        columns = {name: self.columns.get(name, {"name": name}) for name in names}
        partitions = result.partitions(size=self.chunk_size)
        while True:
            try:
                partition = next(partitions)
            except StopIteration:
                return
            except CONVERSION_ERRORS as exc:  # the driver or SQLAlchemy could not read a value
                raise self._malformed(self._raw_rows(), names, columns, exc, processed=False) from exc
            rows = [row._data for row in partition]
            try:
                yield row_tuples_to_arrow(rows, columns=columns, tz=backend_kwargs.get("tz", "UTC"))
            except CONVERSION_ERRORS as exc:
                raise self._malformed(rows, names, columns, exc, processed=True) from exc

    def _raw_rows(self) -> list[Sequence[Any]]:
        """The failing query again, as text, so no type processing can fail before we look."""
        sql = str(self.make_query().compile(self.engine, compile_kwargs={"literal_binds": True}))
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]

    def _malformed(self, rows: Sequence[Sequence[Any]], names: list[str], columns: dict[str, Any],
                   exc: BaseException, *, processed: bool) -> SourceDataError:
        key = self.u8.stream.primary_key[0]
        dialect = self.engine.dialect
        for row in rows:
            for name, value in zip(names, row, strict=True):
                if value is None:
                    continue
                expected = PYTHON_TYPES.get(columns[name].get("data_type", ""), (object,))
                try:
                    if not processed:
                        processor = self.table.c[name].type._cached_result_processor(dialect, None)
                        value = processor(value) if processor else value
                    valid = isinstance(value, expected)
                except CONVERSION_ERRORS:
                    valid = False
                if not valid:
                    record = row[names.index(key)]
                    return SourceDataError(
                        self.account, self.u8.stream.name,
                        f"U8 table {self.u8.table}: value {row[names.index(name)]!r} is not a valid "
                        f"{columns[name].get('data_type')}", record=f"{key}={record!r}", field=name)
        return SourceDataError(self.account, self.u8.stream.name,
                               f"U8 table {self.u8.table}: unreadable value ({type(exc).__name__}: {exc})")


def _loader(account: str, u8: U8Table, settings: U8Settings) -> type[U8TableLoader]:
    """dlt instantiates the loader class itself, so the context travels as class attributes."""
    return type(f"U8TableLoader_{u8.table}", (U8TableLoader,), {"account": account, "u8": u8, "settings": settings})


def u8_source(account: str, settings: U8Settings, streams: list[str]) -> DltSource:
    """Only the account's streams are reflected: a U8 edition without a table the account does not load
    still runs."""
    engine = create_engine(settings)
    selected = [STREAMS[name] for name in streams]
    metadata = reflect(engine, [u8.table for u8 in selected], settings)
    zone = ZoneInfo(settings.timezone)

    def resource(u8: U8Table) -> Any:
        stream, cursor = u8.stream, u8.stream.cursor
        zoned_cursor = cursor is not None and isinstance(metadata.tables[u8.table].c[cursor.field].type, sa.DateTime)
        return sql_table(
            engine, table=u8.table, metadata=metadata, backend="pyarrow", chunk_size=settings.chunk_size,
            reflection_level="full_with_precision", type_adapter_callback=_zoned,
            backend_kwargs={"tz": settings.timezone},
            incremental=cursor.incremental(initial_value=None) if cursor else None,
            query_adapter_callback=partial(_local_window, zone) if zoned_cursor else None,
            table_loader_class=_loader(account, u8, settings),
            write_disposition=stream.write_disposition, primary_key=list(stream.primary_key),
        ).with_name(stream.name)

    @dlt.source(name="yonyou_u8", max_table_nesting=0)
    def yonyou_u8() -> list[Any]:
        return [resource(u8) for u8 in selected]

    return yonyou_u8()
