"""A database a SQL connector reads, built from the World: SQLite (a file) or MariaDB (a URL).

The same SQLAlchemy Core code writes both, so a connector is tested against a real database server
without the vendor's own. On MariaDB the connector is pointed at :attr:`DatabaseSandbox.connector_url`,
a MySQL protocol front (:mod:`sandbox.kit.mysql_wire`) that counts the rows each table serves and breaks
the next N connections or reads as a server does (ERR 1040, a connection lost mid-query, a zero date
in a row), whatever client library reads: SQLAlchemy's pymysql and connectorx's Rust driver alike.
SQLite has no wire; its bad data is stored for real (:meth:`DatabaseSandbox.corrupt_row`).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from .mysql_wire import Corruption, MySQLWire

CHUNK = 20_000
# contract fault kinds -> what the wire does: refuse connections (ERR 1040), drop a read mid-query (2013)
WIRE_FAULTS = {"rate_limit": "refuse", "server_error": "drop"}


def database_url(target: str) -> sa.URL:
    """A SQLAlchemy URL, or a bare path taken as a SQLite file."""
    return sa.make_url(target if "://" in target else f"sqlite:///{target}")


def _on_server(url: sa.URL, statement: str) -> None:
    server = sa.create_engine(url.set(database=""), poolclass=sa.NullPool)
    with server.begin() as conn:
        conn.exec_driver_sql(statement)
    server.dispose()


def create_database(target: str) -> None:
    """Create the (MariaDB) database named in ``target``; SQLite creates its file on first use."""
    url = database_url(target)
    if url.get_backend_name() != "sqlite":
        _on_server(url, f"CREATE DATABASE IF NOT EXISTS `{url.database}` CHARACTER SET utf8mb4")


def drop_database(target: str) -> None:
    url = database_url(target)
    if url.get_backend_name() != "sqlite":
        _on_server(url, f"DROP DATABASE IF EXISTS `{url.database}`")
    elif url.database and os.path.exists(url.database):
        os.remove(url.database)


class DatabaseSandbox:
    """One emulated database: its engine, the tables it holds, faults and counters. A platform's
    sandbox subclasses it with its ``metadata`` and how the World's records become rows."""

    metadata: sa.MetaData

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        create_database(url)
        self.engine = sa.create_engine(self.url, poolclass=sa.NullPool)
        self.tables = {t.name: t for t in self.metadata.sorted_tables}
        self.wire = None if self.is_sqlite else MySQLWire((self.url.host or "127.0.0.1", self.url.port or 3306),
                                                           set(self.tables))

    @property
    def connector_url(self) -> str:
        """Where the connector reads: through the wire on MariaDB, the file itself on SQLite."""
        if self.wire is None:
            return str(self.url)
        return self.url.set(host="127.0.0.1", port=self.wire.port).render_as_string(hide_password=False)

    @property
    def rows_served(self) -> Counter[str]:
        """Rows each table has handed to clients of the wire (MariaDB only)."""
        return self.wire.rows_served if self.wire is not None else Counter()

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def close(self) -> None:
        if self.wire is not None:
            self.wire.close()
        self.engine.dispose()

    def drop(self) -> None:
        """Close, then drop the database (a test's scratch database)."""
        self.close()
        drop_database(self.url.render_as_string(hide_password=False))

    # -- writing --------------------------------------------------------------------------------------
    def recreate(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Drop and create every table, then insert ``rows`` (table name -> rows) in chunks."""
        self.metadata.drop_all(self.engine)
        self.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for name, table in self.tables.items():
                for start in range(0, len(rows.get(name, ())), CHUNK):
                    conn.execute(table.insert(), rows[name][start:start + CHUNK])

    def insert_raw(self, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        """Plain tuples through the driver's ``executemany`` (pymysql rewrites them into multi-row
        INSERTs): a million rows in seconds, for benchmarks."""
        if not rows:
            return
        mark = "?" if self.is_sqlite else "%s"
        columns = ", ".join(self.quote(c.name) for c in table.columns)
        sql = f"INSERT INTO {self.quote(table.name)} ({columns}) VALUES ({', '.join([mark] * len(table.columns))})"
        if self.is_sqlite:  # stored as SQLAlchemy's SQLite DATETIME writes them, so string comparison
            # in WHERE clauses stays correct (sqlite3's own datetime adapters are deprecated)
            rows = [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v.isoformat()
                          if isinstance(v, date) else v for v in row) for row in rows]
        with self.engine.begin() as conn:
            conn.exec_driver_sql(sql, rows)

    def quote(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote_identifier(name)

    def max(self, table: str, column: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(self.tables[table].c[column]))).scalar() or 0

    # -- what the contract changes ----------------------------------------------------------------------
    def touch(self, fraction: float) -> list[Any]:
        """Change ``fraction`` of the primary records as the World does, moving their cursor; returns them."""
        raise NotImplementedError

    def share_timestamp(self, n: int) -> int:
        """Give ``n`` primary records one identical, new cursor value (the cursor's boundary case)."""
        raise NotImplementedError

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.tables[table])).scalar_one()

    # -- faults ---------------------------------------------------------------------------------------
    def _wire(self) -> MySQLWire:
        if self.wire is None:
            raise ValueError("armed faults need a database server: build the sandbox on MariaDB")
        return self.wire

    def fail_next(self, kind: str, times: int) -> None:
        """Break the next ``times`` connections (``rate_limit``: ERR 1040 too many connections) or reads
        of a table (``server_error``: connection lost mid-query) made through the wire; 0 disarms."""
        if kind not in WIRE_FAULTS:
            raise ValueError(f"unknown transient fault {kind!r} (have {sorted(WIRE_FAULTS)})")
        setattr(self._wire().faults, WIRE_FAULTS[kind], times)

    def fail_statements(self, rate: float) -> int:
        """Cut the connection at ``rate`` of all statements sent through the wire (0 disarms): a flaky
        network to an on-premise ERP, where every statement may be the one that fails. Returns how many
        statements were cut so far."""
        self._wire().faults.drop_rate = rate
        return self._wire().faults.dropped

    def pending(self, kind: str) -> int:
        """Faults of ``kind`` armed and not yet spent."""
        return int(getattr(self._wire().faults, WIRE_FAULTS[kind]))

    def corrupt_next_read(self, table: str, column: str, times: int = 1) -> None:
        """Serve the zero date (``0000-00-00``) in ``column`` of the first row of the next ``times`` reads
        of ``table``, as MariaDB does for one stored with strict mode off; 0 disarms."""
        faults = self._wire().faults
        with faults.lock:
            faults.corrupt = [c for c in faults.corrupt if c.table != table]
            if times:
                faults.corrupt.append(Corruption(table, column, times))

    def corrupt_row(self, table: str, key: Any, column: str, raw_value: Any) -> None:
        """Store a value the column's type does not allow (SQLite keeps text in a NUMERIC column;
        MariaDB accepts a zero date once strict mode is off), as legacy databases do contain."""
        t = self.tables[table]
        mark = "?" if self.is_sqlite else "%s"
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.exec_driver_sql("SET SESSION sql_mode = ''")
            conn.exec_driver_sql(f"UPDATE {self.quote(table)} SET {self.quote(column)} = {mark} "
                                 f"WHERE {self.quote(t.primary_key.columns.values()[0].name)} = {mark}",
                                 (raw_value, key))
