"""The distributed path: the whole chain scheduled by Airflow on the CeleryExecutor (Redis broker,
PostgreSQL metadata DB, warehouse on PostgreSQL) with two Celery workers as separate processes, as
docker-compose.yml runs them on several machines. `make celery-check` runs it (CI too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelhub.config import load_config
from channelhub.fleet import Fleet
from channelhub.testing.postgres import fresh_postgres_database
from tests.dags.celery_stack import celery_stack
from tests.dags.test_dags import SHOP_TOKENS, STRIPE_KEY
from tests.pipeline import first_push_stock, isolate_env, query, scalar, small_config

pytestmark = pytest.mark.celery


def test_the_scheduler_runs_the_whole_chain_on_two_celery_workers(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch, tmp_path)
    credentials = {variable: f"celery_{variable.lower()}" for variable in (*SHOP_TOKENS.values(), STRIPE_KEY)}
    for variable, value in credentials.items():
        monkeypatch.setenv(variable, value)  # the fleet accepts these; the workers read them
    with fresh_postgres_database() as warehouse_url:
        config = small_config(tmp_path, warehouse_url=warehouse_url, edit={"stock": first_push_stock()})
        hub = load_config(config)
        accounts = hub.enabled_accounts()
        with Fleet(hub) as fleet, celery_stack(tmp_path, config, CHANNELHUB_HOME=str(tmp_path / "home"),
                                               **credentials) as stack:
            # the scheduler starts each ingest DAG's latest interval; Assets chain build, validate and stock
            stack.wait("select count(distinct dag_id) = %s from dag_run where dag_id like 'channelhub_ingest_%%' "
                       "and state = 'success'", 900, len(accounts))
            stack.wait("select count(*) > 0 from dag_run where dag_id = 'channelhub_stock_sync' and state = 'success'",
                       900)
            ran = stack.query("select dag_id, task_id, hostname from task_instance where state = 'success'")
            pushed = {shop: len(fleet.sandbox(shop).inventory_changes) for shop in ("shop_us", "shop_eu")}
        assert {host for _, _, host in ran} == {"worker-a", "worker-b"}  # both workers took tasks
        assert {(dag, task) for dag, task, _ in ran} >= {
            *((f"channelhub_ingest_{name}", "load") for name in accounts), ("channelhub_build", "build"),
            ("channelhub_build", "validate"), ("channelhub_build", "alerts"), ("channelhub_stock_sync", "sync_stock")}
        for name in accounts:  # every account landed in the PostgreSQL warehouse, recorded in its run log
            assert scalar(hub, f"select count(*) from ops.run_log where account = '{name}' and stream = '*' "
                               "and outcome = 'success'") >= 1, name
        assert scalar(hub, "select count(*) from marts.fct_orders") > 0
        assert {row["outcome"] for row in query(hub, "select distinct outcome from ops.stock_push_log "
                                                     "where sku <> '*'")} == {"success"}
        assert all(pushed.values()), pushed  # the shops received the allocations
