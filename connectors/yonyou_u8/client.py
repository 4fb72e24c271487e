"""Engine creation, retries on transient database errors, reflection and the connection check.

A database has no 429: its transient failures are dropped connections, "too many connections",
deadlocks and lock timeouts. Those are retried with exponential back-off; everything else (a wrong
password, a missing table, a syntax error) fails at once, because retrying cannot fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from tenacity import Retrying, retry_if_exception

from connectors.sdk import ConfigError
from connectors.sdk.sql import is_transient

from .settings import U8Settings

T = TypeVar("T")


def retrying(settings: U8Settings) -> Retrying:
    return settings.retrying(retry_if_exception(is_transient))


def with_retries(settings: U8Settings, fn: Callable[[], T]) -> T:
    return retrying(settings)(fn)


def create_engine(settings: U8Settings) -> sa.Engine:
    """The password is injected here, from the secret, so the URL in config stays password-free."""
    url = sa.make_url(settings.url)
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or not Path(url.database).is_file():
            raise ConfigError(f"U8 SQLite database {url.database!r} does not exist")
        return sa.create_engine(url)
    if backend == "mysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})  # Chinese names survive the wire
    return sa.create_engine(url, pool_pre_ping=True)


def redacted(settings: U8Settings) -> str:
    return sa.make_url(settings.url).render_as_string(hide_password=True)


def reflect(engine: sa.Engine, tables: list[str], settings: U8Settings) -> sa.MetaData:
    """Reflect all selected tables once (retried), so dlt's sql_table reuses them instead of
    reflecting each table on its own unretried connection."""
    metadata = sa.MetaData()
    with_retries(settings, lambda: metadata.reflect(bind=engine, only=tables))
    return metadata


def table_counts(engine: sa.Engine, tables: list[str], settings: U8Settings) -> dict[str, int | None]:
    """Row count of every table, None for the ones that do not exist."""
    def count() -> dict[str, int | None]:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
                    if name in present else None for name in tables}
    return with_retries(settings, count)
