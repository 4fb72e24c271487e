"""One loaded sandbox merchant per test module, shared by the model tests of this package.

Loading takes seconds; building is what the tests vary, so each test builds (or rebuilds) on the
module's merchant and asserts on the marts. A module setting ``WAREHOUSE = "postgres"`` gets its
merchant in a fresh PostgreSQL database instead of a DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from channelhub.config import HubConfig
from channelhub.fleet import Fleet
from channelhub.testing.postgres import fresh_postgres_database
from tests.pipeline import LEFT_OUT, first_push_stock, isolate_env, loaded_merchant, small_config

# The whole-merchant builds load EasyPost and ShipStation too: the logistics marts (fct_shipments,
# rpt_fulfilment…) have rows only when a logistics account ships the shops' orders, every mart is
# checked with rows, and ShipStation's labels list the order lines they ship (the reservations).
WHOLE_MERCHANT_LEFT_OUT = tuple(name for name in LEFT_OUT if name not in ("easypost", "shipstation"))


@pytest.fixture(scope="module")
def merchant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[HubConfig, Fleet]]:
    """(hub, running fleet) with every account loaded into a fresh DuckDB file or PostgreSQL database."""
    kind = getattr(request.module, "WAREHOUSE", "duckdb")
    tmp_path = tmp_path_factory.mktemp(kind)
    with ExitStack() as stack, pytest.MonkeyPatch.context() as monkeypatch:
        url = stack.enter_context(fresh_postgres_database()) if kind == "postgres" else None
        isolate_env(monkeypatch, tmp_path)
        config = small_config(tmp_path, warehouse_url=url, edit={"stock": first_push_stock()},
                              leave_out=WHOLE_MERCHANT_LEFT_OUT)
        yield stack.enter_context(loaded_merchant(config))
