"""A merchant with two Shopify shops served by sandboxes (and, with ``mirror``, a Jiandaoyun 进销存 app
the allocations are mirrored to) and a warehouse in the state a stock sync reads: the shops' levels as
loaded, ``marts.rpt_stock_availability`` with the contract's columns, and the ingest, build and quality
records the readiness gate checks.

The mart is written here rather than built (tests/transforms/test_build.py pushes a real build), so
each test chooses its allocations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from channelhub.config import HubConfig
from channelhub.stock import StockSyncReport, sync_stock
from expectations.store import QualityRun, record
from sandbox.jiandaoyun import APP_ID, ENTRY_IDS, JiandaoyunSandbox
from sandbox.shopify import ShopifySandbox
from sandbox.world import ShopSpec, World, WorldSpec
from transforms.build_log import ModelRun, record_model_runs
from warehouse import StreamRun, Warehouse, record_runs
from warehouse.builds import finish_build, last_build, start_build

SHOPS = (ShopSpec("shop_us", "USD", "America/New_York"), ShopSpec("shop_eu", "EUR", "Europe/Berlin"))
TOKENS = {"shop_us": "shpat_stock_us_0123456789abcdef", "shop_eu": "shpat_stock_eu_0123456789abcdef"}
MIRROR, MIRROR_KEY = "jdy_erp", "jdy-stock-0123456789abcdef"
LOOSE = {"max_zeroed_share": 1.0, "max_drop_fraction": 1.0, "max_raised_share": 1.0, "max_total_raise_fraction": 1e6}
Allocation = Callable[[int, int], int]  # (sku index, quantity the shop holds) -> allocated quantity

mart = sa.Table(
    "rpt_stock_availability", sa.MetaData(schema="marts"),
    sa.Column("product_id", sa.String(128)), sa.Column("source_code", sa.String(128)),
    sa.Column("channel_id", sa.String(64)),
    sa.Column("location_id", sa.Text), sa.Column("inventory_item_id", sa.Text), sa.Column("on_hand", sa.BigInteger),
    sa.Column("reserved", sa.BigInteger), sa.Column("safety_stock", sa.Integer),
    sa.Column("available_to_promise", sa.BigInteger), sa.Column("percentage", sa.Numeric(5, 2)),
    sa.Column("cap", sa.Integer), sa.Column("floor", sa.Integer), sa.Column("allocated_quantity", sa.BigInteger),
    sa.Column("allocation_note", sa.Text))


def raw_levels(shop: str) -> sa.Table:
    """``raw_<shop>.inventory_levels`` as dlt loads it (the columns the sync reads)."""
    return sa.Table("inventory_levels", sa.MetaData(schema=f"raw_{shop}"),
                    sa.Column("inventory_item_id", sa.BigInteger), sa.Column("location_id", sa.BigInteger),
                    sa.Column("available", sa.BigInteger), sa.Column("updated_at", sa.DateTime(timezone=True)),
                    sa.Column("_dlt_load_id", sa.String(32)), sa.Column("_dlt_id", sa.String(32)))


def raised(index: int, held: int) -> int:
    """The default allocation: a little above what the shop holds, so every level changes and no
    guardrail objects."""
    return held + 1 + index % 5


class StockEnv:
    def __init__(self, tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch, *, skus: int,
                 stock: dict[str, Any], max_attempts: int, mirror: bool = False) -> None:
        monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
        monkeypatch.delenv("CHANNELHUB_WAREHOUSE_URL", raising=False)
        self.world = World(WorldSpec(orders=30, skus=skus, customers=20, shops=SHOPS))
        self.sandboxes: dict[str, ShopifySandbox] = {}
        accounts = {}
        for shop in SHOPS:
            sandbox = ShopifySandbox(self.world, shop.name, access_token=TOKENS[shop.name])
            sandbox.retry_after = 0.05
            sandbox.serve()
            self.sandboxes[shop.name] = sandbox
            variable = f"CHANNELHUB_TEST_{shop.name.upper()}_TOKEN"
            monkeypatch.setenv(variable, TOKENS[shop.name])
            accounts[shop.name] = {"connector": "shopify",
                                   "settings": {"base_url": sandbox.base_url, "max_attempts": max_attempts,
                                                "max_wait_seconds": 0.05, "timeout_seconds": 5},
                                   "secrets": {"access_token": {"env": variable}}}
        self.mirror: JiandaoyunSandbox | None = None
        if mirror:
            self.mirror = JiandaoyunSandbox(self.world, MIRROR_KEY, MIRROR)
            self.mirror.serve()
            monkeypatch.setenv("CHANNELHUB_TEST_JDY_KEY", MIRROR_KEY)
            accounts[MIRROR] = {"connector": "jiandaoyun", "settings": {
                "base_url": self.mirror.base_url, "app_id": APP_ID, "forms": {"stock": {"entry_id": ENTRY_IDS["库存"]}},
                "stock_writeback": {"entry_id": ENTRY_IDS["可售库存"]}, "max_attempts": max_attempts,
                "max_wait_seconds": 0.05, "timeout_seconds": 5}, "secrets": {"api_key": {"env": "CHANNELHUB_TEST_JDY_KEY"}}}
            stock = {"mirrors": [MIRROR], **stock}
        self.config = {"warehouse": {"url": warehouse_url}, "accounts": accounts,
                       "stock": {"channels": {"shop_us": {}, "shop_eu": {}}, "allow_overallocation": True, **LOOSE,
                                 **stock}}
        self.hub = HubConfig.model_validate(self.config)
        self.warehouse = Warehouse(warehouse_url)
        self.location = {name: sandbox.location_id("01") for name, sandbox in self.sandboxes.items()}

    def close(self) -> None:
        for sandbox in [*self.sandboxes.values(), *([self.mirror] if self.mirror else [])]:
            sandbox.stop()

    def reconfigure(self, **stock: Any) -> None:
        self.config["stock"] = {**self.config["stock"], **stock}
        self.hub = HubConfig.model_validate(self.config)

    # -- warehouse state ------------------------------------------------------------------------------
    def load(self, at: datetime | None = None) -> None:
        """What ingest leaves: every level of both shops in ``raw_<shop>.inventory_levels`` and a
        successful run per account in ops.run_log."""
        at = at or datetime.now(UTC) - timedelta(minutes=10)
        for name, sandbox in self.sandboxes.items():
            table = raw_levels(name)
            rows = [{"inventory_item_id": item, "location_id": location, "available": available, "updated_at": at,
                     "_dlt_load_id": f"{at.timestamp():.6f}", "_dlt_id": f"{item}-{location}"}
                    for (item, location), available in sandbox.quantities().items()]
            with self.warehouse.engine.begin() as conn:
                conn.execute(sa.text(f"create schema if not exists raw_{name}"))
                table.metadata.drop_all(conn)
                table.metadata.create_all(conn)
                conn.execute(table.insert(), rows)
        self.record_ingest(at)

    def record_ingest(self, at: datetime, outcome: str = "success", account: str | None = None) -> None:
        names = [account] if account else [*self.sandboxes, *([MIRROR] if self.mirror else [])]
        record_runs(self.warehouse, [StreamRun(f"run-{name}-{at.timestamp()}", name, "shopify", "inventory_levels",
                                               at - timedelta(seconds=5), at, 10, outcome, False,
                                               "HTTP 503 from the shop" if outcome == "failed" else None)
                                     for name in names])

    def build(self, allocation: Allocation, at: datetime | None = None, failed: tuple[str, ...] = (),
              finished: bool = True) -> None:
        """``marts.rpt_stock_availability`` with one row per SKU and shop at location 01, and a build record
        (written by the build's own ``record_model_runs`` and ``ops.builds``; ``finished`` False: still running)."""
        at = at or datetime.now(UTC) - timedelta(minutes=5)
        rows = []
        for name, sandbox in self.sandboxes.items():
            loaded = self.loaded(name)
            for sku in self.world.skus:
                item = sandbox.inventory_item_id(sku)
                rows.append({"product_id": sku.code, "source_code": sku.code, "channel_id": name,
                             "location_id": str(self.location[name]),
                             "inventory_item_id": str(item), "on_hand": 0, "reserved": 0, "safety_stock": 0,
                             "available_to_promise": 0, "percentage": 100, "cap": None, "floor": 0,
                             "allocated_quantity": allocation(sku.index, loaded[item])})
        promised: dict[str, int] = {}  # ATP: what both shops are given together (no oversell exposure)
        for row in rows:
            promised[row["product_id"]] = promised.get(row["product_id"], 0) + row["allocated_quantity"]
        for row in rows:
            row["available_to_promise"] = promised[row["product_id"]]
        with self.warehouse.engine.begin() as conn:
            conn.execute(sa.text("create schema if not exists marts"))
            mart.metadata.drop_all(conn)
            mart.metadata.create_all(conn)
            conn.execute(mart.insert(), rows)
        build_id = f"build-{at.timestamp()}"
        with self.warehouse.engine.begin() as conn:
            start_build(conn, build_id, at - timedelta(seconds=2))
            for model in ("fct_inventory", "rpt_stock_availability"):
                record_model_runs(conn, [ModelRun(build_id, model, "marts", at - timedelta(seconds=2),
                                                   at, len(rows), outcome="failed" if model in failed else "success",
                                                   seconds=2)])
            if finished:
                finish_build(conn, build_id, "failed" if failed else "success", at)

    def validate(self, success: bool = True, at: datetime | None = None) -> None:
        """A quality run as ``expectations.validate`` records it (``expectations.store.record``)."""
        at = at or datetime.now(UTC) - timedelta(minutes=1)
        with self.warehouse.engine.connect() as conn:
            validated = last_build(conn, finished=True)
        record(self.warehouse, QualityRun(f"q-{at.timestamp()}", at - timedelta(seconds=1), at, success,
                                          0 if success else 3, 0, None, validated and validated.build_id), [])

    def ready(self, allocation: Allocation) -> None:
        """Loaded, built with ``allocation`` and validated, in that order."""
        self.load()
        self.build(allocation)
        self.validate()

    def reallocate(self, allocation: Callable[[str, int, int], int]) -> None:
        """Change the mart's allocations in place: ``allocation(shop, sku index, current allocation)``."""
        index = {sku.code: sku.index for sku in self.world.skus}
        with self.warehouse.engine.begin() as conn:
            rows = conn.execute(sa.select(mart.c.channel_id, mart.c.product_id, mart.c.allocated_quantity)).all()
            for row in rows:
                new = allocation(row.channel_id, index[row.product_id], int(row.allocated_quantity))
                if new != row.allocated_quantity:
                    conn.execute(mart.update().where(mart.c.channel_id == row.channel_id,
                                                     mart.c.product_id == row.product_id)
                                 .values(allocated_quantity=new))

    # -- observations ---------------------------------------------------------------------------------
    def loaded(self, shop: str) -> dict[int, int]:
        """Inventory item -> quantity at the pushed location, as last loaded."""
        table = raw_levels(shop)
        with self.warehouse.engine.connect() as conn:
            return {row.inventory_item_id: row.available for row in conn.execute(
                sa.select(table.c.inventory_item_id, table.c.available).where(
                    table.c.location_id == self.location[shop]))}

    def held(self, shop: str) -> dict[str, int]:
        """What the shop's sandbox holds per SKU at the pushed location."""
        sandbox = self.sandboxes[shop]
        quantities = sandbox.quantities()
        return {sku.code: quantities[(sandbox.inventory_item_id(sku), self.location[shop])] for sku in self.world.skus}

    def allocated(self, shop: str) -> dict[str, int]:
        with self.warehouse.engine.connect() as conn:
            return {row.product_id: int(row.allocated_quantity) for row in conn.execute(
                sa.select(mart.c.product_id, mart.c.allocated_quantity).where(mart.c.channel_id == shop))}

    def mirrored(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """What the mirror's 可售库存 form holds: (SKU, channel) -> (allocated, on hand, available)."""
        assert self.mirror is not None
        form = self.mirror.forms[ENTRY_IDS["可售库存"]]
        sku, channel, *figures = (form.name_of(label) for label in ("商品编号", "渠道", "可售数量", "在库数量", "可承诺数量"))
        return {(values[sku], values[channel]): tuple(values.get(name) for name in figures)
                for _, _, _, values in form.stored.values()}

    def to_mirror(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """What the mirror should hold, from the mart: per SKU and channel, the allocation over the
        channel's locations, its on hand and its available to promise."""
        with self.warehouse.engine.connect() as conn:
            return {(row.product_id, row.channel_id): (int(row.allocated), int(row.on_hand), int(row.available))
                    for row in conn.execute(sa.text(
                        "select product_id, channel_id, sum(allocated_quantity) as allocated, max(on_hand) as on_hand,"
                        " max(available_to_promise) as available from marts.rpt_stock_availability "
                        "group by product_id, channel_id"))}

    def push_log(self, **where: str) -> list[dict[str, Any]]:
        if not self.warehouse.table_exists("ops", "stock_push_log"):
            return []
        conditions = " and ".join(f"{column} = :{column}" for column in where) or "true"
        with self.warehouse.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(
                sa.text(f"select * from ops.stock_push_log where {conditions} order by pushed_at, sku"), where)]

    def mutations(self, shop: str) -> list[dict[str, Any]]:
        """The ``inventorySetQuantities`` inputs the shop received."""
        return [call["variables"]["input"] for call in self.sandboxes[shop].graphql_calls
                if isinstance(call, dict) and "inventorySetQuantities" in call.get("query", "")]

    def applied(self, shop: str) -> list[tuple[int, int]]:
        return [(c.inventory_item_id, c.location_id) for c in self.sandboxes[shop].inventory_changes]

    def merchant_sets(self, shop: str, sku_index: int, quantity: int) -> None:
        """A merchant edit in the shop's admin (REST), between our load and our push."""
        sandbox = self.sandboxes[shop]
        item = sandbox.inventory_item_id(self.world.skus[sku_index])
        answer = requests.post(f"{sandbox.base_url}/admin/api/2024-07/inventory_levels/set.json", timeout=10,
                               headers={"X-Shopify-Access-Token": TOKENS[shop]},
                               json={"inventory_item_id": item, "location_id": self.location[shop], "available": quantity})
        assert answer.status_code == 200

    def sync(self, **kwargs: Any) -> StockSyncReport:
        return sync_stock(self.hub, **kwargs)


# Every stock scenario runs on both warehouses; on PostgreSQL with the end-to-end checks, but for the
# tests that ask for BOTH_WAREHOUSES (make test's PostgreSQL parity of the write-back, once).
BOTH_WAREHOUSES = pytest.mark.parametrize("warehouse_url", ["duckdb", "postgres"], indirect=True)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.e2e)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/wh.duckdb"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_env(tmp_path: Path, warehouse_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., StockEnv]]:
    envs: list[StockEnv] = []

    def make(skus: int = 40, stock: dict[str, Any] | None = None, max_attempts: int = 3,
             mirror: bool = False) -> StockEnv:
        envs.append(StockEnv(tmp_path, warehouse_url, monkeypatch, skus=skus, stock=stock or {},
                             max_attempts=max_attempts, mirror=mirror))
        return envs[-1]

    yield make
    for env in envs:
        env.close()
