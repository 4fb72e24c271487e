"""Stock write-back figures: API calls and wall time of ``sync_stock`` for 100k SKUs on one Shopify
sandbox, first the full push, then after 1% of the allocations changed; with the sandbox's GraphQL
cost bucket on (1000 points, 50/s: pacing is part of the figure) and off.

The warehouse (DuckDB) is prepared the way ingest, build and validation leave it: the shop's levels
in ``raw_<shop>.inventory_levels``, ``marts.rpt_stock_availability``, and passing ``ops.run_log``,
``ops.build_log`` and ``ops.quality_runs`` rows, so the sync runs its real readiness gate, diff,
compare-and-set push and audit. Smaller look: ``BENCH_STOCK_SKUS=10000 python -m benchmarks.stock_sync``.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from benchmarks import line

SKUS = int(os.environ.get("BENCH_STOCK_SKUS", "100000"))
SHOP, TOKEN, TOKEN_ENV = "bench_shop", "shpat_bench_stock", "BENCH_STOCK_TOKEN"


def write_frame(engine: sa.Engine, schema: str, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load through DuckDB's own DataFrame scan (row-by-row inserts would dominate the setup)."""
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        raw.register("frame", frame)
        raw.execute(f"create schema if not exists {schema}")
        raw.execute(f"create or replace table {schema}.{table} as select * from frame")
        raw.unregister("frame")


def prepare_warehouse(engine_url: str, sandbox, world, location: int) -> None:
    from expectations.store import QualityRun, record
    from transforms.build_log import ModelRun, record_model_runs
    from warehouse import StreamRun, Warehouse, record_runs

    warehouse = Warehouse(engine_url)
    loaded_at = datetime.now(UTC) - timedelta(minutes=10)
    held = sandbox.quantities()
    write_frame(warehouse.engine, f"raw_{SHOP}", "inventory_levels", pd.DataFrame({
        "inventory_item_id": [item for item, _ in held], "location_id": [loc for _, loc in held],
        "available": list(held.values()), "_dlt_load_id": f"{loaded_at.timestamp():.6f}"}))
    record_runs(warehouse, [StreamRun("bench", SHOP, "shopify", "inventory_levels", loaded_at, loaded_at,
                                      len(held), "success", False)])
    items = [sandbox.inventory_item_id(sku) for sku in world.skus]
    write_frame(warehouse.engine, "marts", "rpt_stock_availability", pd.DataFrame({
        "product_id": [sku.code for sku in world.skus], "channel_id": SHOP, "location_id": str(location),
        "inventory_item_id": [str(item) for item in items],
        "allocated_quantity": [held[(item, location)] + 1 for item in items]}))
    built_at = datetime.now(UTC) - timedelta(minutes=5)
    with warehouse.engine.begin() as conn:
        record_model_runs(conn, [ModelRun("bench", "rpt_stock_availability", "marts", built_at, built_at,
                                           SKUS, "table", "success")])
    now = datetime.now(UTC)
    record(warehouse, QualityRun(uuid.uuid4().hex, now, now, True, 0, 0, None), [])


def change_allocations(engine_url: str, fraction: float) -> int:
    from warehouse import Warehouse

    engine = Warehouse(engine_url).engine
    with engine.begin() as conn:
        codes = [row[0] for row in conn.exec_driver_sql("select product_id from marts.rpt_stock_availability")]
        picked = random.Random(7).sample(codes, k=max(1, int(len(codes) * fraction)))
        raw = conn.connection.driver_connection
        raw.register("picked", pd.DataFrame({"product_id": picked}))
        raw.execute("update marts.rpt_stock_availability set allocated_quantity = allocated_quantity + 3 "
                    "where product_id in (select product_id from picked)")
        raw.unregister("picked")
    return len(picked)


def timed_sync(hub, sandbox, label: str) -> None:
    from channelhub.stock import sync_stock

    calls, throttled = len(sandbox.graphql_calls), sandbox.throttled_calls
    started = time.perf_counter()
    report = sync_stock(hub)
    seconds = time.perf_counter() - started
    channel = report.channel(SHOP)
    sent = sandbox.graphql_calls[calls:]
    mutations = sum(1 for call in sent if "inventorySetQuantities" in call.get("query", ""))
    if channel.status.value != "synced":
        raise SystemExit(f"{label}: channel {channel.status.value}: {channel.reasons}")
    line(label, f"{len(channel.changes):,} levels, {len(sent):,} API calls ({mutations:,} mutations, "
                f"{sandbox.throttled_calls - throttled} throttled), {seconds:.1f} s")


def main() -> None:
    from channelhub.config import HubConfig
    from sandbox.shopify import ShopifySandbox
    from sandbox.world import ShopSpec, World, WorldSpec

    print(f"Stock sync: {SKUS:,} SKUs to one Shopify sandbox (GraphQL inventorySetQuantities, 250 per call), "
          "DuckDB audit", flush=True)
    started = time.perf_counter()
    world = World(WorldSpec(orders=10, skus=SKUS, customers=10, shops=(ShopSpec(SHOP, "USD", "UTC"),)))
    sandbox = ShopifySandbox(world, shop=SHOP, access_token=TOKEN)
    sandbox.serve()
    location = sandbox.location_id("01")
    line("sandbox world generated and serving", f"{time.perf_counter() - started:.1f} s")
    os.environ[TOKEN_ENV] = TOKEN
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-stock-") as tmp:
        url = f"duckdb:///{tmp}/bench.duckdb"
        os.environ["CHANNELHUB_HOME"] = str(Path(tmp) / "home")
        hub = HubConfig.model_validate({
            "warehouse": {"url": url},
            "accounts": {SHOP: {"connector": "shopify", "settings": {"base_url": sandbox.base_url},
                                "secrets": {"access_token": {"env": TOKEN_ENV}}}},
            "stock": {"channels": {SHOP: {}}},
        })
        started = time.perf_counter()
        prepare_warehouse(url, sandbox, world, location)
        line("warehouse prepared (levels loaded, mart built, validated)", f"{time.perf_counter() - started:.1f} s")

        print("  rate limiting on (cost bucket 1000 points, 50 restored/s, 10 per mutation):", flush=True)
        timed_sync(hub, sandbox, "first sync: every level differs")
        changed = change_allocations(url, 0.01)
        timed_sync(hub, sandbox, f"after {changed:,} allocations (1%) changed")
        timed_sync(hub, sandbox, "nothing changed")

        sandbox.rate_limiting = False
        print("  rate limiting off:", flush=True)
        changed = change_allocations(url, 0.01)
        timed_sync(hub, sandbox, f"after {changed:,} allocations (1%) changed")
        change_allocations(url, 1.0)
        timed_sync(hub, sandbox, "every level changed")
    sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
