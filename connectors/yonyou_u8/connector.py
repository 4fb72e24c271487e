"""The Yonyou U8 connector: an ERP read directly from its SQL Server company database."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import sqlalchemy as sa

from connectors.sdk import CheckResult, ConfigError, Connector, ConnectorKind, Stream

from .client import create_engine, redacted, table_counts
from .settings import U8Settings
from .source import u8_source
from .streams import STREAMS

if TYPE_CHECKING:
    from dlt.extract.source import DltSource

    from channelhub.config import Account


def _settings(account: Account) -> U8Settings:
    if not isinstance(account.settings, U8Settings):
        raise ConfigError(f"account {account.name!r}: settings are not U8Settings")
    return account.settings


class YonyouU8Connector(Connector):
    name: ClassVar[str] = "yonyou_u8"
    kind: ClassVar[ConnectorKind] = ConnectorKind.ERP
    settings_model: ClassVar[type[U8Settings]] = U8Settings
    streams: ClassVar[tuple[Stream, ...]] = tuple(t.stream for t in STREAMS.values())

    def source(self, account: Account) -> DltSource:
        return u8_source(account.name, _settings(account))

    def check(self, account: Account) -> CheckResult:
        """Connect, confirm the U8 tables exist and report their row counts."""
        settings = _settings(account)
        tables = [STREAMS[name].table for name in settings.selected]
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
