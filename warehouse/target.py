"""The warehouse a run writes to: a DuckDB file (embedded default) or PostgreSQL (production).

Both are addressed by one SQLAlchemy-style URL, so the same code, tests and SQL serve both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal, Optional

import dlt
import sqlalchemy as sa
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.destination import Destination
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from sqlalchemy.pool import NullPool

from connectors.sdk import ConfigError

from .lock import exclusive

# Columnar loads: DuckDB ingests parquet directly and PostgreSQL takes COPY (csv); both are an order of
# magnitude faster than dlt's default INSERT ... VALUES for 100k+ rows.
LOADER_FORMAT: dict[str, Literal["parquet", "csv"]] = {"duckdb": "parquet", "postgres": "csv"}
# DuckDB runs one load job at a time: every statement already uses all cores, and jobs running side by
# side share the memory cap (runner.py), so two merges of a million rows (orders and their line
# items) ran out of it together and were retried until one had finished.
DUCKDB_LOAD_JOBS = 1


def ensure_tables(conn: sa.Connection, *tables: sa.Table) -> None:
    """Create channelhub's own tables (run log, build log, audit...) and their schema if missing, and
    add the columns a newer channelhub declares to a table an older one created (nullable columns
    only, so existing rows stay valid)."""
    for schema in sorted({table.schema for table in tables if table.schema}):
        conn.execute(sa.text(f"create schema if not exists {schema}"))
    inspector = sa.inspect(conn)
    for table in tables:
        if not inspector.has_table(table.name, schema=table.schema):
            table.create(conn)
            continue
        present = set(conn.execute(sa.text("select column_name from information_schema.columns where "
                                           "table_schema = :schema and table_name = :table"),
                                   {"schema": table.schema, "table": table.name}).scalars())
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f'alter table {table.schema}.{table.name} add column "{column.name}" {kind}'))


@configspec(init=False)
class LibpqCredentials(PostgresCredentials):
    """dlt requires a password in the URL; libpq does not. Without one it uses PGPASSWORD, ~/.pgpass,
    trust or certificate auth, which is how production keeps the password out of config files."""

    password: Optional[TSecretStrValue] = None  # noqa: UP045 - dlt's configspec reads Optional


@dataclass(frozen=True)
class Warehouse:
    url: str

    @property
    def kind(self) -> Literal["duckdb", "postgres"]:
        if self.url.startswith("duckdb:///"):
            return "duckdb"
        if self.url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            return "postgres"
        raise ConfigError(f"warehouse url {self.redacted_url!r}: use duckdb:///path or postgresql://...")

    @property
    def redacted_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @property
    def duckdb_path(self) -> Path:
        return Path(self.url.removeprefix("duckdb:///"))

    @property
    def loader_file_format(self) -> Literal["parquet", "csv"]:
        return LOADER_FORMAT[self.kind]

    @contextmanager
    def exclusive(self, command: str) -> Iterator[None]:
        """Hold the warehouse for ``command``, waiting for whoever holds it (DuckDB: one process at a time,
        see warehouse/lock.py); PostgreSQL takes concurrent sessions and needs no such lock."""
        if self.kind != "duckdb":
            yield
            return
        with exclusive(self.duckdb_path.with_name(self.duckdb_path.name + ".lock"), command):
            yield

    @property
    def spool_path(self) -> Path:
        """Where run log rows wait when the DuckDB file could not be opened for them (warehouse/run_log.py)."""
        return self.duckdb_path.with_name(self.duckdb_path.name + ".run_log.jsonl")

    @contextmanager
    def loading(self) -> Iterator[Destination]:
        """dlt's destination for one run. On DuckDB the run loads through one connection to the file,
        held until it ends: dlt otherwise opens and closes the file for each step and job (each open
        reads the catalogue, each close checkpoints: about a tenth of a run that loads little). The
        connection is opened the way :attr:`engine` opens it: DuckDB refuses a second configuration
        of an open file in one process, so code reading the warehouse during the run still can."""
        if self.kind != "duckdb":
            yield self.destination()
            return
        held = self.engine.raw_connection()
        try:
            load = held.driver_connection.duplicate()  # a plain DuckDB connection, which dlt borrows
            try:
                yield dlt.destinations.duckdb(load, max_parallel_load_jobs=DUCKDB_LOAD_JOBS)
            finally:
                load.close()
        finally:
            held.close()

    def destination(self) -> Destination:
        if self.kind == "duckdb":
            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            return dlt.destinations.duckdb(str(self.duckdb_path), max_parallel_load_jobs=DUCKDB_LOAD_JOBS)
        credentials = LibpqCredentials()
        credentials.parse_native_representation(
            sa.engine.make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False))
        return dlt.destinations.postgres(resolve_configuration(credentials))

    @cached_property
    def engine(self) -> sa.Engine:
        """For our own tables (run log, status). NullPool: DuckDB allows one writer process, so we
        never keep a connection open between statements."""
        if self.kind == "duckdb":
            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            return sa.create_engine(f"duckdb:///{self.duckdb_path}", poolclass=NullPool)
        return sa.create_engine(self.url, poolclass=NullPool)

    def table_exists(self, schema: str, table: str, conn: sa.Connection | None = None) -> bool:
        """Whether ``schema.table`` exists; on ``conn`` when the caller goes on to query (opening a
        DuckDB file costs a catalogue read and closing it a checkpoint: tens of milliseconds each)."""
        if conn is not None:
            return sa.inspect(conn).has_table(table, schema=schema)
        with self.engine.connect() as own:
            return sa.inspect(own).has_table(table, schema=schema)
