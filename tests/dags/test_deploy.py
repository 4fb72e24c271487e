"""The production deployment around the DAGs: the warehouse roles (warehouse/sql, on the real
PostgreSQL) and the docker-compose stack (its shape, since Docker does not run in the test setup)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).parents[2]
SQL = ROOT / "warehouse" / "sql"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init"}


def psql(url: str, script: str, **variables: str) -> None:
    args = [shutil.which("psql") or "psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(SQL / script)]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    done = subprocess.run(args, check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def roles(postgres_url: str) -> Iterator[dict[str, str]]:
    """Unique role names (roles are cluster-wide), dropped with everything they own afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {"loader": f"loader_{suffix}", "bi_role": f"bi_{suffix}"}
    yield names
    conn = psycopg2.connect(postgres_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'drop owned by "{names["bi_role"]}", "{names["loader"]}" cascade')
        cur.execute(f'drop role "{names["bi_role"]}"')
        cur.execute(f'drop role "{names["loader"]}"')
    conn.close()


def as_role(url: str, role: str) -> sa.Engine:
    return sa.create_engine(sa.engine.make_url(url).set(username=role, password="pw"), poolclass=sa.pool.NullPool)


@pytest.mark.postgres
def test_bi_role_reads_marts_only_and_keeps_access_across_rebuilds(postgres_url: str, roles: dict[str, str]) -> None:
    loader, bi = roles["loader"], roles["bi_role"]
    psql(postgres_url, "loader.sql", loader=loader, loader_password="pw")
    psql(postgres_url, "bi_readonly.sql", loader=loader, bi_role=bi, bi_password="pw")
    with as_role(postgres_url, loader).begin() as conn:  # the loader builds the marts, as dbt does
        conn.execute(sa.text("create schema if not exists staging"))
        conn.execute(sa.text("create table staging.orders as select 'shop_us:1' as order_id, 12.50 as total_amount"))
    # dbt's table materialisation: build beside, swap in, drop the old one
    build = ["create table marts.fct_orders__dbt_tmp as select * from staging.orders",
             "alter table if exists marts.fct_orders rename to fct_orders__dbt_backup",
             "alter table marts.fct_orders__dbt_tmp rename to fct_orders",
             "drop table if exists marts.fct_orders__dbt_backup cascade",
             "insert into staging.orders values ('shop_us:2', 1)"]
    with as_role(postgres_url, loader).begin() as conn:
        for statement in build:
            conn.execute(sa.text(statement))

    reader = as_role(postgres_url, bi)
    with reader.connect() as conn:
        assert conn.execute(sa.text("select total_amount from marts.fct_orders")).scalar_one() == 12.5
    for statement in ("select * from staging.orders", "create table marts.mine (x int)",
                      "create view marts.mine as select 1 as x"):
        with reader.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="permission denied|read-only"):
            conn.execute(sa.text(statement))

    with as_role(postgres_url, loader).begin() as conn:  # the next build replaces the table
        for statement in build:
            conn.execute(sa.text(statement))
    psql(postgres_url, "bi_readonly.sql", loader=loader, bi_role=bi, bi_password="pw")  # re-runnable
    with reader.connect() as conn:
        assert conn.execute(sa.text("select count(*) from marts.fct_orders")).scalar_one() == 2


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_airflow_3_on_celery_with_healthchecks(compose: dict) -> None:
    services = compose["services"]
    assert AIRFLOW_SERVICES | {"redis", "airflow-db", "warehouse-db"} <= set(services)
    for name in AIRFLOW_SERVICES:
        service = services[name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379"), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert env["CHANNELHUB_WAREHOUSE_URL"].startswith("postgresql://"), name
        assert service["build"]["dockerfile"] == "Dockerfile", name
        if name != "airflow-init":
            assert service["healthcheck"]["test"], name
            assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
    for name in ("redis", "airflow-db", "warehouse-db"):
        assert services[name]["healthcheck"]["test"], name
    assert services["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    assert "pools set warehouse_writer" in " ".join(services["airflow-init"]["command"])


def test_compose_keeps_secrets_out_and_sandboxes_optional(compose: dict) -> None:
    services = compose["services"]
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["sandbox"]["command"] == ["channelhub", "sandbox", "serve"]
    assert all("profiles" not in service for name, service in services.items() if name != "sandbox")
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for variable in ("AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "WAREHOUSE_LOADER_PASSWORD",
                     "WAREHOUSE_BI_PASSWORD"):
        assert f"${{{variable}:?" in text, variable  # required from the environment / .env, no default
    init = services["warehouse-db"]["volumes"]
    assert "./warehouse/sql/init-warehouse.sh:/docker-entrypoint-initdb.d/10-channelhub-roles.sh:ro" in init
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
