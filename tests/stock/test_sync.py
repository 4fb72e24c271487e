"""sync_stock against two Shopify sandboxes, on DuckDB and PostgreSQL: what the shops end up holding,
what was sent, what ops.stock_push_log says, and how failures, retries and re-runs behave."""

from __future__ import annotations

from collections import Counter

import pytest

from channelhub.stock import ChannelStatus
from connectors.sdk import ConfigError
from tests.stock.conftest import BOTH_WAREHOUSES, StockEnv, raised


@BOTH_WAREHOUSES
def test_sync_sets_every_allocated_level_then_sends_nothing(make_env) -> None:
    env: StockEnv = make_env(skus=300)
    env.ready(raised)
    report = env.sync()
    assert report.ok and [c.status for c in report.channels] == [ChannelStatus.SYNCED, ChannelStatus.SYNCED]
    for shop in ("shop_us", "shop_eu"):
        assert env.held(shop) == env.allocated(shop)
        assert [len(m["quantities"]) for m in env.mutations(shop)] == [250, 50]
        assert all(m["referenceDocumentUri"] == f"channelhub://stock-sync/{report.sync_id}" for m in env.mutations(shop))
    log = env.push_log(channel_id="shop_us")
    assert len(log) == 300 and {row["outcome"] for row in log} == {"success"}
    first = next(row for row in log if row["sku"] == env.world.skus[0].code)
    item = env.sandboxes["shop_us"].inventory_item_id(env.world.skus[0])
    assert (first["location_id"], first["inventory_item_id"], first["new_quantity"], first["sync_id"]) == (
        str(env.location["shop_us"]), str(item), env.allocated("shop_us")[first["sku"]], report.sync_id)
    assert first["old_quantity"] == env.loaded("shop_us")[item]  # compared against the load

    again = env.sync()
    assert again.ok and all(c.status == ChannelStatus.SYNCED and not c.changes for c in again.channels)
    assert sum(len(env.mutations(shop)) for shop in env.sandboxes) == 4  # nothing new was sent
    assert len(env.push_log()) == 600


def test_only_changed_levels_are_sent_compared_against_the_last_push(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    env.sync()
    before = env.allocated("shop_us")
    env.reallocate(lambda shop, index, current: current + 4 if shop == "shop_us" and index in (3, 7, 11) else current)
    report = env.sync()
    assert report.ok and [len(c.changes) for c in report.channels] == [0, 3]  # shop_eu, shop_us
    last = env.mutations("shop_us")[-1]["quantities"]
    sent = {q["inventoryItemId"].rsplit("/", 1)[1]: (q["compareQuantity"], q["quantity"]) for q in last}
    expected = {str(env.sandboxes["shop_us"].inventory_item_id(env.world.skus[i])):
                (before[env.world.skus[i].code], before[env.world.skus[i].code] + 4) for i in (3, 7, 11)}
    assert sent == expected
    assert env.held("shop_us") == env.allocated("shop_us")


@pytest.mark.reliability
def test_a_later_load_is_the_baseline_but_an_unseen_change_is_reported_stale(make_env) -> None:
    """A push refused as stale is re-read from the channel and pushed again by the next sync (CAS)."""
    env: StockEnv = make_env()
    env.ready(raised)
    env.sync()
    env.merchant_sets("shop_us", 2, 77)  # the shop sold or corrected stock after our push
    env.merchant_sets("shop_us", 5, 66)
    pushed = env.allocated("shop_us")
    env.reallocate(lambda shop, index, current: current + 1 if shop == "shop_us" and index in (2, 5) else current)
    report = env.sync(accounts=["shop_us"])
    channel = report.channel("shop_us")
    assert channel.status == ChannelStatus.STALE and report.ok  # reported, not a failure
    assert channel.outcomes == Counter({"stale": 2})
    sku2, sku5 = env.world.skus[2].code, env.world.skus[5].code
    assert env.held("shop_us")[sku2] == 77 and env.held("shop_us")[sku5] == 66  # not overwritten
    assert {row["sku"]: row["detail"] for row in env.push_log(channel_id="shop_us", outcome="stale")} == {
        sku2: f"stale: the shop holds 77, expected {pushed[sku2]}; not overwritten",
        sku5: f"stale: the shop holds 66, expected {pushed[sku5]}; not overwritten"}

    # the next sync, before any ingest, compares against what the stale push read (77 and 66) and pushes
    report = env.sync(accounts=["shop_us"])
    assert report.channel("shop_us").status == ChannelStatus.SYNCED
    assert [(q["compareQuantity"]) for q in env.mutations("shop_us")[-1]["quantities"]] == [77, 66]
    assert env.held("shop_us") == env.allocated("shop_us")


def test_server_errors_mid_run_then_rerun_applies_each_level_once(make_env) -> None:
    env: StockEnv = make_env(skus=300, max_attempts=2)
    env.ready(raised)
    sandbox = env.sandboxes["shop_us"]
    sandbox.faults.server_error, sandbox.faults.path_contains = 2, "/graphql.json"  # first batch: every attempt
    report = env.sync()
    channel = report.channel("shop_us")
    assert not report.ok and channel.status == ChannelStatus.FAILED
    assert channel.outcomes == Counter({"failed": 250, "success": 50})
    assert report.channel("shop_eu").status == ChannelStatus.SYNCED  # the other channel went on
    assert {row["detail"] for row in env.push_log(channel_id="shop_us", outcome="failed")} == {
        "HTTP 500: Internal Server Error"}
    assert env.held("shop_us") != env.allocated("shop_us")

    rerun = env.sync()
    assert rerun.ok and [len(c.changes) for c in rerun.channels] == [0, 250]
    assert env.held("shop_us") == env.allocated("shop_us")
    applied = env.applied("shop_us")
    assert len(applied) == len(set(applied)) == 300


def test_lost_answer_then_rerun_does_not_apply_twice(make_env) -> None:
    env: StockEnv = make_env(skus=30)
    env.ready(raised)
    sandbox = env.sandboxes["shop_eu"]
    sandbox.faults.malformed, sandbox.faults.path_contains = 1, "/graphql.json"  # applied, answer cut
    report = env.sync()
    assert report.channel("shop_eu").status == ChannelStatus.FAILED
    assert env.held("shop_eu") == env.allocated("shop_eu")  # it did land
    rerun = env.sync()
    channel = rerun.channel("shop_eu")
    assert rerun.ok and channel.outcomes == Counter({"success": 30})
    assert {change.detail for change in channel.changes} == {"already at target (an earlier attempt landed)"}
    assert len(env.applied("shop_eu")) == 30  # the compare refused every second application
    assert env.sync().channel("shop_eu").changes == []


def test_throttles_mid_run_are_waited_out(make_env) -> None:
    env: StockEnv = make_env(skus=300)
    env.ready(raised)
    sandbox = env.sandboxes["shop_us"]
    sandbox.faults.rate_limit, sandbox.faults.path_contains = 2, "/graphql.json"
    report = env.sync()
    assert report.ok and sandbox.stats.faults_served["rate_limit"] == 2
    assert env.held("shop_us") == env.allocated("shop_us")
    assert len(env.applied("shop_us")) == 300


def test_kill_switch_stops_one_channel_and_is_recorded(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    env.reconfigure(channels={"shop_us": {}, "shop_eu": {"enabled": False}})
    held_eu = env.held("shop_eu")
    report = env.sync()
    assert report.ok and report.channel("shop_eu").status == ChannelStatus.DISABLED
    assert report.channel("shop_us").status == ChannelStatus.SYNCED
    assert env.mutations("shop_eu") == [] and env.held("shop_eu") == held_eu
    [row] = env.push_log(channel_id="shop_eu")
    assert (row["sku"], row["outcome"], row["detail"]) == (
        "*", "skipped", "kill switch: stock.channels.shop_eu.enabled is false")
    env.reconfigure(channels={"shop_us": {}, "shop_eu": {}})
    env.config["accounts"]["shop_eu"]["enabled"] = False  # a disabled account is not pushed to either
    env.reconfigure()
    assert env.sync().channel("shop_eu").reasons == ["account 'shop_eu' is disabled (accounts.shop_eu.enabled is false)"]
    assert env.mutations("shop_eu") == []


def test_a_channel_that_rejects_us_does_not_stop_the_other(make_env, monkeypatch: pytest.MonkeyPatch) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    monkeypatch.setenv("CHANNELHUB_TEST_SHOP_EU_TOKEN", "shpat_revoked_token_value")
    report = env.sync()
    assert not report.ok and report.channel("shop_us").status == ChannelStatus.SYNCED
    eu = report.channel("shop_eu")
    assert eu.status == ChannelStatus.FAILED and eu.outcomes == Counter({"failed": 40})
    details = {row["detail"] for row in env.push_log(channel_id="shop_eu")}
    assert len(details) == 1 and details.pop().startswith("HTTP 401: [API] Invalid API key")
    assert not any("shpat_revoked" in (row["detail"] or "") for row in env.push_log())


def test_dry_run_shows_the_diff_and_pushes_and_records_nothing(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    held = env.held("shop_us")
    report = env.sync(dry_run=True)
    assert report.dry_run and report.ok
    channel = report.channel("shop_us")
    assert channel.status == ChannelStatus.DRY_RUN and len(channel.changes) == 40
    change = next(c for c in channel.changes if c.diff.sku == env.world.skus[0].code)
    assert (change.diff.old, change.diff.new, change.outcome) == (
        held[env.world.skus[0].code], env.allocated("shop_us")[env.world.skus[0].code], None)
    assert env.mutations("shop_us") == env.mutations("shop_eu") == []
    assert env.push_log() == []


def test_accounts_narrow_the_sync_and_must_be_stock_channels(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    report = env.sync(accounts=["shop_eu"])
    assert [c.channel for c in report.channels] == ["shop_eu"] and env.mutations("shop_us") == []
    with pytest.raises(ConfigError, match="'shop_xx' not listed under stock.channels"):
        env.sync(accounts=["shop_xx"])
    env.hub = env.hub.model_copy(update={"stock": None})
    with pytest.raises(ConfigError, match="no stock: section"):
        env.sync()
