"""Defaults shared by every channelhub DAG: where the config is, retries, the warehouse pool, alerts.

Reading ``channelhub.yml`` is the only I/O done at parse time. Nothing here touches the warehouse,
the network or the Airflow metadata database until a task runs.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier, Context, task

from channelhub.config import HubConfig, load_config
from channelhub.runner import redact
from connectors.sdk import ChannelhubError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "channelhub.yml"

POOL = "warehouse_writer"
"""Every task that opens the warehouse runs in this pool. DuckDB takes one writer process at a
time, so ``make airflow`` creates it with 1 slot; on PostgreSQL (docker-compose) it gets more."""

START_DATE = datetime(2026, 1, 1, tzinfo=UTC)

# dlt, when it finds Airflow, looks up every config key it resolves as an Airflow Variable: hundreds
# of Execution API calls per load (and a busy SQLite under `make airflow`). channelhub hands dlt its
# settings and secrets explicitly, so that lookup can only cost time. Set before any task runs dlt.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")

log = logging.getLogger("channelhub.airflow")


def config_path() -> Path:
    """``CHANNELHUB_CONFIG`` when set (deployments), else the repository's ``channelhub.yml``."""
    return Path(os.environ.get("CHANNELHUB_CONFIG") or REPO_CONFIG)


def load_hub() -> HubConfig:
    """The validated config, without resolving secrets (safe at parse time)."""
    return load_config(config_path())


class FailureSummary(BaseNotifier):
    """Task failure callback: one log line ops can act on, with every known secret redacted.

    Runs once the task has failed for good (after its retries), inside the task process, so the
    summary lands in the task log and in whatever ships the worker logs (Loki, CloudWatch...).
    ``accounts`` are the accounts whose credentials the task used; their secret values are replaced
    by ``***`` wherever the error repeats them."""

    def __init__(self, accounts: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.accounts = accounts

    def notify(self, context: Context) -> None:
        ti = context["ti"]
        error = context.get("exception")
        text = self.redacted(f"{type(error).__name__}: {error}" if isinstance(error, BaseException)
                             else str(error))
        log.error("channelhub task failed: dag=%s task=%s run=%s account=%s try=%s/%s error=%s log=%s",
                  ti.dag_id, ti.task_id, ti.run_id, ",".join(self.accounts) or "-", ti.try_number,
                  ti.max_tries + 1, text, ti.log_url)

    def redacted(self, text: str) -> str:
        hub = load_hub()
        for name in self.accounts:
            try:
                account = hub.account(name)
            except ChannelhubError:
                continue  # a secret that cannot be resolved cannot appear in the error either
            text = redact(text, account)
        return text


def default_args(accounts: tuple[str, ...] = ()) -> dict[str, Any]:
    """Retries with backoff for transient failures (API outages, a locked DuckDB file), the
    warehouse pool, and the failure summary. Data-quality failures skip retries (see validate)."""
    return {
        "owner": "channelhub",
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "pool": POOL,
        "on_failure_callback": FailureSummary(accounts),
    }


def dag_args(*tags: str, accounts: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``DAG(...)`` arguments every channelhub DAG shares, so none can drift: no backfill of missed
    intervals, one run at a time (dlt's incremental state is per account; a build or a stock push
    racing the previous one would write the same tables), the task defaults, and the ``channelhub``
    tag. The DAG is still constructed in its own file: Airflow records that file to re-parse it when a
    task runs."""
    return {"start_date": START_DATE, "catchup": False, "max_active_runs": 1,
            "default_args": default_args(accounts), "tags": ["channelhub", *tags]}


def check_alerts_task():
    """The ``alerts`` task closing a DAG: evaluates the rules of ``alerts:`` and sends what is due
    (``channelhub alerts check``). A teardown task: it runs whatever its upstream tasks did (a failed
    build or a refused push is exactly when people must hear of it), and the DAG run's state stays that
    of the work (a failed push leaves the run failed, even though the alerts went out). It fails when a
    destination did not take a message; its retries send only what is still undelivered."""

    @task(task_id="alerts")
    def alerts() -> dict[str, int]:
        from channelhub.alerts import check_alerts

        report = check_alerts(load_hub())
        for alert in report.open:
            log.warning("open alert %s (%s): %s", alert.alert_key, alert.severity, alert.title)
        log.info("alerts: %d open, %d resolved now, %d sent", len(report.open), len(report.resolved),
                 len(report.sent))
        if not report.ok:
            raise ChannelhubError(f"{len(report.errors)} alert message(s) not delivered: " + "; ".join(report.errors))
        return {"open": len(report.open), "resolved": len(report.resolved), "sent": len(report.sent)}

    return alerts().as_teardown()


def report_task():
    """The ``report`` task: writes the HTML report (``channelhub report``) to the channelhub home, where
    the stack serves it, after the alerts it lists were evaluated; whatever the build did (a teardown
    too, so the run's state stays the build's)."""

    @task(task_id="report")
    def report() -> str:
        from channelhub.report import write_report

        return str(write_report(load_hub()))

    return report().as_teardown()
