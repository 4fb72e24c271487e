"""The Guanjiapo connector: an ERP read directly from its on-premise database, on the SDK's database
connector (:mod:`connectors.sdk.sql_source`), with the tables and columns each account maps."""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from connectors.sdk import Account, CheckResult, ConnectorKind, Stream
from connectors.sdk.sql_source import SqlConnector, SqlTable

from .client import SHIPPED_TABLES, tables
from .settings import GuanjiapoSettings


class GuanjiapoConnector(SqlConnector[GuanjiapoSettings]):
    """``tables`` are the shipped mapping's; an account's own mapping decides what it reads."""

    name = "guanjiapo"
    kind = ConnectorKind.ERP
    settings_model = GuanjiapoSettings
    tables: ClassVar[tuple[SqlTable, ...]] = SHIPPED_TABLES
    system = "a Guanjiapo database as the account's mapping describes it"

    def offered_streams(self, account: Account[GuanjiapoSettings]) -> tuple[Stream, ...]:
        return tuple(table.stream for table in tables(account.settings))

    def tables_for(self, account: Account[GuanjiapoSettings]) -> list[SqlTable]:
        wanted = {stream.name for stream in self.streams_for(account)}
        return [table for table in tables(account.settings) if table.stream.name in wanted]

    def check(self, account: Account[GuanjiapoSettings]) -> CheckResult:
        """The tables' row counts, then every mapped column: a mapping naming a column the edition does
        not have fails here, naming entity, table and column, instead of in the night's run."""
        result = super().check(account)
        if not result.ok:
            return result
        missing = unmapped(account.settings, self.tables_for(account))
        if missing:
            return CheckResult(False, f"account {account.name!r}: columns missing: {'; '.join(missing)} "
                                      "(fix settings.mapping)", {"missing_columns": missing})
        return result


def unmapped(settings: GuanjiapoSettings, declared: list[SqlTable]) -> list[str]:
    """``<entity>: <table>.<column> (mapped to <warehouse column>)`` for each mapped column the database lacks."""
    engine = settings.engine()
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            present = {t.table: {c["name"] for c in inspector.get_columns(t.table)} for t in declared}
    finally:
        engine.dispose()
    return [f"{t.stream.name}: {t.table}.{source} (mapped to {column})"
            for t in declared for column, source in t.columns if source not in present[t.table]]
