"""Airflow on the CeleryExecutor with real processes, for `make celery-check`: the local Redis as broker,
a PostgreSQL metadata DB, the api-server, scheduler, dag-processor and two Celery workers, each a separate
process started as `docker-compose.yml` starts its container. Nothing here is mocked: the scheduler runs
the chain on its own (the ingest DAGs' latest interval, then the Asset-triggered build and stock sync)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import redis

from tests.dags.test_dags import DAGS, airflow_env
from tests.pipeline import free_port

AIRFLOW = Path(sys.executable).with_name("airflow")
ROOT = Path(__file__).parents[2]


@dataclass
class CeleryStack:
    home: Path
    metadata_url: str
    env: dict[str, str]
    api_url: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, *args: str, **extra: str) -> None:
        log = (self.home / f"{name}.log").open("w", encoding="utf-8")
        self.processes[name] = subprocess.Popen([str(AIRFLOW), *args], env={**self.env, **extra}, stdout=log,
                                                stderr=subprocess.STDOUT, cwd=ROOT)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {process.returncode}:\n" + self.log(name)[-3000:])

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg2.connect(self.metadata_url) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def wait(self, done: str, timeout: float, *params: object) -> None:
        """Until ``done`` (SQL on the metadata DB) returns a true first cell; the processes must stay up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            rows = self.query(done, *params)
            if rows and rows[0][0]:
                return
            time.sleep(3)
        raise TimeoutError(f"not done after {timeout:.0f}s: {done}\n" + "\n".join(
            f"--- {name}\n{self.log(name)[-1500:]}" for name in self.processes))


@contextmanager
def celery_stack(tmp_path: Path, config: Path, *, workers: int = 2, **extra_env: str) -> Iterator[CeleryStack]:
    """The stack on a fresh metadata database and Redis database; torn down (processes, database) after."""
    database = f"airflow_celery_{os.getpid()}_{secrets.token_hex(3)}"
    admin = psycopg2.connect("postgresql://127.0.0.1:5432/postgres", user=os.environ.get("PGUSER", "postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{database}"')
    broker_db = 1 + int(secrets.token_hex(1), 16) % 15
    redis.Redis(db=broker_db).flushdb()
    metadata_url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    port = free_port()
    home = tmp_path / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, config, metadata_url.replace("postgresql://", "postgresql+psycopg2://"), **extra_env)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{broker_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__API__HOST": "127.0.0.1", "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.dags.worker_name.hostname",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "PYTHONPATH": str(ROOT),
    })
    stack = CeleryStack(home, metadata_url, env, f"http://127.0.0.1:{port}")
    with ExitStack() as cleanup:
        cleanup.callback(_drop, admin, database)
        for step in (["db", "migrate"], ["pools", "set", "warehouse_writer", "4", "tasks writing the warehouse"]):
            done = subprocess.run([str(AIRFLOW), *step], env=env, capture_output=True, text=True, check=False, cwd=ROOT)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        cleanup.callback(_stop, stack)
        stack.start("api-server", "api-server")
        stack.start("dag-processor", "dag-processor")
        for index in range(workers):
            name = f"worker-{chr(ord('a') + index)}"
            stack.start(name, "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "2",
                        CHANNELHUB_WORKER_NAME=name)
        stack.start("scheduler", "scheduler")
        yield stack


def _stop(stack: CeleryStack) -> None:
    for process in stack.processes.values():
        process.terminate()
    for process in stack.processes.values():
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _drop(admin, database: str) -> None:
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{database}" with (force)')
    admin.close()
