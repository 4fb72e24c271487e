"""A Great Expectations SQL datasource for DuckDB, so the gates run inside the embedded warehouse.

GX 1.x's generic SQL datasource fails on DuckDB in three ways, each fixed here:

1. Results come back empty. GX executes a metric query in ``with engine.connect()`` and fetches its
   rows after the connection is gone; a DuckDB "cursor" is its connection, and the rollback that
   closing issues discards the pending result. :class:`DuckDBExecutionEngine` buffers the rows while
   the connection is open (``Result.freeze()``), which any SQLAlchemy result supports.
2. Regex expectations raise "not supported for dialect duckdb". DuckDB speaks PostgreSQL's SQL
   dialect (duckdb_engine is built on SQLAlchemy's PostgreSQL dialect), so the engine declares the
   PostgreSQL dialect module and GX emits ``column ~ 'pattern'``. DuckDB's ``~`` matches the whole
   value where PostgreSQL's searches within it: contracts anchor their patterns (``^...$``), which
   :mod:`expectations.contracts` enforces, and then both mean the same.
3. Table assets fail on column reflection (duckdb_engine cannot reflect a schema-qualified table the
   way GX asks). Suites use query assets, which also keeps each check to the columns it reads.

Registered with GX by defining the class (``context.data_sources.add_duckdb``).
"""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from sqlalchemy.dialects import postgresql


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dialect_module = postgresql

    def execute_query(self, query: sa.Selectable | sa.TextClause) -> sa.Result:
        with self.get_connection() as connection:
            return self._execute_query_with_recovery(connection, query).freeze()()


class DuckDBDatasource(SQLDatasource):
    """``connection_string``: ``duckdb:///path/to/file.duckdb``."""

    type: Literal["duckdb"] = "duckdb"  # type: ignore[assignment] # GX's registry key: add_duckdb

    @property
    def execution_engine_type(self) -> type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine
