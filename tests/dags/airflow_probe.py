"""Runs Airflow in a child process for tests/dags, and reports what it saw as JSON.

Airflow reads ``AIRFLOW_HOME`` and its database URL once, when it is first imported, and
reconfigures logging; doing that inside pytest would fix one configuration for the whole session
and disturb other tests. So each test starts this script with its own environment:

    python tests/dags/airflow_probe.py parse OUT.json
    python tests/dags/airflow_probe.py run OUT.json [--no-retries] DAG_ID...
    python tests/dags/airflow_probe.py notify OUT.json ACCOUNT MESSAGE

``parse`` fills a DagBag the way the DAG processor does; ``run`` executes each DAG once with
``dag.test()`` (in-process tasks against the metadata DB) and dumps run states, tries per task and run, Asset
events and the Asset-triggered runs the scheduler would start; ``notify`` feeds a failure to the DAGs'
failure callback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _bag():
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")


def _schedule(dag) -> dict[str, Any]:
    from airflow.sdk import AssetAll, AssetAny
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable

    timetable = dag.timetable
    if isinstance(timetable, AssetTriggeredTimetable):
        condition = timetable.asset_condition
        if isinstance(condition, AssetAny | AssetAll):
            kind, members = ("any" if isinstance(condition, AssetAny) else "all"), condition.objects
        else:
            kind, members = "one", [condition]
        return {"assets": sorted(asset.name for asset in members), "kind": kind}
    return {"cron": getattr(timetable, "_expression", None) or str(dag.schedule)}


def parse() -> dict[str, Any]:
    bag = _bag()
    return {
        "import_errors": bag.import_errors,
        "dags": [{
            "dag_id": dag.dag_id,
            "file": Path(dag.fileloc).name,
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md or "",
            "max_active_runs": dag.max_active_runs,
            "schedule": _schedule(dag),
            "tasks": {task.task_id: {
                "retries": task.retries,
                "retry_delay_s": task.retry_delay.total_seconds(),
                "pool": task.pool,
                "priority_weight": task.priority_weight,
                "upstream": sorted(task.upstream_task_ids),
                "trigger_rule": getattr(task.trigger_rule, "value", task.trigger_rule),
                "teardown": task.is_teardown,
                "outlets": [outlet.name for outlet in task.outlets],
                "on_failure_callback": [type(cb).__name__ for cb in task.on_failure_callback or []],
            } for task in dag.tasks},
        } for dag in bag.dags.values()],
    }


def run(dag_ids: list[str], no_retries: bool) -> dict[str, Any]:
    from airflow.models import DagRun, TaskInstance
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    bag = _bag()
    runs: list[tuple[str, str]] = []  # (dag_id, run_id) in the order they ran; a DAG may run twice
    for dag_id in dag_ids:
        dag = bag.dags[dag_id]
        if no_retries:
            for task in dag.tasks:
                task.retries = 0
        runs.append((dag_id, dag.test().run_id))
    with create_session() as session:
        states = [[dag_id, str(session.scalar(select(DagRun.state).where(DagRun.dag_id == dag_id,
                                                                           DagRun.run_id == run_id)))]
                  for dag_id, run_id in runs]
        tries = [{ti.task_id: ti.try_number for ti in session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id))}
            for dag_id, run_id in runs]
        events = [{"asset": name, "extra": extra} for name, extra in session.execute(
            select(AssetModel.name, AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .order_by(AssetEvent.id))]
        queued = sorted([dag_id, name] for dag_id, name in session.execute(
            select(AssetDagRunQueue.target_dag_id, AssetModel.name)
            .join(AssetModel, AssetDagRunQueue.asset_id == AssetModel.id)))
    return {"states": states, "tries": tries, "events": events, "queued": queued}


def notify(account: str, message: str) -> dict[str, Any]:
    from channelhub_dags.common import FailureSummary

    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("channelhub.airflow").addHandler(handler)
    ti = SimpleNamespace(dag_id=f"channelhub_ingest_{account}", task_id="load", run_id="manual__probe",
                         try_number=3, max_tries=2, log_url="http://airflow.local/dags/x/runs/y/tasks/load")
    FailureSummary((account,)).notify({"ti": ti, "exception": RuntimeError(message)})
    return {"records": records}


def main(argv: list[str]) -> None:
    command, out = argv[0], Path(argv[1])
    if command == "parse":
        result = parse()
    elif command == "run":
        no_retries = "--no-retries" in argv[2:]
        result = run([arg for arg in argv[2:] if arg != "--no-retries"], no_retries)
    elif command == "notify":
        sys.path.insert(0, str(DAGS))
        result = notify(argv[2], argv[3])
    else:
        raise SystemExit(f"unknown command {command!r}")
    out.write_text(json.dumps(result, default=str, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
