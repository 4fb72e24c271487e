"""The dlt source: one ``sql_table`` per U8 table on the SDK's exact connectorx path
(:mod:`connectors.sdk.sql`), incremental where U8 keeps a modification time or rowversion.

Time zones, the one subtle part. U8 writes naive Shanghai wall-clock times. The reflected DATETIME
columns are declared zone-aware to dlt and the loader reads the naive values in ``settings.timezone``,
so the incremental state and the warehouse hold true instants (UTC). The SQL WHERE, however, compares
a naive local column: the query adapter turns the UTC range back into local wall-clock time before it
reaches the database. Comparing UTC digits with local digits would skip eight hours of changes west
of the source zone and re-read eight hours east of it.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import dlt
import sqlalchemy as sa
from dlt.extract.source import DltSource
from dlt.sources.sql_database import sql_table

from connectors.sdk.sql import TableRead, exact_loader, exact_query, write_disposition, zoned

from .client import create_engine, reflect, retrying
from .settings import U8Settings
from .streams import STREAMS, U8Table


def u8_source(account: str, settings: U8Settings, streams: list[str]) -> DltSource:
    """Only the account's streams are reflected: a U8 edition without a table the account does not load
    still runs."""
    engine = create_engine(settings)
    selected = [STREAMS[name] for name in streams]
    metadata = reflect(engine, [u8.table for u8 in selected], settings)
    zone = ZoneInfo(settings.timezone)

    def resource(u8: U8Table) -> Any:
        stream, cursor = u8.stream, u8.stream.cursor
        table = metadata.tables[u8.table]
        local_cursor = cursor is not None and isinstance(table.c[cursor.field].type, sa.DateTime)
        read = TableRead(account, stream.name, u8.table, stream.primary_key[0], settings.timezone,
                         partial(retrying, settings))
        return sql_table(
            engine, table=u8.table, metadata=metadata, backend="connectorx", chunk_size=settings.chunk_size,
            reflection_level="full_with_precision", type_adapter_callback=zoned,
            incremental=cursor.incremental(initial_value=None) if cursor else None,
            query_adapter_callback=partial(exact_query, zone if local_cursor else None),
            table_loader_class=exact_loader(read),
            write_disposition=write_disposition(stream), primary_key=list(stream.primary_key),
        ).with_name(stream.name)

    @dlt.source(name="yonyou_u8", max_table_nesting=0)
    def yonyou_u8() -> list[Any]:
        return [resource(u8) for u8 in selected]

    return yonyou_u8()
