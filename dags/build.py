"""Build and validate: the SQL models from raw tables to marts, one task per model, then the quality
gates, after any account loaded.

The DAG is scheduled on the raw Asset of every enabled account, joined with OR: marts are rebuilt
minutes after any source lands, so a broken or slow source (the daily store files, an ERP on
maintenance) never holds back the others. Loads that finish while a build runs are not lost and
do not pile up: ``max_active_runs=1`` makes Airflow keep their events queued and start exactly one
follow-up build that sees all of them.

``prepare`` creates the schemas, the ``sources.*`` views over every account's raw tables and the
config-driven tables (stock policy, SKU mapping); then each model runs as its own task with the
same dependencies as in ``transforms/`` (``channelhub build`` runs the same functions in one
process). A failed model fails its task; the models that need it are not run, and BI keeps reading
the previous marts. Every model of one DAG run shares a ``build_id`` in ``ops.build_log``. When all
models are built, ``marts_ready`` updates the ``marts`` Asset with the rows of every mart (for BI
refreshes and other consumers).

``validate`` then runs the Great Expectations suites (``channelhub validate``) in the same DAG run, so
it always checks the marts this run built, never a half-swapped mix with the next build. A critical
failure fails it at once, without retries (re-reading the same data cannot fix it; see
``ops.quality_results`` and Data Docs), and ``marts_validated`` is not updated, so no stock is pushed
from suspect marts. Clear the task to re-check after a fix.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from airflow.sdk import DAG, AssetAny, Metadata, task
from airflow.sdk.exceptions import AirflowFailException
from channelhub_dags import assets
from channelhub_dags.common import dag_args, load_hub, log

from transforms import load_project, prepare, run_model

if TYPE_CHECKING:
    from expectations import ExpectationOutcome


def build_id(dag_id: str, run_id: str) -> str:
    """One id for every model task of a DAG run, in the 32-hex form ``channelhub build`` uses."""
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
    project = load_project()

    @task(task_id="prepare")
    def prepare_warehouse() -> None:
        prepare(load_hub())

    @task
    def model(name: str, *, dag_run=None) -> int | None:
        """Build one model; returns its row count (None for views) for the marts Asset."""
        return run_model(load_hub(), name, build_id=build_id(dag_run.dag_id, dag_run.run_id)).rows

    @task(outlets=[assets.MARTS])
    def marts_ready(rows: dict[str, int | None], *, dag_run=None):
        yield Metadata(assets.MARTS, {"build_id": build_id(dag_run.dag_id, dag_run.run_id), "rows": rows})

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

    tasks = {m.name: model.override(task_id=m.name)(m.name) for m in project.models}
    first = prepare_warehouse()
    for m in project.models:
        tasks[m.name].set_upstream([tasks[name] for name in m.depends_on] or [first])
    ready = marts_ready({m.name: tasks[m.name] for m in project.models if m.layer == "marts"})
    ready.set_upstream(list(tasks.values()))
    ready >> validate()
