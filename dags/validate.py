"""Validate: the Great Expectations suites over the marts, after every successful build.

Scheduled on the ``marts`` Asset. ``expectations.validate`` (the code path behind ``channelhub
validate``) checks every mart, records ``ops.quality_runs`` / ``ops.quality_results`` and renders Data
Docs. A critical failure fails the task at once, without retries (re-reading the same data cannot
fix it), and the ``marts_validated`` Asset is not updated, so no stock is pushed from suspect marts.
Warnings are logged and published in the Asset event. Trigger this DAG by hand to re-check the
current marts without rebuilding them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import DAG, Metadata, task
from airflow.sdk.exceptions import AirflowFailException
from channelhub_dags import assets
from channelhub_dags.common import START_DATE, default_args, load_hub, log

if TYPE_CHECKING:
    from expectations import ExpectationOutcome


def describe(outcome: ExpectationOutcome) -> str:
    """``table.column expectation (observed ...)``: enough to find the row in ops.quality_results."""
    where = f"{outcome.table_name}.{outcome.column_name}" if outcome.column_name else outcome.table_name
    return f"{where} {outcome.expectation}" + (f" (observed {outcome.observed})" if outcome.observed else "")

with DAG(
    dag_id="channelhub_validate",
    schedule=assets.MARTS,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["channelhub", "quality"],
    doc_md=__doc__,
) as dag:

    @task(outlets=[assets.VALIDATED])
    def validate():
        import expectations  # Great Expectations takes seconds to import: not at parse time

        report = expectations.validate(load_hub())
        for outcome in report.warnings:
            log.warning("quality warning: %s", describe(outcome))
        if not report.ok:
            raise AirflowFailException(
                f"{len(report.critical)} critical expectation(s) failed (run {report.run_id} in "
                f"ops.quality_results, Data Docs {report.docs_index}): "
                + "; ".join(describe(outcome) for outcome in report.critical))
        yield Metadata(assets.VALIDATED, {"run_id": report.run_id, "checks": len(report.outcomes),
                                          "warnings": len(report.warnings), "docs": str(report.docs_index)})

    validate()
