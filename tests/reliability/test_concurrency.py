"""Two processes on one DuckDB warehouse file: the second waits for the first, politely and within a bound,
and a run that gives up waiting is still recorded."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from channelhub.runner import RunFailed, run_account
from tests.connectors.test_shopify import ShopifyEnv
from warehouse import Warehouse, last_runs

pytestmark = pytest.mark.reliability

HOLD = """
import sys, time
from warehouse import Warehouse
warehouse = Warehouse(sys.argv[1])
with warehouse.exclusive("another channelhub command"), warehouse.engine.connect():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@contextmanager
def held_by_another_process(url: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the warehouse (its lock and an open DuckDB connection) for ``seconds``."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, url, str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def shop(make_env: Callable[..., Any]) -> ShopifyEnv:
    return make_env(ShopifyEnv, 30, 10)


def test_a_run_waits_for_another_process_then_loads(shop: ShopifyEnv, caplog: pytest.LogCaptureFixture) -> None:
    """A second writer waits for the first, says so, then runs."""
    with held_by_another_process(shop.config.warehouse_url, 1.5) as holder, caplog.at_level(logging.WARNING):
        report = run_account(shop.config, shop.account)
        assert holder.poll() is not None  # it could only run once the other process was done
    assert "waiting up to 900s for the warehouse: pid" in caplog.text and "another channelhub command" in caplog.text
    assert report.rows["orders"] == 30
    assert last_runs(Warehouse(shop.config.warehouse_url))[0]["state"] == "success"


def test_a_run_that_gives_up_waiting_is_recorded(shop: ShopifyEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer that waits past the bound fails naming the holder; its run is still logged."""
    monkeypatch.setenv("CHANNELHUB_WAREHOUSE_LOCK_WAIT", "0.3")
    with held_by_another_process(shop.config.warehouse_url, 30), pytest.raises(RunFailed) as failure:
        run_account(shop.config, shop.account)
    assert "stayed busy for 0s: pid" in str(failure.value) and "another channelhub command" in str(failure.value)
    monkeypatch.delenv("CHANNELHUB_WAREHOUSE_LOCK_WAIT")
    run_account(shop.config, shop.account)
    assert shop.rows("select outcome, error from ops.run_log where stream = '*' order by started_at") == [
        ("failed", str(failure.value).removeprefix("account 'shop_us': ")), ("success", None)]
