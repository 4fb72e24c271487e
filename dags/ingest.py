"""Ingest: one DAG per enabled account of ``channelhub.yml``, on the account's own schedule.

Each run calls ``channelhub.runner.run_account`` (the code path behind ``channelhub run ACCOUNT``):
the account's dlt source loads incrementally into ``raw_<account>`` and ``ops.run_log`` records
every stream. A successful run updates the Asset ``raw_<account>`` with the rows per stream, which
schedules the build DAG. Trigger with ``{"full_refresh": true}`` to drop the account's state and
reload it from the start. Credentials come from the Airflow connection named in the account's
``airflow_conn_id`` (or its environment variable when no such connection exists). The task log ends
with the rows each stream loaded and any records quarantined.

When it fails, the error (also in ``ops.run_log`` and ``channelhub status``) names the account, the
stream and the cause, secrets masked:

- *credentials rejected (HTTP 401/403)*: it names the variable or Airflow connection to fix; fix it,
  then clear the task.
- *cannot reach ... (connection refused, host name not found, connect timeout)*: said after a few
  seconds; check the account's ``base_url`` and that the service is up. The task's two retries (5 and
  10 minutes later) wait out a short outage.
- *a value its declared type cannot hold, a missing key*: the record went to ``ops.quarantine`` and
  the rest loaded; the run succeeded. Fix the source; the record loads when it changes.
- anything else (a 5xx that outlasted the retries, a load that failed): re-running is safe; the next run
  completes or discards what this one left and ends as a clean run would.
"""

from __future__ import annotations

from airflow.sdk import DAG, Metadata, Param, get_parsing_context, task
from channelhub_dags import assets
from channelhub_dags.common import config_path, dag_args, load_hub, log

from channelhub.runner import run_account

INGEST_PRIORITY = 100  # build, validate and stock tasks keep Airflow's default weight


def ingest_dag(account: str, connector: str, schedule: str) -> DAG:
    raw = assets.raw(account)
    with DAG(
        dag_id=f"channelhub_ingest_{account}",
        schedule=schedule,
        params={"full_refresh": Param(False, type="boolean",
                                      description="Drop the account's state and reload everything.")},
        doc_md=f"{__doc__}\n**Account** `{account}` · connector `{connector}` · schedule `{schedule}` "
               f"· loads `raw_{account}` · config `{config_path()}`",
        **dag_args("ingest", connector, accounts=(account,)),
    ) as dag:

        # Loads go first when the warehouse pool has one free slot: a build waits a few seconds more,
        # a load that waits misses its slot and its source's freshness suffers.
        @task(outlets=[raw], priority_weight=INGEST_PRIORITY, weight_rule="absolute")
        def load(params: dict | None = None):
            report = run_account(load_hub(), account, full_refresh=bool(params and params["full_refresh"]))
            for stream, rows in report.rows.items():  # the log ends with what each stream loaded
                aside = report.quarantined.get(stream)
                log.info("loaded %s.%s: %d rows%s", account, stream, rows,
                         f", {aside} quarantined (ops.quarantine)" if aside else "")
            log.info("loaded %s: %d rows in %.1fs (run %s)", account, report.total_rows, report.seconds, report.run_id)
            yield Metadata(raw, {"run_id": report.run_id, "rows": report.total_rows,
                                 "streams": report.rows, "seconds": round(report.seconds, 1)})

        load()
    return dag


def _generate() -> None:
    """One DAG per account, in sorted order; while a task runs, only its own DAG is built."""
    wanted = get_parsing_context().dag_id
    hub = load_hub()
    for name in hub.enabled_accounts():
        if wanted is None or wanted == f"channelhub_ingest_{name}":
            config = hub.accounts[name]
            ingest_dag(name, config.connector, config.schedule)


_generate()
