"""One loaded sandbox merchant per warehouse kind, shared by the model tests of this package.

Loading takes seconds; building is what the tests vary, so each test builds (or rebuilds) on the
module's merchant and asserts on the marts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import yaml

from channelhub.config import HubConfig
from sandbox.fleet import Fleet
from tests.conftest import fresh_postgres_database
from tests.pipeline import SHIPPED, isolate_env, loaded_merchant, small_config


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def merchant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[HubConfig, Fleet]]:
    """(hub, running fleet) with every account loaded into a fresh DuckDB file or PostgreSQL database."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    with ExitStack() as stack, pytest.MonkeyPatch.context() as monkeypatch:
        url = stack.enter_context(fresh_postgres_database()) if request.param == "postgres" else None
        isolate_env(monkeypatch, tmp_path)
        stock = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["stock"]
        stock.update(max_zeroed_share=1.0, max_drop_fraction=1.0)  # the first push replaces unrelated demo levels
        yield stack.enter_context(loaded_merchant(small_config(tmp_path, warehouse_url=url, edit={"stock": stock})))
