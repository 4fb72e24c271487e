"""Build and validate: the dbt models from raw tables to marts, then the quality gates, after any
account loaded.

The DAG is scheduled on the raw Asset of every enabled account, joined with OR: marts are rebuilt
minutes after any source lands, so a broken or slow source (the daily store files, an ERP on
maintenance) never holds back the others. Loads that finish while a build runs are not lost and
do not pile up: ``max_active_runs=1`` makes Airflow keep their events queued and start exactly one
follow-up build that sees all of them.

**build** runs ``channelhub build`` (``transforms.build``): the config-driven tables, then every dbt
model in one dbt invocation, in seconds on this merchant's data. It updates one Asset per mart
(``marts.<name>``, with its row count), so the Asset view shows lineage at the grain BI reads.

**validate** then runs the Great Expectations suites (``channelhub validate``) in the same DAG run, so
it always checks the marts this run built, never a half-swapped mix with the next build. Only then is
``marts_validated`` updated and stock pushed. **alerts** then evaluates the reminders of
``alerts:`` in channelhub.yml (unshipped orders, stuck parcels, reconciliation exceptions, low stock,
stale accounts, failing checks) and sends what is due, even after a failed build or validation, and **report** writes
the HTML report (``channelhub report``) under the channelhub home. **docs** publishes the model docs (dbt docs: lineage,
SQL, each mart's contract) beside Data Docs; its failure blocks nothing.

When it fails:

- *build failed*: the task log and ``ops.build_log`` (this run's ``build_id``) name each failed model
  and dbt's error; BI keeps reading the previous marts, and models that need the failed one were
  skipped. Fix the model or the source, then clear the task. dbt's own log is under the channelhub home
  (``dbt/<warehouse>/logs``).
- *validate failed*: a critical expectation failed. It fails at once, without retries (re-reading the
  same data cannot fix it): read ``ops.quality_results`` or Data Docs, fix the data or the source,
  then clear the task. No stock is pushed from suspect marts meanwhile.
- *alerts failed*: a destination did not take a message (the task log names it, never its address).
  Check its environment variable and the webhook or mail server; the alerts stay due in ``ops.alerts``
  and the task's retries (or the next run) send them.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from airflow.sdk import DAG, AssetAny, Metadata, task
from airflow.sdk.exceptions import AirflowFailException
from channelhub_dags import assets
from channelhub_dags.common import check_alerts_task, dag_args, load_hub, log, report_task

import transforms

if TYPE_CHECKING:
    from expectations import ExpectationOutcome


def build_id(dag_id: str, run_id: str) -> str:
    """One build id per DAG run, in the 32-hex form ``channelhub build`` uses."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"airflow:{dag_id}/{run_id}").hex


def describe(outcome: ExpectationOutcome) -> str:
    """``table.column expectation (observed ...)``: enough to find the row in ops.quality_results."""
    where = f"{outcome.table_name}.{outcome.column_name}" if outcome.column_name else outcome.table_name
    return f"{where} {outcome.expectation}" + (f" (observed {outcome.observed})" if outcome.observed else "")


with DAG(
    dag_id="channelhub_build",
    schedule=AssetAny(*(assets.raw(name) for name in load_hub().enabled_accounts())),
    doc_md=__doc__,
    **dag_args("transform", "quality"),
) as dag:
    MARTS = {name: assets.mart(name) for name in transforms.mart_names()}

    @task(outlets=list(MARTS.values()))
    def build(*, dag_run=None):
        report = transforms.build(load_hub(), build_id=build_id(dag_run.dag_id, dag_run.run_id))
        log.info("built %d models in %.1fs, %d current (build %s)", len(report.built), report.seconds,
                 len(report.runs) - len(report.built), report.build_id)
        for name, rows in report.mart_rows().items():
            yield Metadata(MARTS[name], {"build_id": report.build_id, "rows": rows})

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
        log.info("validated: %d checks: %d passed, %d warning(s), %d critical failure(s) (run %s)",
                 len(report.outcomes), sum(o.success for o in report.outcomes), len(report.warnings),
                 len(report.critical), report.run_id)
        yield Metadata(assets.VALIDATED, {"run_id": report.run_id, "checks": len(report.outcomes),
                                          "warnings": len(report.warnings), "docs": str(report.docs_index)})

    @task
    def docs() -> str:
        """The model docs site (dbt docs, offline) for the marts this run built."""
        return str(transforms.publish_docs(load_hub()))

    built, validated = build(), validate()
    built >> [validated, docs()]
    validated >> check_alerts_task() >> report_task()
