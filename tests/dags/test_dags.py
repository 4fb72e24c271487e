"""The Airflow DAGs: they parse without a metadata database, follow channelhub.yml and transforms/,
carry the ops defaults, and run the whole chain (ingest → build and validate → stock) with ``dag.test()``.

Airflow runs in a child process (tests/dags/airflow_probe.py) with its own AIRFLOW_HOME, so its
configuration and logging never leak into the rest of the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from channelhub.config import load_config
from channelhub.fleet import Fleet
from tests.pipeline import (
    SECRET_VARIABLES,
    SHIPPED,
    first_push_stock,
    isolate_env,
    query,
    scalar,
    small_config,
)
from transforms import mart_names

PROBE = Path(__file__).with_name("airflow_probe.py")
DAGS = PROBE.parents[2] / "dags"
NO_DATABASE = "sqlite:////nonexistent/channelhub/airflow.db"  # any access fails: "unable to open database"
SHOP_TOKENS = {"shop_us": "CHANNELHUB_SHOP_US_TOKEN", "shop_eu": "CHANNELHUB_SHOP_EU_TOKEN"}
STRIPE_KEY = "CHANNELHUB_STRIPE_MAIN_KEY"


def airflow_env(home: Path, config: Path | None, database: str, **extra: str) -> dict[str, str]:
    """A child environment with nothing Airflow- or secret-related inherited from the shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "_AIRFLOW")) and k not in SECRET_VARIABLES and k != "CHANNELHUB_CONFIG"}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(DAGS), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=database, AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False")
    if config:
        env["CHANNELHUB_CONFIG"] = str(config)
    env.update(extra)
    return env


def probe(env: dict[str, str], *args: str) -> tuple[dict[str, Any], str]:
    """Run the probe; returns its JSON report and its output (task logs included)."""
    out = Path(env["AIRFLOW_HOME"]) / f"probe-{args[0]}.json"
    done = subprocess.run([sys.executable, str(PROBE), args[0], str(out), *args[1:]], check=False, env=env,
                          capture_output=True, text=True, timeout=540)
    out.with_suffix(".log").write_text(done.stdout + done.stderr, encoding="utf-8")  # kept for debugging
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout + done.stderr


def parse(tmp_path: Path, config: Path | None = None, **extra: str) -> dict[str, dict[str, Any]]:
    report, _ = probe(airflow_env(tmp_path / "airflow", config, NO_DATABASE, **extra), "parse")
    assert report["import_errors"] == {}
    return {dag["dag_id"]: dag for dag in report["dags"]}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The DAGs of the shipped channelhub.yml, parsed once with the metadata DB out of reach."""
    return parse(tmp_path_factory.mktemp("parse"))


def test_every_dag_carries_the_ops_defaults(shipped: dict[str, dict[str, Any]]) -> None:
    assert len(shipped) >= 4
    for dag_id, dag in shipped.items():
        assert "channelhub" in dag["tags"] and len(dag["tags"]) >= 2, dag_id
        assert dag["doc_md"].strip(), dag_id
        assert dag["max_active_runs"] == 1, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["retries"] >= 2 and task["retry_delay_s"] > 0, (dag_id, task_id)
            assert task["pool"] == "warehouse_writer", (dag_id, task_id)
            assert task["on_failure_callback"] == ["FailureSummary"], (dag_id, task_id)


def test_one_ingest_dag_per_enabled_account(shipped: dict[str, dict[str, Any]]) -> None:
    hub = load_config(SHIPPED)
    ingest = sorted((dag for dag in shipped.values() if dag["file"] == "ingest.py"), key=lambda dag: dag["dag_id"])
    assert [dag["dag_id"] for dag in ingest] == [f"channelhub_ingest_{name}" for name in hub.enabled_accounts()]
    for dag, name in zip(ingest, hub.enabled_accounts(), strict=True):
        assert dag["schedule"] == {"cron": hub.accounts[name].schedule}
        assert dag["tasks"]["load"]["outlets"] == [f"raw_{name}"]
        assert dag["tasks"]["load"]["priority_weight"] == 100  # a free pool slot goes to a load first
        assert hub.accounts[name].connector in dag["tags"]


def test_build_dag_builds_in_one_task_and_updates_an_asset_per_mart(shipped: dict[str, dict[str, Any]]) -> None:
    hub = load_config(SHIPPED)
    build = shipped["channelhub_build"]
    assert build["schedule"] == {"assets": sorted(f"raw_{name}" for name in hub.enabled_accounts()), "kind": "any"}
    tasks = build["tasks"]
    assert set(tasks) == {"build", "validate", "docs", "alerts", "report"}
    assert tasks["docs"]["upstream"] == ["build"]
    assert sorted(tasks["build"]["outlets"]) == sorted(f"marts.{name}" for name in mart_names())
    assert {"marts.fct_orders", "marts.rpt_stock_availability"} <= set(tasks["build"]["outlets"])
    assert tasks["validate"]["upstream"] == ["build"]  # checks the marts of its own run
    assert tasks["validate"]["outlets"] == ["marts_validated"]
    # teardowns: they run whatever the build and the gates did, and leave the run's state to them
    assert tasks["alerts"]["upstream"] == ["validate"] and tasks["alerts"]["teardown"]
    assert tasks["report"]["upstream"] == ["alerts"] and tasks["report"]["teardown"]
    assert tasks["alerts"]["trigger_rule"] == tasks["report"]["trigger_rule"] == "all_done_setup_success"


def test_stock_sync_waits_for_validated_marts(shipped: dict[str, dict[str, Any]]) -> None:
    stock = shipped["channelhub_stock_sync"]
    assert stock["schedule"] == {"assets": ["marts_validated"], "kind": "one"}
    assert sorted(stock["tasks"]) == ["alerts", "sync_stock"]
    assert stock["tasks"]["alerts"]["upstream"] == ["sync_stock"]
    assert stock["tasks"]["alerts"]["teardown"]  # a failed push is when people must hear, and the run fails


def test_dags_follow_the_config(tmp_path: Path) -> None:
    """A disabled account has no DAG and no say in the build; without `stock:` there is no stock DAG."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["accounts"]["stripe_main"]["enabled"] = False
    raw["accounts"]["shop_eu"]["schedule"] = "@daily"
    del raw["stock"]
    config = tmp_path / "channelhub.yml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    dags = parse(tmp_path, config)
    assert "channelhub_ingest_stripe_main" not in dags and "channelhub_stock_sync" not in dags
    assert dags["channelhub_ingest_shop_eu"]["schedule"] == {"cron": "@daily"}
    assert "raw_stripe_main" not in dags["channelhub_build"]["schedule"]["assets"]


def test_a_running_task_builds_only_its_own_ingest_dag(tmp_path: Path) -> None:
    dags = parse(tmp_path, _AIRFLOW_PARSING_CONTEXT_DAG_ID="channelhub_ingest_shop_us")
    assert [dag_id for dag_id, dag in dags.items() if dag["file"] == "ingest.py"] == ["channelhub_ingest_shop_us"]


def test_failure_summary_names_the_run_and_hides_the_secret(tmp_path: Path) -> None:
    token = "shpat_leaky0123456789"
    env = airflow_env(tmp_path / "airflow", None, NO_DATABASE, CHANNELHUB_SHOP_US_TOKEN=token)
    report, _ = probe(env, "notify", "shop_us", f"401 for https://shop/admin?access_token={token}")
    [line] = report["records"]
    assert token not in line and "access_token=***" in line
    for part in ("dag=channelhub_ingest_shop_us", "task=load", "account=shop_us", "try=3/3",
                 "error=RuntimeError: 401", "log=http://airflow.local/dags/x/runs/y/tasks/load"):
        assert part in line


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow metadata DB (SQLite) migrated once; each test runs on its own copy."""
    home = tmp_path_factory.mktemp("airflow-template")
    database = home / "airflow.db"
    done = subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=False,
                          env=airflow_env(home, None, f"sqlite:///{database}"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return database


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Known sandbox credentials in this process (restored afterwards), for the fleet to accept."""
    isolate_env(monkeypatch, tmp_path)
    for variable in (*SHOP_TOKENS.values(), STRIPE_KEY):
        monkeypatch.setenv(variable, f"test_{variable.lower()}")
    yield


def connection(password: str) -> str:
    return json.dumps({"conn_type": "generic", "password": password})


@pytest.mark.e2e
def test_chain_runs_from_ingest_to_stock_sync(tmp_path: Path, migrated: Path, sandboxes: None) -> None:
    """On the embedded DuckDB warehouse only: the DAGs hold no warehouse-specific code (they call the
    library), and every library step they run is tested on PostgreSQL in its own package."""
    config = small_config(tmp_path, edit={"stock": first_push_stock()})
    hub = load_config(config)
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copy(migrated, home / "airflow.db")
    # The shops' tokens exist only as Airflow connections; Stripe's only as its env variable.
    env = airflow_env(home, config, f"sqlite:///{home / 'airflow.db'}",
                      **{STRIPE_KEY: os.environ[STRIPE_KEY]},
                      **{f"AIRFLOW_CONN_{name.upper()}": connection(os.environ[variable])
                         for name, variable in SHOP_TOKENS.items()})
    ingest = [f"channelhub_ingest_{name}" for name in hub.enabled_accounts()]
    # Stock sync runs once too early (nothing loaded, built or validated) and once in its place.
    chain = ["channelhub_stock_sync", *ingest, "channelhub_build", "channelhub_stock_sync"]

    with Fleet(hub) as fleet:
        report, output = probe(env, "run", *chain)
        assert report["states"] == [[dag_id, "failed" if i == 0 else "success"] for i, dag_id in enumerate(chain)]
        # The early sync was refused by the readiness gate: failed at once, no retry spent on it.
        assert report["tries"][0] == {"sync_stock": 1, "alerts": 1}  # the teardown told people, the run failed
        assert {"alerts", "report"} <= report["tries"][-2].keys()  # the build's
        # the early sync's alerts (accounts never loaded, the refused push) were resolved by the chain
        alerts = {row["alert_key"]: row["status"] for row in query(hub, "select alert_key, status from ops.alerts")}
        assert {key: alerts[key] for key in alerts if key.split(":")[0] in ("stale_account", "stock_push")} == {
            **{f"stale_account:{name}": "resolved" for name in hub.enabled_accounts()},
            "stock_push:shop_eu": "resolved", "stock_push:shop_us": "resolved"}
        assert "refused: shop_eu (account 'erp_u8' has never been loaded" in output
        # task logs end with what ops need: rows per stream, checks passed / warned / failed
        assert re.search(r"loaded shop_us\.orders: [1-9]\d* rows", output) and "loaded erp_u8: " in output
        assert re.search(r"validated: \d+ checks: \d+ passed, \d+ warning\(s\), 0 critical failure\(s\)", output)
        events = {event["asset"]: event["extra"] for event in report["events"]}

        for name in hub.enabled_accounts():  # each load's Asset event carries what ops.run_log recorded
            extra = events[f"raw_{name}"]
            logged = query(hub, f"select stream, rows_loaded from ops.run_log where run_id = '{extra['run_id']}'")
            assert extra["rows"] == sum(row["rows_loaded"] for row in logged) > 0, name
        assert scalar(hub, "select count(*) from raw_shop_us.orders") > 0

        orders = events["marts.fct_orders"]
        built = query(hub, f"select model, layer, outcome from ops.build_log where build_id = '{orders['build_id']}'")
        assert {row["model"] for row in built if row["layer"] == "marts"} == set(mart_names())
        assert {row["outcome"] for row in built} == {"success"}
        assert orders["rows"] == scalar(hub, "select count(*) from marts.fct_orders") > 0
        assert {f"marts.{name}" for name in mart_names()} <= events.keys()

        validated = events["marts_validated"]
        assert scalar(hub, f"select success from ops.quality_runs where run_id = '{validated['run_id']}'")

        rows = query(hub, "select channel_id, location_id, inventory_item_id, allocated_quantity "
                          "from marts.rpt_stock_availability")
        for shop in SHOP_TOKENS:  # what each shop now holds is what the validated marts allocated
            held = fleet.sandbox(shop).quantities()
            mine = [row for row in rows if row["channel_id"] == shop]
            assert mine and {(int(r["inventory_item_id"]), int(r["location_id"])): r["allocated_quantity"]
                             for r in mine}.items() <= held.items()

        # What the scheduler would start next: the build on every raw Asset, stock sync on the validated one.
        assert report["queued"] == sorted([["channelhub_build", f"raw_{name}"] for name in hub.enabled_accounts()]
                                          + [["channelhub_stock_sync", "marts_validated"]])

        # A load that fails for good (revoked token) logs the summary and updates no Asset.
        env["AIRFLOW_CONN_SHOP_EU"] = connection("shpat_revoked")
        failed, output = probe(env, "run", "--no-retries", "channelhub_ingest_shop_eu")
    assert failed["states"] == [["channelhub_ingest_shop_eu", "failed"]]
    assert "channelhub task failed: dag=channelhub_ingest_shop_eu task=load" in output
    assert re.search(r"account=shop_eu try=1/1 error=RunFailed: account 'shop_eu': stream '\w+': HTTPError: 401",
                     output)  # the stream being read when the token was refused
    assert "log=http://" in output
    assert [e["asset"] for e in failed["events"]].count("raw_shop_eu") == 1  # only the successful load's
    assert scalar(hub, "select count(*) from ops.run_log where account = 'shop_eu' and outcome = 'failed'") == 1
