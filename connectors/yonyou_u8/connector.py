"""The Yonyou U8 connector: an ERP read directly from its SQL Server company database."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa

from connectors.sdk import Account, CheckResult, ConfigError, Connector, ConnectorKind, Stream

from .client import create_engine, redacted, table_counts
from .settings import U8Settings
from .source import u8_source
from .streams import STREAMS

if TYPE_CHECKING:
    from dlt.extract.source import DltSource


class YonyouU8Connector(Connector[U8Settings]):
    name: ClassVar[str] = "yonyou_u8"
    kind: ClassVar[ConnectorKind] = ConnectorKind.ERP
    settings_model = U8Settings
    streams: ClassVar[tuple[Stream, ...]] = tuple(t.stream for t in STREAMS.values())

    def source(self, account: Account[U8Settings]) -> DltSource:
        return u8_source(account.name, account.settings, [stream.name for stream in self.streams_for(account)])

    def check(self, account: Account[U8Settings]) -> CheckResult:
        """Connect, confirm the U8 tables exist and report their row counts."""
        settings = account.settings
        tables = [STREAMS[stream.name].table for stream in self.streams_for(account)]
        try:
            engine = create_engine(settings)
            try:
                counts = table_counts(engine, tables, settings)
            finally:
                engine.dispose()
        except (ConfigError, sa.exc.SQLAlchemyError) as exc:
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            return CheckResult(False, f"account {account.name!r}: cannot read {redacted(settings)}: {reason}")
        missing = sorted(name for name, n in counts.items() if n is None)
        if missing:
            return CheckResult(False, f"account {account.name!r}: {redacted(settings)} is not a U8 company "
                                      f"database, tables missing: {', '.join(missing)}", {"missing": missing})
        return CheckResult(True, f"U8 at {redacted(settings)}: " + ", ".join(f"{t} {n}" for t, n in counts.items()),
                           {"rows": counts})
