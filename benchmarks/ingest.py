"""``make bench``: ingest throughput, incremental cost and peak memory, printed as figures.

Each sync runs in a fresh child process (spawned, so it shares nothing with the sandbox serving it)
and reports its own peak RSS (VmHWM), so the memory figure is the pipeline's, not the emulator's.
Sizes can be lowered for a quick look: ``BENCH_ORDERS=10000 BENCH_MEMORY_ORDERS=0 BENCH_ERP_ROWS=100000 make bench``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import in_child, line, peak_mb

ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))
# Orders of the memory run: a second, larger world synced by channelhub alone (0 skips it).
MEMORY_ORDERS = int(os.environ.get("BENCH_MEMORY_ORDERS", "1000000"))
ERP_ROWS = int(os.environ.get("BENCH_ERP_ROWS", "1000000"))


@dataclass
class SyncFigures:
    rows: dict[str, int]     # records each stream handed over in this sync (extract counts)
    tables: dict[str, int]   # rows in raw_<account> afterwards, nested tables (order lines) included
    seconds: float
    peak_rss_mb: float

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


def _table_counts(hub: Any, account: str) -> dict[str, int]:
    import sqlalchemy as sa

    from warehouse import Warehouse

    engine = Warehouse(hub.warehouse_url).engine
    schema = hub.account(account, resolve_secrets=False).dataset
    with engine.connect() as conn:
        return {table: conn.execute(sa.text(f'select count(*) from {schema}."{table}"')).scalar_one()
                for table in sa.inspect(conn).get_table_names(schema=schema) if not table.startswith("_dlt")}


def _sync_in_child(config: dict[str, Any], account: str, env: dict[str, str], queue: Any) -> None:
    os.environ.update(env)
    from channelhub.config import HubConfig
    from channelhub.runner import run_account

    hub = HubConfig.model_validate(config)
    report = run_account(hub, account)
    queue.put(SyncFigures(report.rows, _table_counts(hub, account), report.seconds, peak_mb()))


def sync(config: dict[str, Any], account: str, env: dict[str, str]) -> SyncFigures:
    return in_child(_sync_in_child, config, account, env)


def _naive_in_child(base_url: str, workdir: str, queue: Any) -> None:
    """The baseline a new user writes first: dlt's RESTClient with its HeaderLinkPaginator, every order
    as dlt gets it, into DuckDB. Same sandbox, same orders, dlt's defaults otherwise."""
    os.environ["PROVIDERS__ENABLE_AIRFLOW_SECRETS"] = "false"  # as channelhub runs: no Airflow lookups
    import dlt
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

    client = RESTClient(base_url=f"{base_url}/admin/api/2024-07/", headers={"X-Shopify-Access-Token": "shpat_bench"},
                        paginator=HeaderLinkPaginator(), data_selector="orders")

    @dlt.resource(name="orders", primary_key="id", write_disposition="merge")
    def orders() -> Any:
        yield from client.paginate("orders.json", params={"limit": 250, "status": "any"})

    pipeline = dlt.pipeline("naive_shopify", pipelines_dir=f"{workdir}/naive", dataset_name="raw",
                            destination=dlt.destinations.duckdb(f"{workdir}/naive.duckdb"))
    started = time.perf_counter()
    pipeline.run(orders())
    queue.put((time.perf_counter() - started, peak_mb()))


def naive_sync(base_url: str, workdir: Path) -> tuple[float, float]:
    return in_child(_naive_in_child, base_url, str(workdir))


def bench_shopify(workdir: Path) -> None:
    from sandbox.shopify import ShopifySandbox
    from sandbox.world import ShopSpec, World, WorldSpec

    print(f"Shopify: full sync of {ORDERS:,} orders (with lines) from the sandbox into DuckDB, "
          "rate limiting off", flush=True)
    started = time.perf_counter()
    world = World(WorldSpec(orders=ORDERS, skus=2_000, customers=20_000,
                            shops=(ShopSpec("bench_shop", "USD", "America/New_York"),)))
    sandbox = ShopifySandbox(world, shop="bench_shop", access_token="shpat_bench", rate_limiting=False)
    base_url = sandbox.serve()
    line("sandbox world generated and serving", f"{time.perf_counter() - started:.1f} s")
    env = {"CHANNELHUB_HOME": str(workdir / "home"), "BENCH_SHOP_TOKEN": "shpat_bench"}
    config = _shopify_config(base_url, workdir / "bench.duckdb")
    full = sync(config, "bench_shop", env)
    orders, lines = full.tables.get("orders", 0), full.tables.get("orders__line_items", 0)
    line("orders / order lines loaded", f"{orders:,} / {lines:,}")
    line("full sync wall time", f"{full.seconds:.1f} s")
    line("orders per second", f"{orders / full.seconds:,.0f}")
    line(f"records per second ({full.total_rows:,} rows in all tables incl. lines, refunds)",
         f"{full.total_rows / full.seconds:,.0f}")
    line("peak memory of the syncing process", f"{full.peak_rss_mb:,.0f} MB")
    naive_seconds, naive_rss = naive_sync(base_url, workdir)
    line("baseline: naive dlt RESTClient + HeaderLinkPaginator, same orders", f"{naive_seconds:.1f} s, "
         f"{naive_rss:,.0f} MB")
    line("channelhub speed / baseline speed (target >= 3x)", f"{naive_seconds / full.seconds:.2f}x")
    changed = world.touch_orders(0.01)
    incremental = sync(config, "bench_shop", env)
    line(f"incremental sync after {len(changed):,} orders (1%) changed", f"{incremental.seconds:.1f} s "
         f"({incremental.seconds / full.seconds:.1%} of the full sync), {incremental.rows.get('orders', 0):,} orders")
    line("peak memory of the incremental sync", f"{incremental.peak_rss_mb:,.0f} MB")
    sandbox.stop()
    if MEMORY_ORDERS:
        bench_shopify_memory(workdir / "memory")


def _shopify_config(base_url: str, database: Path) -> dict[str, Any]:
    return {
        "warehouse": {"url": f"duckdb:///{database}"},
        "accounts": {"bench_shop": {
            "connector": "shopify",
            "settings": {"base_url": base_url, "api_version": "2024-07", "start_date": "2025-01-01T00:00:00Z",
                         "page_size": 250},
            "secrets": {"access_token": {"env": "BENCH_SHOP_TOKEN"}},
        }},
    }


def bench_shopify_memory(workdir: Path) -> None:
    """Peak memory of a full sync of ``MEMORY_ORDERS`` orders (the naive baseline is not run at that
    size: it needs several GB)."""
    from sandbox.shopify import ShopifySandbox
    from sandbox.world import ShopSpec, World, WorldSpec

    started = time.perf_counter()
    world = World(WorldSpec(orders=MEMORY_ORDERS, skus=2_000, customers=20_000,
                            shops=(ShopSpec("bench_shop", "USD", "America/New_York"),)))
    sandbox = ShopifySandbox(world, shop="bench_shop", access_token="shpat_bench", rate_limiting=False)
    base_url = sandbox.serve()
    # The sandbox sorts a listing on its first request; at 1M orders on a busy machine that alone can
    # outlast the client's 30 s timeout, so it is done before the sync starts.
    sandbox.index(sandbox.listings["orders"], "updated_at asc")
    line(f"sandbox world of {MEMORY_ORDERS:,} orders generated and serving", f"{time.perf_counter() - started:.1f} s")
    env = {"CHANNELHUB_HOME": str(workdir / "home"), "BENCH_SHOP_TOKEN": "shpat_bench"}
    full = sync(_shopify_config(base_url, workdir / "bench.duckdb"), "bench_shop", env)
    line(f"full sync of {full.tables.get('orders', 0):,} orders", f"{full.seconds:.1f} s")
    line("peak memory of the syncing process (target <= 1,024 MB)", f"{full.peak_rss_mb:,.0f} MB")
    sandbox.stop()


def _connectorx_in_child(database: str, tables: list[str], workdir: str, queue: Any) -> None:
    """The baseline for SQL sources: connectorx reads each table into Arrow, DuckDB stores it. No
    types declared, no incremental state, no load bookkeeping."""
    import connectorx as cx
    import duckdb

    started = time.perf_counter()
    rows = 0
    with duckdb.connect(f"{workdir}/connectorx.duckdb") as con:
        for table in tables:
            arrow = cx.read_sql(f"sqlite://{database}", f'select * from "{table}"', return_type="arrow")
            con.register("batch", arrow)
            con.execute(f'create table "{table}" as select * from batch')
            con.unregister("batch")
            rows += arrow.num_rows
    queue.put((time.perf_counter() - started, rows, peak_mb()))


def connectorx_sync(database: Path, tables: list[str], workdir: Path) -> tuple[float, int, float]:
    return in_child(_connectorx_in_child, str(database), tables, str(workdir))


def bench_erp(workdir: Path) -> None:
    from sandbox.world import World, WorldSpec
    from sandbox.yonyou_u8 import build_u8

    print(f"Yonyou U8: full sync of ~{ERP_ROWS:,} ERP rows from a SQLite U8 database into DuckDB", flush=True)
    started = time.perf_counter()
    database = workdir / "u8.sqlite"
    sandbox = build_u8(f"sqlite:///{database}", World(WorldSpec(orders=2_000)), bulk_lines=ERP_ROWS)
    sandbox.close()
    line("U8 database built", f"{time.perf_counter() - started:.1f} s")
    config = {
        "warehouse": {"url": f"duckdb:///{workdir}/bench.duckdb"},
        "accounts": {"bench_u8": {"connector": "yonyou_u8", "settings": {"url": f"sqlite:///{database}"}}},
    }
    full = sync(config, "bench_u8", {"CHANNELHUB_HOME": str(workdir / "home")})
    line("rows loaded (all U8 tables)", f"{full.total_rows:,}")
    line("full sync wall time", f"{full.seconds:.1f} s")
    line("rows per second", f"{full.total_rows / full.seconds:,.0f}")
    line("peak memory of the syncing process", f"{full.peak_rss_mb:,.0f} MB")
    import sqlalchemy as sa

    with sa.create_engine(f"sqlite:///{database}").connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    cx_seconds, cx_rows, cx_rss = connectorx_sync(database, tables, workdir)
    line(f"baseline: connectorx -> Arrow -> DuckDB, same database ({cx_rows:,} rows)",
         f"{cx_seconds:.1f} s, {cx_rss:,.0f} MB")
    line("channelhub speed / baseline speed (target >= 0.8x)",
         f"{(full.total_rows / full.seconds) / (cx_rows / cx_seconds):.2f}x")


def orders_api_floor(orders: int, page: int = 100) -> float:
    """Seconds the Orders API alone needs for ``orders`` under Amazon's default usage plans: getOrders
    pages (0.0167 a second after a burst of 20) and one getOrderItems call per order (0.5 after 30),
    one operation after the other as a sync reads them, the transfer itself free."""
    pages = -(-orders // page)
    return max(0, pages - 20) / 0.0167 + max(0, orders - 30) / 0.5


def bench_amazon(workdir: Path) -> None:
    """The first sync of an Amazon seller through the Reports backfill, against the sandbox at Amazon's
    documented default plans, beside the Orders-API-only floor under the same plans."""
    from sandbox.amazon import AmazonSandbox
    from sandbox.world import ShopSpec, World, WorldSpec

    print(f"Amazon: first sync of {ORDERS:,} orders through the Reports backfill, default usage plans", flush=True)
    world = World(WorldSpec(orders=ORDERS, skus=200, customers=20_000,
                            shops=(ShopSpec("bench_amazon", "USD", "America/Los_Angeles", marketplace=True),)))
    credentials = {"client_id": "amzn1.application-oa2-client.bench", "client_secret": "amzn1.oa2-cs.v1.bench",
                   "refresh_token": "Atzr|bench"}
    sandbox = AmazonSandbox(world, "bench_amazon", seller_id="A2BENCHSELLER", **credentials)
    base_url = sandbox.serve()
    env = {"CHANNELHUB_HOME": str(workdir / "amazon-home"),
           **{f"BENCH_AMAZON_{key.upper()}": value for key, value in credentials.items()}}
    config = {"warehouse": {"url": f"duckdb:///{workdir / 'amazon.duckdb'}"}, "accounts": {"bench_amazon": {
        "connector": "amazon",
        "settings": {"base_url": base_url, "token_url": f"{base_url}/auth/o2/token", "seller_id": "A2BENCHSELLER",
                     "marketplace_id": "ATVPDKIKX0DER", "start_date": "2026-01-01T00:00:00Z", "poll_seconds": 1},
        "secrets": {key: {"env": f"BENCH_AMAZON_{key.upper()}"} for key in credentials}}}}
    full = sync(config, "bench_amazon", env)
    line("orders / order items loaded", f"{full.tables.get('orders', 0):,} / {full.tables.get('order_items', 0):,}")
    line("first sync wall time (the report, refunds, listings, FBA)", f"{full.seconds:.1f} s")
    floor = orders_api_floor(ORDERS)
    line("Orders API only under the same plans (getOrders + getOrderItems)", f"{floor / 3600:,.1f} h (computed)")
    line("Orders-API floor / report backfill", f"{floor / full.seconds:,.0f}x")
    line("peak memory of the syncing process", f"{full.peak_rss_mb:,.0f} MB")
    sandbox.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-") as tmp:
        workdir = Path(tmp)
        bench_shopify(workdir)
        bench_amazon(workdir)
        bench_erp(workdir)


if __name__ == "__main__":
    sys.exit(main())
