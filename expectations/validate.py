"""``validate(hub)``: the quality gate the CLI, the Airflow DAG and the stock sync call.

One run checks every raw table the connectors declare and every mart, records each result in
``ops.quality_results`` and the verdict in ``ops.quality_runs``, and publishes Data Docs. A table that
does not exist, or lacks a column a rule reads, is a critical failure with a message saying what to
run, not an exception: the run still checks and records everything else. A raw table an account that
has loaded does not have is a stream that sent no row yet: reported, not failed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from warehouse import Hub, Warehouse
from warehouse.builds import last_build
from warehouse.run_log import utcnow

from .checkpoint import run_checkpoint
from .contracts import mart_suites
from .store import ExpectationOutcome, QualityRun, last_good_row_counts, record
from .suites import CRITICAL, INFO, WARNING, TableSuite, raw_suites


@dataclass(frozen=True)
class ValidationReport:
    run_id: str
    outcomes: tuple[ExpectationOutcome, ...]
    docs_index: Path | None

    @property
    def critical(self) -> list[ExpectationOutcome]:
        """Failed critical expectations: any one blocks stock write-back."""
        return [o for o in self.outcomes if not o.success and o.severity == CRITICAL]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == WARNING]

    @property
    def exceptions(self) -> list[ExpectationOutcome]:
        """Business exception reports with cases open (never a failure of the gate)."""
        return [o for o in self.outcomes if not o.success and o.severity == INFO]

    @property
    def ok(self) -> bool:
        return not self.critical


def docs_dir(hub: Hub) -> Path:
    return (hub.home / "data_docs").resolve()


def validate(hub: Hub) -> ValidationReport:
    """Validate the warehouse of ``hub`` and record the run; see the module docstring."""
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.exclusive("channelhub validate"):
        run_id, started = uuid.uuid4().hex, utcnow()
        with warehouse.engine.connect() as conn:
            validated = last_build(conn, finished=True)
        baselines = last_good_row_counts(warehouse)
        suites = [suite.with_row_count_band(baselines.get(suite.name)) for suite in [*raw_suites(hub), *mart_suites()]]
        columns = existing_columns(warehouse, {suite.schema for suite in suites})
        outcomes: list[ExpectationOutcome] = []
        runnable: list[TableSuite] = []
        for suite in suites:
            missing = missing_outcomes(suite, columns.get((suite.schema, suite.table)),
                                       loaded=(suite.schema, "_dlt_loads") in columns)
            outcomes.extend(missing)
            if not missing:
                runnable.append(suite)
        site = docs_dir(hub)  # kept across runs: the index lists every run, newest first
        if runnable:
            outcomes.extend(run_checkpoint(warehouse, runnable, run_id=run_id, run_time=started, docs_dir=site))
        report = ValidationReport(run_id, tuple(outcomes), site / "index.html" if runnable else None)
        record(warehouse, QualityRun(run_id, started, utcnow(), report.ok, len(report.critical), len(report.warnings),
                                     str(report.docs_index) if report.docs_index else None,
                                     validated.build_id if validated else None), outcomes)
        return report


def existing_columns(warehouse: Warehouse, schemas: set[str]) -> dict[tuple[str, str], set[str]]:
    """Columns of every table and view in ``schemas``, in one catalogue query (DuckDB and PostgreSQL
    both answer information_schema)."""
    query = sa.text("select table_schema, table_name, column_name from information_schema.columns "
                    "where table_schema in :schemas").bindparams(sa.bindparam("schemas", expanding=True))
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    with warehouse.engine.connect() as conn:
        for schema, table, column in conn.execute(query, {"schemas": sorted(schemas)}):
            found[(schema, table)].add(column)
    return found


def missing_outcomes(suite: TableSuite, columns: set[str] | None, *, loaded: bool = False) -> list[ExpectationOutcome]:
    """Critical failures for a missing table or missing columns; empty when the suite can run.

    ``loaded``: the suite's schema holds dlt's loads, so its account has loaded. dlt creates a table at
    its first row, so a stream that has sent none yet (a shop without refunds this month) has no table:
    reported, passing, not a critical failure that would hold back stock for every channel."""
    if columns is None and loaded:
        return [ExpectationOutcome(suite.name, suite.name, "expect_table_to_exist", None, INFO, True,
                                   details=f"table {suite.name} does not exist yet: the account has loaded, the "
                                           "stream has sent no row")]
    if columns is None:
        return [ExpectationOutcome(suite.name, suite.name, "expect_table_to_exist", None, CRITICAL, False,
                                   details=f"table {suite.name} does not exist: {suite.missing_hint}")]
    return [ExpectationOutcome(suite.name, suite.name, "expect_column_to_exist", column, CRITICAL, False,
                               details=f"table {suite.name} has no column {column!r}")
            for column in suite.required_columns() if column not in columns]
