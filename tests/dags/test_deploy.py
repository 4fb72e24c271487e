"""The production deployment around the DAGs: the warehouse roles (warehouse/sql, on the real
PostgreSQL) and the docker-compose stack (its shape, since Docker does not run in the test setup)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
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


DCLINT = ROOT / "node_modules" / ".bin" / "dclint"


def dclint(path: Path) -> subprocess.CompletedProcess:
    assert DCLINT.exists(), "dclint is missing: `make env` installs it from package-lock.json"
    return subprocess.run([str(DCLINT), "-c", str(ROOT / ".dclintrc.json"), "--max-warnings", "0", "--no-color",
                           str(path)], capture_output=True, text=True, check=False, timeout=120)


def test_compose_passes_the_compose_schema_and_its_linters_rules(tmp_path: Path) -> None:
    """dclint: the Compose Specification's JSON schema and its rules (explicit image tags, ports bound to
    an interface, quoted ports...), style-only ordering rules off (.dclintrc.json)."""
    done = dclint(ROOT / "docker-compose.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    for breaking, expected in ((lambda services: services["redis"].update(healthchek=services["redis"].pop("healthcheck")),
                                "/services/redis"),  # not a Compose key
                               (lambda services: services["docs"].update(image="nginx"), "nginx")):  # no tag
        broken = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
        breaking(broken["services"])
        (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
        refused = dclint(tmp_path / "docker-compose.yml")
        assert refused.returncode != 0 and expected in refused.stdout, refused.stdout


def test_compose_pins_every_image_keeps_state_in_volumes_and_binds_ports_locally(compose: dict) -> None:
    services = compose["services"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    for name, service in services.items():
        repository, tag = service["image"].split(":", 1)
        pinned = tag == f"${{CHANNELHUB_VERSION:-{version}}}" if repository == "channelhub" else \
            re.fullmatch(r"v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?", tag)  # PostgreSQL's 16.6 is exact
        assert pinned, (name, service["image"])  # an exact version, never latest or a moving major tag
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)  # published on this host only, unless overridden
        if name not in ("airflow-init", "metabase-init", "sandbox"):  # one-shot and optional services
            assert service["healthcheck"]["test"] and service["restart"] == "unless-stopped", name
    for database in ("airflow-db", "warehouse-db", "metabase-db"):
        assert f"{database}:/var/lib/postgresql/data" in services[database]["volumes"], database
    assert {"airflow-db", "warehouse-db", "metabase-db", "airflow-logs", "channelhub-home"} <= set(compose["volumes"])


def test_compose_serves_metabase_and_the_docs_sites_read_only(compose: dict) -> None:
    services = compose["services"]
    metabase = services["metabase"]
    assert metabase["environment"]["MB_DB_TYPE"] == "postgres" and metabase["environment"]["MB_DB_HOST"] == "metabase-db"
    assert metabase["depends_on"]["warehouse-db"]["condition"] == "service_healthy"
    assert "${METABASE_DB_PASSWORD:?" in metabase["environment"]["MB_DB_PASS"]
    init = services["metabase-init"]  # pre-wired: `channelhub metabase` (tests/test_metabase.py) after it is up
    assert init["command"] == ["channelhub", "metabase"] and init["depends_on"]["metabase"]["condition"] == "service_healthy"
    assert init["environment"]["CHANNELHUB_BI_URL"].startswith("postgresql://${WAREHOUSE_BI_USER:-bi_readonly}:")
    docs = services["docs"]
    assert "channelhub-home:/srv/channelhub:ro" in docs["volumes"]
    site = compose["configs"][docs["configs"][0]["source"]]["content"]
    served = re.findall(r"alias /srv/channelhub/(\w+)/;", site)
    assert served == ["report", "data_docs", "model_docs"] and "location / { return 404; }" in site
