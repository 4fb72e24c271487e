"""Does Airflow keep up? Read a metadata database after ``make airflow`` ran for a while and print:

- each scheduled ingest's start delay after its slot (``run_after``) — builds must never starve them;
- each build's duration;
- ERP → shops: from the end of each ERP ingest to the end of the first stock sync that started after it
  (the path an ERP stock change takes: ingest → build → validate → push).

    python -m benchmarks.airflow_timing [METADATA_URL] [--since ISO_TIME]

Default URL: the SQLite database ``make airflow`` uses. ``--since`` skips the catch-up runs Airflow
starts when the DAGs are first unpaused.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime

import sqlalchemy as sa

from benchmarks import line

DEFAULT_URL = "sqlite:///.channelhub/airflow/airflow.db"
ERP_INGEST = "channelhub_ingest_erp_u8"


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--since", type=lambda text: _utc(text), default=datetime.min.replace(tzinfo=UTC))
    args = parser.parse_args()
    with sa.create_engine(args.url).connect() as conn:
        rows = conn.execute(sa.text("select dag_id, run_type, run_after, start_date, end_date, state from dag_run "
                                    "order by start_date")).mappings().all()
    runs = [{**row, "run_after": _utc(row["run_after"]), "start_date": _utc(row["start_date"]),
             "end_date": _utc(row["end_date"])} for row in rows if row["start_date"]]
    runs = [run for run in runs if run["start_date"] >= args.since]
    print(f"Airflow timing: {len(runs)} DAG runs since {args.since:%Y-%m-%d %H:%M}Z")
    ingests = [run for run in runs if run["dag_id"].startswith("channelhub_ingest_")
               and run["run_type"] == "scheduled" and run["run_after"] >= args.since]
    delays = [(run["start_date"] - run["run_after"]).total_seconds() for run in ingests]
    if delays:
        line("scheduled ingests: count / start delay p95 / max", f"{len(delays)} / {_p95(delays):.0f} s / "
             f"{max(delays):.0f} s")
    builds = [(run["end_date"] - run["start_date"]).total_seconds() for run in runs
              if run["dag_id"] == "channelhub_build" and run["end_date"]]
    if builds:
        line("builds (build, validate, docs): count / median / max", f"{len(builds)} / "
             f"{statistics.median(builds):.0f} s / {max(builds):.0f} s")
    syncs = [run for run in runs if run["dag_id"] == "channelhub_stock_sync" and run["state"] == "success"]
    latencies = []
    for erp in (run for run in runs if run["dag_id"] == ERP_INGEST and run["state"] == "success"):
        after = [sync for sync in syncs if sync["start_date"] >= erp["end_date"]]
        if after:
            latencies.append((after[0]["end_date"] - erp["end_date"]).total_seconds())
    if latencies:
        line("ERP ingest end -> stock pushed: count / p95 / max", f"{len(latencies)} / {_p95(latencies):.0f} s / "
             f"{max(latencies):.0f} s")


if __name__ == "__main__":
    main()
