"""Run the suites through one GX Checkpoint, inside the warehouse, and publish Data Docs.

Every check runs as SQL in the warehouse: GX's PostgreSQL datasource in production, and on the
embedded DuckDB file the datasource of :mod:`expectations.duckdb_datasource` (GX's generic SQL path
needs three fixes there). Nothing is pulled into pandas, so memory stays flat at any table size and
amounts are compared exactly, in NUMERIC. Each table gets a query asset selecting only the columns its
suite reads (plus derived columns such as the order-total deviation, computed by the query).

The GX context is ephemeral: suites live in code (raw tables) and in the marts' YAML contracts,
results in ``ops.quality_*``; only the Data Docs site is written, to ``<home>/data_docs``.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder

from warehouse import Warehouse

from . import duckdb_datasource
from .data_docs import make_offline
from .store import ExpectationOutcome
from .suites import TableSuite, expectation_columns

SITE = "channelhub"
DATASOURCE = "warehouse"
CHECKPOINT = "channelhub_quality"
SAMPLE = 5  # unexpected values quoted per failed result
HISTORY = 10  # validation runs kept in Data Docs; the full history is in ops.quality_*
RESULTS = ".results"  # GX's validation results (JSON) behind the site's pages


class HistoryIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index, never deleting a page whose result is missing from the store (its default)."""

    def build(self, skip_and_clean_missing: bool = False, build_index: bool = True):
        return super().build(skip_and_clean_missing=skip_and_clean_missing, build_index=build_index)


def _context(docs_dir: Path) -> gx.data_context.EphemeralDataContext:
    """Suites, checkpoints and definitions in memory; validation results on disk beside the site, so
    the Data Docs index lists earlier runs too (GX needs each run's result to list it)."""
    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    defaults.stores[defaults.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir / RESULTS)}
    config = DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "HistoryIndexBuilder", "module_name": __name__},
        }},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _datasource(context: gx.data_context.EphemeralDataContext, warehouse: Warehouse, suites: list[TableSuite]):
    """The warehouse as a GX datasource with one query asset (and whole-table batch) per suite, declared
    with the datasource: added one by one, each asset re-serialises the whole context config (a
    second per run at 40 tables)."""
    assets = [{"name": suite.name, "type": "query", "batch_definitions": [{"name": suite.name, "partitioner": None}],
               "query": str(suite.select().compile(warehouse.engine, compile_kwargs={"literal_binds": True}))}
              for suite in suites]
    if warehouse.kind == "duckdb":
        assert duckdb_datasource.DuckDBDatasource  # defining the class registered add_duckdb
        # One pooled connection for the whole run: opening a DuckDB file costs a checkpoint on close.
        return context.data_sources.add_duckdb(DATASOURCE, connection_string=f"duckdb:///{warehouse.duckdb_path}",
                                               kwargs={"poolclass": sa.pool.StaticPool}, assets=assets)
    url = sa.engine.make_url(warehouse.url).set(drivername="postgresql+psycopg2")
    return context.data_sources.add_postgres(DATASOURCE, connection_string=url.render_as_string(hide_password=False),
                                             assets=assets)


def run_checkpoint(warehouse: Warehouse, suites: list[TableSuite], *, run_id: str, run_time: datetime,
                   docs_dir: Path) -> list[ExpectationOutcome]:
    """Validate every suite against its table and rebuild the Data Docs site in ``docs_dir``."""
    context = _context(docs_dir)
    datasource = _datasource(context, warehouse, suites)
    definitions = []
    for suite in suites:
        batch = datasource.get_asset(suite.name).get_batch_definition(suite.name)
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=CHECKPOINT, validation_definitions=definitions, result_format={"result_format": "SUMMARY"}))
    try:
        result = checkpoint.run(run_id=RunIdentifier(run_name=run_id, run_time=run_time))
    finally:  # release the warehouse (DuckDB: the file, which dbt may open next in this process) at once
        for engine in {datasource.get_execution_engine().engine, datasource.get_engine()}:
            engine.dispose()
    # Once for the whole run: GX's UpdateDataDocsAction rebuilds the site after every validation,
    # which re-renders the index once per table (most of a run's time at 40 tables).
    _prune_history(docs_dir)
    # Only this run's pages (and its suites'): earlier runs' pages are on disk already.
    this_run = [*result.run_results, *(ExpectationSuiteIdentifier(name=suite.name) for suite in suites)]
    context.build_data_docs(site_names=[SITE], resource_identifiers=this_run)
    make_offline(docs_dir)
    by_suite = {validation.suite_name: validation for validation in result.run_results.values()}
    return [outcome for suite in suites for outcome in _outcomes(suite, by_suite[suite.name])]


def _prune_history(docs_dir: Path) -> None:
    """Drop the pages and results of all but the newest ``HISTORY`` runs of each table before the
    index is built: ``validations/<schema>/<table>/<run>/`` and ``.results/<schema>/<table>/<run>/``."""
    for table in [path for folder in ("validations", RESULTS) for path in (docs_dir / folder).glob("*/*")
                  if path.is_dir()]:
        runs = sorted((run for run in table.iterdir() if run.is_dir()), key=lambda run: run.stat().st_mtime)
        for run in runs[:-HISTORY]:
            shutil.rmtree(run)


def _outcomes(suite: TableSuite, validation: ExpectationSuiteValidationResult) -> list[ExpectationOutcome]:
    outcomes = []
    for result in validation.results:
        config = result.expectation_config
        observed, details = describe(result)
        outcomes.append(ExpectationOutcome(
            suite=suite.name, table_name=suite.name, expectation=config.type,
            column_name=", ".join(expectation_columns(config.to_domain_obj())) or None,
            severity=str(config.severity.value),
            success=bool(result.success), observed=observed, details=details))
    return outcomes


def describe(result: ExpectationValidationResult) -> tuple[str | None, str | None]:
    """(observed, details) in words: the observed value, or how many rows broke the rule and a sample."""
    info = result.exception_info or {}
    errors = [info] if "raised_exception" in info else [i for i in info.values() if isinstance(i, dict)]
    if raised := [e for e in errors if e.get("raised_exception")]:  # whole expectation, or per metric
        return None, f"error: {raised[0].get('exception_message')}"
    values = result.result or {}
    if "observed_value" in values:
        return str(values["observed_value"]), None
    if "unexpected_count" in values:
        observed = f"{values['unexpected_count']} of {values.get('element_count')} rows unexpected"
        counts = values.get("partial_unexpected_counts") or [
            {"value": value, "count": 1} for value in values.get("partial_unexpected_list") or []]
        quoted = ", ".join(_plain(c["value"]) + (f" ×{c['count']}" if c["count"] > 1 else "") for c in counts[:SAMPLE])
        return observed, (f"e.g. {quoted}" if counts and not result.success else None)
    return None, None


def _plain(value: object) -> str:
    """A sampled value as a reader writes it: ``(46.6, 47.6)``, ``-3``, not ``(Decimal('46.60'), ...)``."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) + ")"
    return str(value)
