"""sync_stock mirroring the allocations to a Jiandaoyun 进销存 form (``stock.mirrors``) beside two Shopify
shops: what the sandbox's form holds after a sync, what a re-run sends, how a failure mid-mirror and a
lost answer converge, and that a mirror and the channels never stop each other."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa
from rich.console import Console

from channelhub.stock import ChannelStatus
from channelhub.stock.report import render_sync
from sandbox.jiandaoyun import ENTRY_IDS
from tests.stock.conftest import MIRROR, StockEnv, raised

DUCKDB_ONLY = pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)


def stocked(env: StockEnv) -> None:
    """Loaded, built and validated, with on hand above available to promise (the mart the conftest
    writes leaves on hand at 0), so every figure the mirror receives is its own number."""
    env.ready(raised)
    with env.warehouse.engine.begin() as conn:
        conn.execute(sa.text("update marts.rpt_stock_availability set on_hand = available_to_promise + 3"))


def test_mirror_holds_each_channels_allocation_and_a_rerun_sends_only_what_changed(make_env) -> None:
    env: StockEnv = make_env(mirror=True)
    stocked(env)
    report = env.sync()
    assert report.ok and [c.status for c in report.channels] == [ChannelStatus.SYNCED] * 2
    mirror = report.mirror(MIRROR)
    assert mirror.status == ChannelStatus.SYNCED and mirror.levels == 40 * 2 * 3
    assert env.mirrored() == env.to_mirror() and len(env.to_mirror()) == 80
    assert [sorted(w) for w in env.mirror.writes] == [["app_id", "data_list", "entry_id", "is_start_workflow",
                                                       "transaction_id"]] * 2  # one batch_create per channel
    log = env.push_log(channel_id=MIRROR)
    assert len(log) == 240 and {row["outcome"] for row in log} == {"success"}
    sku = env.world.skus[0].code
    assert {row["inventory_item_id"]: row["new_quantity"] for row in log
            if row["sku"] == sku and row["location_id"] == "shop_us"} == dict(
        zip(("allocated", "on_hand", "available"), env.to_mirror()[(sku, "shop_us")], strict=True))

    again = env.sync()
    assert again.ok and again.mirror(MIRROR).changes == [] and len(env.mirror.writes) == 2

    env.reallocate(lambda shop, index, current: current + 4 if shop == "shop_us" and index in (3, 7) else current)
    moved = env.sync(accounts=[MIRROR])
    assert moved.channels == [] and moved.mirror(MIRROR).outcomes == Counter({"success": 2})
    assert {(c.diff.location_id, c.diff.item_id) for c in moved.mirror(MIRROR).changes} == {("shop_us", "allocated")}
    assert env.mirrored() == env.to_mirror()
    console = Console(record=True, width=200)
    render_sync(console, moved)
    assert "jdy_erp (mirror)" in console.export_text()


@pytest.mark.reliability
@DUCKDB_ONLY
def test_a_failure_mid_mirror_then_rerun_converges_and_the_channels_go_on(make_env) -> None:
    env: StockEnv = make_env(skus=110, max_attempts=2, mirror=True)
    stocked(env)
    env.mirror.faults.server_error, env.mirror.faults.path_contains = 2, "data/batch_create"  # shop_eu's first 100
    report = env.sync()
    mirror = report.mirror(MIRROR)
    assert not report.ok and mirror.status == ChannelStatus.FAILED
    assert mirror.outcomes == Counter({"failed": 300, "success": 360})
    assert [c.status for c in report.channels] == [ChannelStatus.SYNCED] * 2  # the channels went on
    assert len(env.mirrored()) == 120

    rerun = env.sync()  # sends only the 100 records still missing
    assert rerun.ok and len(rerun.mirror(MIRROR).changes) == 300 and rerun.channels[0].changes == []
    assert env.mirrored() == env.to_mirror() and len(env.mirror.forms[ENTRY_IDS["可售库存"]].stored) == 220

    # an update that lands but whose answer is lost fails its own level only (one batch_update per distinct
    # value: the other four go out), and the next sync finds it at the target
    env.reallocate(lambda shop, index, current: current + 1 if shop == "shop_eu" and index < 5 else current)
    env.mirror.faults.malformed, env.mirror.faults.path_contains = 1, "data/batch_update"
    assert env.sync(accounts=[MIRROR]).mirror(MIRROR).outcomes == Counter({"failed": 1, "success": 4})
    assert env.mirrored() == env.to_mirror()
    writes = len(env.mirror.writes)
    settled = env.sync(accounts=[MIRROR]).mirror(MIRROR)
    assert settled.outcomes == Counter({"success": 1}) and len(env.mirror.writes) == writes
    assert [c.detail for c in settled.changes] == ["already at the target"]
    assert env.sync().mirror(MIRROR).changes == []


@DUCKDB_ONLY
def test_mirror_dry_run_readiness_kill_switch_and_a_failing_channel(make_env, monkeypatch: pytest.MonkeyPatch) -> None:
    env: StockEnv = make_env(skus=10, mirror=True)
    stocked(env)
    dry = env.sync(dry_run=True)
    assert dry.mirror(MIRROR).status == ChannelStatus.DRY_RUN and len(dry.mirror(MIRROR).changes) == 60
    assert env.mirror.writes == [] and env.push_log() == []

    env.validate(success=False)
    refused = env.sync(accounts=[MIRROR]).mirror(MIRROR)
    assert refused.status == ChannelStatus.REFUSED and "the last quality run" in refused.reasons[0]
    env.validate()

    monkeypatch.setenv("CHANNELHUB_TEST_SHOP_EU_TOKEN", "shpat_revoked_token_value")
    report = env.sync()
    assert report.channel("shop_eu").status == ChannelStatus.FAILED
    assert report.mirror(MIRROR).status == ChannelStatus.SYNCED and env.mirrored() == env.to_mirror()

    env.reconfigure(mirrors={MIRROR: {"enabled": False}})
    env.reallocate(lambda shop, index, current: current + 1)
    off = env.sync(accounts=[MIRROR])
    assert off.mirror(MIRROR).status == ChannelStatus.DISABLED and env.mirrored() != env.to_mirror()
    assert (env.push_log(channel_id=MIRROR, outcome="skipped")[0]["detail"]
            == f"kill switch: stock.mirrors.{MIRROR}.enabled is false")
