"""Every guard refuses, explains itself in ops.stock_push_log and sends nothing; ``force`` lifts only
the channel guardrails. On DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from channelhub.stock import ChannelStatus
from channelhub.stock.guards import LevelDiff, guardrail_problems
from channelhub.stock.policy import StockPolicy
from tests.stock.conftest import StockEnv, mart, raised


def refusals(env: StockEnv, channel: str) -> list[str]:
    rows = env.push_log(channel_id=channel, outcome="refused")
    assert all(row["sku"] == "*" and row["location_id"] is None for row in rows)
    return [row["detail"] for row in rows]


def assert_nothing_sent(env: StockEnv) -> None:
    assert all(env.mutations(shop) == [] for shop in env.sandboxes)
    assert env.push_log(outcome="success") == []


@pytest.mark.parametrize(("prepare", "reason"), [
    (lambda env: (env.load(), env.build(raised)), "no quality run recorded in ops.quality_runs"),
    (lambda env: (env.load(), env.build(raised), env.validate(success=False)), "failed with 3 critical failure(s)"),
    (lambda env: (env.load(), env.validate()), "no build recorded in ops.builds"),
    (lambda env: (env.load(), env.build(raised, failed=("fct_inventory",)), env.validate()),
     "failed: fct_inventory"),
    (lambda env: (env.load(), env.validate(at=datetime.now(UTC) - timedelta(hours=1)), env.build(raised)),
     "validated an earlier build, not the last build"),
    (lambda env: (env.load(), env.build(raised), env.validate(),
                  env.record_ingest(datetime.now(UTC), "failed", "shop_eu")),
     "account 'shop_eu': the last ingest run failed (HTTP 503 from the shop)"),
    (lambda env: (env.load(), env.build(raised), env.validate(),
                  env.record_ingest(datetime.now(UTC), "running", "shop_eu")),
     "account 'shop_eu': the last ingest run did not finish (interrupted); run `channelhub run shop_eu`"),
    (lambda env: (env.load(), env.build(raised), env.validate(), env.build(raised, finished=False)),
     "is still running"),
], ids=["quality-missing", "quality-failed", "build-missing", "build-failed", "quality-stale", "ingest-failed",
        "ingest-interrupted", "build-unfinished"])
@pytest.mark.reliability
def test_an_untrusted_warehouse_refuses_every_channel(make_env, prepare, reason: str) -> None:
    """An unfinished or failed ingest, build or quality run refuses every channel."""
    env: StockEnv = make_env()
    prepare(env)
    report = env.sync(force=True)  # force does not lift the readiness gate
    assert not report.ok
    assert all(c.status == ChannelStatus.REFUSED and any(reason in r for r in c.reasons) for c in report.channels)
    assert_nothing_sent(env)
    for shop in env.sandboxes:
        [detail] = refusals(env, shop)
        assert reason in detail


def test_an_account_never_loaded_blocks_the_push(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    env.config["accounts"]["shop_ca"] = dict(env.config["accounts"]["shop_us"])  # enabled, never ran
    env.reconfigure()
    report = env.sync()
    assert {r for c in report.channels for r in c.reasons} == {"account 'shop_ca' has never been loaded"}
    assert_nothing_sent(env)


def test_missing_mart_refuses(make_env) -> None:
    env: StockEnv = make_env()
    env.load()
    env.validate()
    report = env.sync()
    assert any("marts.rpt_stock_availability does not exist" in r for r in report.channel("shop_us").reasons)


@pytest.mark.reliability
def test_zeroing_too_many_levels_refuses_that_channel_only_unless_forced(make_env) -> None:
    """A stock feed zeroing too many levels is refused unless forced."""
    env: StockEnv = make_env(stock={"max_zeroed_share": 0.4})
    env.ready(lambda index, held: 0 if index % 3 == 0 else held + 1)  # 14 of each shop's 40 levels zeroed
    held_us = env.held("shop_us")
    zeroed = sum(1 for sku in env.world.skus if sku.index % 3 == 0 and held_us[sku.code] > 0)
    assert 8 < zeroed <= 14
    assert env.sync(dry_run=True).ok  # at most 35 % is within 40 %
    env.reconfigure(max_zeroed_share=0.2)
    report = env.sync(accounts=["shop_us"])
    channel = report.channel("shop_us")
    assert not report.ok and channel.status == ChannelStatus.REFUSED
    [reason] = channel.reasons
    assert reason.startswith(f"{zeroed} of 40 levels") and "more than max_zeroed_share 20%" in reason
    assert refusals(env, "shop_us") == [reason]
    assert env.held("shop_us") == held_us and env.mutations("shop_us") == []
    forced = env.sync(accounts=["shop_us"], force=True)
    assert forced.ok and forced.forced and env.held("shop_us") == env.allocated("shop_us")


def test_a_steep_fall_refuses_and_names_the_sku(make_env) -> None:
    env: StockEnv = make_env(stock={"max_drop_fraction": 0.5})
    env.ready(raised)
    env.sync()
    pushed = env.allocated("shop_eu")
    steep = next(sku for sku in env.world.skus if pushed[sku.code] >= 8)
    env.reallocate(lambda shop, index, current: current // 4 if shop == "shop_eu" and index == steep.index else current)
    report = env.sync()
    channel = report.channel("shop_eu")
    assert channel.status == ChannelStatus.REFUSED and report.channel("shop_us").status == ChannelStatus.SYNCED
    assert channel.reasons == [(f"1 level(s) would fall by more than max_drop_fraction 50% "
                               f"(e.g. {steep.code} {pushed[steep.code]}->{pushed[steep.code] // 4})")]
    assert env.held("shop_eu")[steep.code] == pushed[steep.code]
    assert refusals(env, "shop_eu") == channel.reasons


def test_guardrail_arithmetic() -> None:
    policy = StockPolicy(max_zeroed_share=0.25, max_drop_fraction=0.5)

    def diff(old: int | None, new: int, n: int = 0) -> LevelDiff:
        return LevelDiff(f"SKU-{n}", "1", str(n), old, new)

    assert guardrail_problems(policy, [diff(1, 0)], levels=4) == []          # a sell-out is not a "fall"
    assert guardrail_problems(policy, [diff(10, 5), diff(None, 0)], levels=4) == []  # exactly half; unknown old
    assert guardrail_problems(policy, [diff(1, 0, 1), diff(3, 0, 2)], levels=4) == [
        "2 of 4 levels (50%) would drop to 0, more than max_zeroed_share 25% (e.g. SKU-1 1->0, SKU-2 3->0)"]
    assert guardrail_problems(policy, [diff(10, 4, n) for n in range(7)], levels=100) == [
        ("7 level(s) would fall by more than max_drop_fraction 50% (e.g. SKU-0 10->4, SKU-1 10->4, SKU-2 10->4, "
        "SKU-3 10->4, SKU-4 10->4, ... 2 more)")]


@pytest.mark.reliability
@pytest.mark.parametrize(("feed", "reason"), [
    (lambda index, held: held * 10 + 10, "would rise more than 3-fold"),
    (lambda index, held: held * 2 + 2, "the channel's total would rise from"),
], ids=["x10", "duplicated"])
def test_a_stock_feed_that_raises_too_much_refuses_unless_forced(make_env, feed, reason: str) -> None:
    """A stock feed raising levels (x10, duplicated) is refused unless forced."""
    env: StockEnv = make_env(stock={"max_raised_share": 0.2, "max_raise_factor": 3, "max_total_raise_fraction": 0.5})
    env.ready(feed)
    held = env.held("shop_us")
    report = env.sync()
    channel = report.channel("shop_us")
    assert channel.status == ChannelStatus.REFUSED and any(reason in r for r in channel.reasons), channel.reasons
    assert refusals(env, "shop_us") == ["; ".join(channel.reasons)]
    assert env.held("shop_us") == held and env.mutations("shop_us") == []
    assert env.sync(force=True).ok and env.held("shop_us") == env.allocated("shop_us")


def test_raise_guardrail_arithmetic() -> None:
    policy = StockPolicy(max_raise_factor=3, max_raised_share=0.25, max_total_raise_fraction=0.5)

    def diff(old: int | None, new: int, n: int = 0) -> LevelDiff:
        return LevelDiff(f"SKU-{n}", "1", str(n), old, new)

    assert guardrail_problems(policy, [diff(0, 50), diff(None, 9)], levels=4, held=100, allocated=150) == []
    assert guardrail_problems(policy, [diff(2, 7, 1), diff(2, 8, 2)], levels=4, held=100, allocated=111) == [
        "2 of 4 levels (50%) would rise more than 3-fold, more than max_raised_share 25% (e.g. SKU-1 2->7, SKU-2 2->8)"]
    assert guardrail_problems(policy, [diff(10, 20)], levels=4, held=100, allocated=151) == [
        ("the channel's total would rise from 100 to 151 units (+51%), more than max_total_raise_fraction 50%: a "
         "duplicated or mis-scaled stock feed?")]


def test_a_level_two_products_claim_is_refused_even_when_forced(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    sandbox = env.sandboxes["shop_us"]
    item = sandbox.inventory_item_id(env.world.skus[0])
    with env.warehouse.engine.begin() as conn:
        conn.execute(mart.insert(), [
            {"product_id": "CH-OTHER", "channel_id": "shop_us", "location_id": str(env.location["shop_us"]),
             "inventory_item_id": str(item), "allocated_quantity": 1},
            {"product_id": "CH-UNLISTED", "channel_id": "shop_us", "location_id": None, "inventory_item_id": None,
             "allocated_quantity": 1}])
    report = env.sync(force=True)
    channel = report.channel("shop_us")
    assert channel.status == ChannelStatus.REFUSED and channel.unpushable == 1 and channel.levels == 41
    assert channel.reasons == [(f"1 level(s) claimed by several products in marts.rpt_stock_availability (e.g. item "
                               f"{item} at {env.location['shop_us']}: {env.world.skus[0].code}, CH-OTHER)")]
    assert env.mutations("shop_us") == [] and report.channel("shop_eu").status == ChannelStatus.SYNCED


def test_an_override_of_an_unknown_sku_refuses_and_one_without_stock_warns(make_env) -> None:
    env: StockEnv = make_env()
    env.ready(raised)
    known, unstocked = env.world.skus[0].code, "CH-NEW-1"
    with env.warehouse.engine.begin() as conn:
        conn.execute(sa.text("create table marts.dim_products (product_id varchar)"))
        conn.execute(sa.text("create table marts.fct_inventory (product_id varchar, quantity_on_hand integer)"))
        conn.execute(sa.text("insert into marts.dim_products values (:a), (:b)"), {"a": known, "b": unstocked})
        conn.execute(sa.text("insert into marts.fct_inventory values (:a, 5)"), {"a": known})
    overrides = [{"sku": known, "cap": 3}, {"sku": unstocked, "cap": 2}]
    env.reconfigure(overrides=overrides)
    report = env.sync(dry_run=True)
    assert report.ok and report.warnings == [
        ("stock.overrides[1].sku: 'CH-NEW-1' has no stock yet (not in marts.fct_inventory); the override applies "
         "once it has")]
    env.reconfigure(overrides=[*overrides, {"sku": "CH-0000-SS", "account": "shop_eu", "floor": 1}])
    report = env.sync()
    assert not report.ok and all(channel.status == ChannelStatus.REFUSED for channel in report.channels)
    assert ("stock.overrides[2].sku: 'CH-0000-SS' is a SKU no source knows (not in marts.dim_products): a typo?"
            in report.channel("shop_us").reasons)
    assert_nothing_sent(env)


def test_a_dry_run_shows_the_oversell_exposure_and_the_levels_zeroed_for_a_reason(make_env) -> None:
    """Channels offered more than 100 % between them (allow_overallocation) and levels the mart set to
    0 (a code no ERP knows, a location without a warehouse) are warned about before any push."""
    env: StockEnv = make_env()
    env.ready(raised)
    first, second = env.world.skus[0].code, env.world.skus[1].code
    with env.warehouse.engine.begin() as conn:
        offered = conn.execute(sa.text("select sum(allocated_quantity) from marts.rpt_stock_availability "
                                       "where product_id = :sku"), {"sku": first}).scalar_one()
        conn.execute(sa.text("update marts.rpt_stock_availability set available_to_promise = :atp "
                             "where product_id = :sku"), {"atp": offered - 3, "sku": first})
        conn.execute(sa.text("update marts.rpt_stock_availability set product_id = null, allocated_quantity = 0, "
                             "allocation_note = 'unknown to the ERP' where product_id = :sku and channel_id = 'shop_us'"),
                     {"sku": second})
    report = env.sync(dry_run=True)
    assert report.warnings == [
        ("allow_overallocation: the channels together offer 3 unit(s) of 1 SKU(s) beyond what is available to "
        "promise: each may be sold twice (oversell exposure)"),
        f"shop_us: 1 level(s) set to 0, unknown to the ERP (e.g. {second} at location {env.location['shop_us']})"]
    assert env.mutations("shop_us") == []
    env.reconfigure(channels={"shop_us": {"unmapped_locations": "leave"}, "shop_eu": {}})
    assert env.sync(dry_run=True).warnings[-1] == (
        "stock.channels.shop_us.unmapped_locations is leave: locations without a warehouse keep selling what they "
        "hold, which no ERP stock backs")
