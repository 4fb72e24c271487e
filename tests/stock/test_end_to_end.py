"""The whole path on the small shipped merchant: load every account, build the marts (the shipped
stock policy flows through ops.stock_policy into rpt_stock_availability), record a passing quality
run, sync, and find the allocated quantities on both Shopify sandboxes. DuckDB and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import transforms
from channelhub.stock import ChannelStatus, sync_stock
from expectations.store import QualityRun, record
from sandbox.shopify import ShopifySandbox
from tests.pipeline import SHIPPED, isolate_env, loaded_merchant, query, small_config
from warehouse import Warehouse


def passing_quality_run(warehouse_url: str) -> None:
    now = datetime.now(UTC)
    record(Warehouse(warehouse_url), QualityRun(uuid.uuid4().hex, now, now, True, 0, 0, None), [])


def test_built_allocations_reach_both_shops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse_url: str) -> None:
    isolate_env(monkeypatch, tmp_path)
    stock = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["stock"]
    stock.update(max_zeroed_share=1.0, max_drop_fraction=1.0)  # the first push replaces unrelated demo levels
    config = small_config(tmp_path, warehouse_url=warehouse_url, edit={"stock": stock})
    with loaded_merchant(config) as (hub, fleet):
        transforms.build(hub)
        passing_quality_run(hub.warehouse_url)
        report = sync_stock(hub)
        assert report.ok and [(c.channel, c.status) for c in report.channels] == [
            ("shop_eu", ChannelStatus.SYNCED), ("shop_us", ChannelStatus.SYNCED)]
        rows = query(hub, "select channel_id, product_id, location_id, inventory_item_id, percentage, cap, "
                          "allocated_quantity from marts.rpt_stock_availability")
        assert len(rows) == 2 * hub.sandbox.skus
        for shop in ("shop_us", "shop_eu"):
            sandbox = fleet.sandbox(shop)
            assert isinstance(sandbox, ShopifySandbox)
            held = sandbox.quantities()
            mine = [row for row in rows if row["channel_id"] == shop]
            assert {row["product_id"]: held[(int(row["inventory_item_id"]), int(row["location_id"]))] for row in mine} == {
                row["product_id"]: row["allocated_quantity"] for row in mine}
            assert {Decimal(row["percentage"]) for row in mine} == {Decimal(60) if shop == "shop_us" else Decimal(40)}
        capped = next(row for row in rows if (row["channel_id"], row["product_id"]) == ("shop_eu", "CH-0000-M"))
        assert capped["cap"] == 10 and capped["allocated_quantity"] <= 10
        assert sum(len(c.changes) for c in report.channels) > 0

        again = sync_stock(hub)
        assert again.ok and all(not c.changes for c in again.channels)
