"""Run the suites through one GX Checkpoint and publish Data Docs under the channelhub home.

Why this path: GX's SQL data sources do not work against DuckDB, and the warehouse is DuckDB or
PostgreSQL. GX's pandas data source can read a SQL query itself (``add_sql_query_asset`` runs
``pandas.read_sql_query`` on our SQLAlchemy engine), so each table gets an asset whose query selects
only the columns its suite checks, and one checkpoint validates them all with the same code on both
warehouses. (Dataframe assets would need one checkpoint per table: a checkpoint passes the same
runtime dataframe to every validation definition.)

pandas reads NUMERIC as float64 (``read_sql_query`` coerces Decimals): rounding keeps the order of two
exact amounts, so "refunds <= captured" and "not negative" stay exact, and the one tolerance check
(order total within a cent) is computed in exact NUMERIC by the query itself.

The GX context is ephemeral: suites live in code, results in ``ops.quality_*``; only the Data Docs
site is written, to ``<home>/data_docs``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import great_expectations as gx
import sqlalchemy as sa
from great_expectations.checkpoint import UpdateDataDocsAction
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

from .store import ExpectationOutcome
from .suites import TableSuite, expectation_columns

SITE = "channelhub"
DATASOURCE = "warehouse"
CHECKPOINT = "channelhub_quality"
SAMPLE = 5  # unexpected values quoted per failed result


def _context(docs_dir: Path) -> gx.data_context.EphemeralDataContext:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_checkpoint(engine: sa.Engine, suites: list[TableSuite], *, run_id: str, run_time: datetime,
                   docs_dir: Path) -> list[ExpectationOutcome]:
    """Validate every suite against its table and rebuild the Data Docs site in ``docs_dir``."""
    context = _context(docs_dir)
    datasource = context.data_sources.add_pandas(DATASOURCE)
    definitions = []
    for suite in suites:
        sql = str(suite.select().compile(engine))
        asset = datasource.add_sql_query_asset(suite.name, sql=sql, con=engine)
        batch = asset.add_batch_definition_whole_dataframe(suite.name)
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=CHECKPOINT, validation_definitions=definitions, result_format={"result_format": "SUMMARY"},
        actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE])]))
    result = checkpoint.run(run_id=RunIdentifier(run_name=run_id, run_time=run_time))
    by_suite = {validation.suite_name: validation for validation in result.run_results.values()}
    return [outcome for suite in suites for outcome in _outcomes(suite, by_suite[suite.name])]


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
    if info.get("raised_exception"):
        return None, f"error: {info.get('exception_message')}"
    values = result.result or {}
    if "observed_value" in values:
        return str(values["observed_value"]), None
    if "unexpected_count" in values:
        observed = f"{values['unexpected_count']} of {values.get('element_count')} rows unexpected"
        sample = values.get("partial_unexpected_list") or []
        quoted = ", ".join(_plain(value) for value in sample[:SAMPLE])
        return observed, (f"e.g. {quoted}" if sample and not result.success else None)
    return None, None


def _plain(value: object) -> str:
    """A sampled value as a reader writes it: ``(46.6, 47.6)``, not ``(np.float64(46.6), ...)``."""
    if isinstance(value, tuple | list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={v}" for k, v in value.items()) + ")"
    return str(value)
