"""The Kuaidi100 connector against the Kuaidi100 sandbox: the signature, the shared contract on a tracker
(the waybills the hub knows, channelhub.testing.TrackerEnv), then what is a tracker's own (the day's
quota across runs, only unfinished parcels asked again, answers Kuaidi100 has no scan for, refusals)
and the tracking events its models give the marts. Kuaidi100 has no public client usable as the
outside check (clients.md): the sandbox verifies the signature itself, from the documented rule."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

import transforms
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, TrackerEnv
from channelhub.tracking import pending_waybills
from connectors.kuaidi100.client import query_param, sign
from connectors.kuaidi100.connector import to_records
from connectors.sdk.tracking import FINISHED, Waybill
from sandbox.kuaidi100 import Kuaidi100Sandbox
from sandbox.woocommerce import WooCommerceSandbox
from sandbox.world import ShopSpec, World, WorldSpec
from warehouse import Warehouse

ACCOUNT = "kuaidi100_test"
CUSTOMER, KEY = "8A1B2C3D4E5F60718293A4B5C6D7E8F9", "kEyTeSt1234"
SECRETS = {"customer": "CHANNELHUB_TEST_KUAIDI100_CUSTOMER", "key": "CHANNELHUB_TEST_KUAIDI100_KEY"}
# the hub's statuses of the World's events, as Kuaidi100's states give them back (the label is no scan)
EVENT_STATUS = {"in_transit": "in_transit", "out_for_delivery": "out_for_delivery", "delivered": "delivered",
                "failure": "failure", "return_to_sender": "return_to_sender"}


class Kuaidi100Env(TrackerEnv):
    primary_stream = "waybills"
    fault_path = "/poll/query.do"
    connector = "kuaidi100"
    carriers = ("SF", "ZTO", "YTO", "YUNDA", "UPS", "DHLExpress", "USPS", "FedEx")  # every carrier it maps
    environment: ClassVar[dict[str, str]] = {SECRETS["customer"]: CUSTOMER, SECRETS["key"]: KEY}

    def __init__(self, tmp_path: Path, records: int, page_size: int, sandbox_quota: int | None = None,
                 **settings: Any) -> None:
        self.make_world(records)
        self.sandbox = Kuaidi100Sandbox(self.world, CUSTOMER, KEY, rate_limit=None, daily_quota=sandbox_quota)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "timeout_seconds": 10,
                                  **self.tracker_settings(), **settings}, SECRETS)


class Kuaidi100Events:
    """The tracking events the models give, checked on each warehouse's build of the class's load."""

    def check_marts(self, env: Kuaidi100Env) -> None:
        """Every carrier scan of every waybill is one event (no shipment id, provider kuaidi100, the hub's
        carrier code), oldest first, in UTC, with the hub's status: the last one's is the parcel's."""
        rows = env.rows("select carrier, tracking_code, event_index, occurred_at, status, status_detail, message "
                        f"from intermediate.int_kuaidi100__tracking_events where channel_id = '{env.account}' "
                        "and shipment_id is null and provider = 'kuaidi100' order by tracking_code, event_index")
        got: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for carrier, code, index, at, status, detail, message in rows:
            got.setdefault((carrier, code), []).append((index, at, status))
            assert detail.isdigit() and message.startswith("【"), (detail, message)
        expected = {}
        for shipment in env.known:
            scans = [event for event in shipment.events_until(env.world.now) if event.status != "pre_transit"]
            if scans:
                expected[(shipment.carrier, shipment.tracking_code)] = [
                    (index, event.at, EVENT_STATUS[event.status]) for index, event in enumerate(scans)]
        assert got == expected
        last = Counter(events[-1][2] for events in got.values())
        assert {"delivered", "in_transit", "failure", "return_to_sender"} <= set(last), last


class TestKuaidi100Contract(Kuaidi100Events, ConnectorContract):
    """A tracker's records are queries, one request each: fewer of them than a list's pages hold."""

    env_class = Kuaidi100Env
    records = 120
    scenarios_in_quick_suite = True  # make test's failure scenarios of a tracker
    shared_records = 100


class TestKuaidi100OnPostgres(Kuaidi100Events, PostgresParity):
    env_class = Kuaidi100Env


# -- Kuaidi100 specifics ------------------------------------------------------------------------------------

def test_the_signature_is_kuaidi100s_rule_on_the_documented_example() -> None:
    """sign = UPPER(MD5(param + key + customer)) over the exact param text: the documents' example param
    (commerce_apis.md 9c; no published key, customer and signature were found, so the expected value is
    computed outside Python: printf '%s%s%s' param key customer | openssl md5)."""
    param = ('{"com":"yuantong","num":"12345678","phone":"13888888888","from":"广东深圳","to":"北京朝阳",'
             '"resultv2":"1","show":"0","order":"desc"}')
    assert sign(param, KEY, CUSTOMER) == "04841C6B9FEB7723ED9E6ED2C2FB5DE3"
    assert query_param("shunfeng", "SF1234567890123", "+86 138 0001 2345") == \
        '{"com":"shunfeng","num":"SF1234567890123","phone":"2345","resultv2":"1","show":"0","order":"asc"}'


def test_a_scan_is_known_by_its_time_and_context() -> None:
    """Kuaidi100 gives a scan no code: its time and context tell it from the waybill's others, so two
    scans of one second differ, and the same scan answered again (its area parsed anew) is the same."""
    waybill = Waybill("ZTO", "78000000000001", datetime(2026, 11, 19, tzinfo=UTC))
    scan = {"time": "2026-11-20 14:03:11", "context": "【杭州市】快件已到达", "status": "在途", "statusCode": "0"}
    answer = {"message": "ok", "nu": waybill.tracking_code, "state": "0", "ischeck": "0", "com": "zhongtong",
              "data": [scan, {**scan, "context": "【杭州市】快件已发出"}, {**scan, "areaName": "浙江,杭州市"}]}
    row, scans = to_records("acct", {"ZTO": "zhongtong"}, {"waybill": waybill, "answer": answer})
    assert (row["found"], row["state"]) == (True, "0") and "scans" not in row
    assert [(scan["scan_index"], scan["occurred_at"]) for scan in scans] == [
        (index, datetime(2026, 11, 20, 6, 3, 11, tzinfo=UTC)) for index in range(3)]
    ids = [scan["scan_id"] for scan in scans]
    assert ids[0] == ids[2] != ids[1]
    assert {(scan["carrier"], scan["tracking_code"]) for scan in scans} == {("ZTO", waybill.tracking_code)}


@pytest.fixture
def make_tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A small env of the test's own, the hub's marts seeded."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in Kuaidi100Env.environment.items():
        monkeypatch.setenv(name, value)
    made: list[Kuaidi100Env] = []

    def make(records: int = 30, **options: Any) -> Kuaidi100Env:
        env = Kuaidi100Env(tmp_path / str(len(made)), records, 100, **options)
        env.seed_warehouse()
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


def asked(env: Kuaidi100Env) -> list[str]:
    return [param["num"] for param in env.sandbox.log]


def test_the_days_quota_holds_across_runs_and_only_unfinished_parcels_are_asked_again(make_tracker) -> None:
    """A quota of 12 a day: the first run asks 12 of the 20 waybills, a second run that day none (the
    count is in ops.tracker_queries). The package topped up and the hub having built on the answers, a
    run asks about the parcels not delivered, returned or cancelled, never about one already finished."""
    env = make_tracker(20, daily_quota=12)
    first = run_account(env.config, ACCOUNT)
    assert first.rows["waybills"] == len(asked(env)) == 12
    second = run_account(env.config, ACCOUNT)
    assert len(asked(env)) == 12 and not second.rows.get("waybills")
    assert env.one(f"select count(*) from raw_{ACCOUNT}.waybills") == (12,)
    env.config.accounts[ACCOUNT].settings["daily_quota"] = 100
    run_account(env.config, ACCOUNT)
    env.sandbox.log.clear()
    finished = {shipment.tracking_code for shipment in env.known if shipment.status(env.world.now) in FINISHED}
    env.change(0)
    run_account(env.config, ACCOUNT)
    assert set(asked(env)) == {shipment.tracking_code for shipment in env.known} - finished
    assert finished and len(asked(env)) == len(set(asked(env)))


def test_a_failed_runs_queries_count_and_a_refresh_beyond_the_quota_is_refused(make_tracker) -> None:
    """The day's count lives outside the load (ops.tracker_queries). The platform's package running out
    at its 6th query fails the run, yet the 6 queries count: the day's next run asks the 6 the quota of 12
    has left. A full refresh, which would ask about all 20 waybills again, is then refused before
    anything is dropped."""
    env = make_tracker(20, daily_quota=12)
    env.sandbox.daily_quota = 5  # the package bought at Kuaidi100 answers 5 and refuses the 6th
    with pytest.raises(RunFailed, match="package is used up"):
        run_account(env.config, ACCOUNT)
    env.sandbox.daily_quota = None
    run_account(env.config, ACCOUNT)
    assert len(asked(env)) == 5 + 6
    assert env.one(f"select count(*) from raw_{ACCOUNT}.waybills") == (6,)
    assert env.one(f"select queries from ops.tracker_queries where account = '{ACCOUNT}'") == (12,)
    with pytest.raises(RunFailed, match="a full refresh asks about 20 waybills again, and 0 of today's 12"):
        run_account(env.config, ACCOUNT, full_refresh=True)
    assert len(asked(env)) == 11 and env.one(f"select count(*) from raw_{ACCOUNT}.waybills") == (6,)


def test_answers_without_scans_and_refusals(make_tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parcel not picked up yet is Kuaidi100's 查询无结果: a row with found false, no failure. An SF
    waybill without the receiver's phone is not asked and is quarantined naming it. A wrong key, a
    customer not authorised and a package used up fail the run naming the account and the waybill."""
    env = make_tracker(40)
    waiting = env.ship(2)  # shipped now: only the label, no carrier scan yet
    sf = next(shipment for shipment in env.known if shipment.carrier == "SF")
    with Warehouse(env.config.warehouse_url).engine.begin() as conn:  # the hub does not know the buyer's phone
        conn.execute(sa.text("update marts.dim_customers set phone = null where customer_id = :customer"),
                     {"customer": str(sf.order.customer.id)})
    report = run_account(env.config, ACCOUNT)
    unasked = {(f"SF {shipment.tracking_code}", "phone") for shipment in env.known
               if shipment.carrier == "SF" and shipment.order.customer == sf.order.customer}
    assert report.quarantined == {"waybills": len(unasked)}
    assert set(env.rows(f"select record_key, field from ops.quarantine where run_id = '{report.run_id}'")) == unasked
    assert sf.tracking_code not in asked(env)
    codes = ", ".join(f"'{shipment.tracking_code}'" for shipment in waiting)
    assert env.rows(f"select found, return_code from raw_{ACCOUNT}.waybills where tracking_code in ({codes})") == \
        [(False, "500")] * 2
    connector = env.config.account(ACCOUNT).connector
    assert connector.check(env.config.account(ACCOUNT)).ok
    for variable, value, said in ((SECRETS["key"], "wrong_key", "refused the signature"),
                                  (SECRETS["customer"], "UNKNOWN0CUSTOMER", "customer code is not authorised")):
        monkeypatch.setenv(variable, value)
        with pytest.raises(RunFailed) as failure:
            run_account(env.config, ACCOUNT)
        message = str(failure.value)
        assert ACCOUNT in message and said in message and "waybill " in message and value not in message, message
        checked = connector.check(env.config.account(ACCOUNT))
        assert not checked.ok and said in checked.detail, checked
        monkeypatch.setenv(variable, Kuaidi100Env.environment[variable])
    env.sandbox.daily_quota = len(env.sandbox.log)
    with pytest.raises(RunFailed, match="package is used up"):
        run_account(env.config, ACCOUNT)


def test_an_answer_without_scans_keeps_the_scans_loaded(make_tracker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kuaidi100 answering 查询无结果 about a parcel it had scans of leaves those loaded as they were (the
    waybill's row says found false), and the same answer again loads no scan twice."""
    env = make_tracker(20)
    run_account(env.config, ACCOUNT)
    scans = ("select carrier, tracking_code, scan_id, occurred_at, context, status_code, scan_index "
             f"from raw_{ACCOUNT}.scans order by tracking_code, scan_index")
    loaded = env.rows(scans)
    shown = Kuaidi100Sandbox.scans
    assert len(loaded) == sum(len(shown(env.sandbox, shipment)) for shipment in env.known) > 0
    forgotten = {shipment.tracking_code for shipment in env.known[::2] if shown(env.sandbox, shipment)}
    monkeypatch.setattr(Kuaidi100Sandbox, "scans",
                        lambda self, parcel: [] if parcel.tracking_code in forgotten else shown(self, parcel))
    report = run_account(env.config, ACCOUNT)  # asked again (the hub has not built on the answers)
    assert report.rows["waybills"] == len(env.known) and forgotten
    assert env.rows(scans) == loaded
    assert {code for code, found in env.rows(f"select tracking_code, found from raw_{ACCOUNT}.waybills")
            if not found} == forgotten | {shipment.tracking_code for shipment in env.known
                                          if not shown(env.sandbox, shipment)}


SHOP = ShopSpec("store_cn", "CNY", "Asia/Shanghai", checkout=("alipay", "wechatpay"), shipper="shop")
WOO = {"consumer_key": ("TEST_WOO_KEY", "ck_0123456789abcdef0123456789abcdef"),
       "consumer_secret": ("TEST_WOO_SECRET", "cs_fedcba9876543210fedcba9876543210")}


@contextmanager
def cny_store_tracked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      world: World) -> Iterator[tuple[HubConfig, WooCommerceSandbox, Kuaidi100Sandbox]]:
    """A CNY store recording its couriers' waybills (WooCommerce) and a Kuaidi100 account following them;
    the store loaded and the hub built, so the tracker has waybills to ask."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for variable, value in [*WOO.values(), *((SECRETS[name], value) for name, value in
                                             (("customer", CUSTOMER), ("key", KEY)))]:
        monkeypatch.setenv(variable, value)
    with WooCommerceSandbox(world, SHOP.name, WOO["consumer_key"][1], WOO["consumer_secret"][1]) as shop, \
            Kuaidi100Sandbox(world, CUSTOMER, KEY, rate_limit=None) as tracker:
        config = HubConfig.model_validate({"warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"}, "accounts": {
            SHOP.name: {"connector": "woocommerce", "secrets": {name: {"env": env} for name, (env, _) in WOO.items()},
                        "settings": {"base_url": shop.base_url, "start_date": "2025-01-01T00:00:00Z"}},
            ACCOUNT: {"connector": "kuaidi100", "secrets": {name: {"env": env} for name, env in SECRETS.items()},
                      "settings": {"base_url": tracker.base_url, "carriers": ["SF", "ZTO", "YTO", "YUNDA"],
                                   "max_wait_seconds": 0.1}}}})
        run_account(config, SHOP.name)
        transforms.build(config, select=["+fct_shipments", "+dim_customers"])
        yield config, shop, tracker


def cny_world() -> World:
    world = World(WorldSpec(orders=150, skus=24, customers=60, shops=(SHOP,), days=20))
    world.shift(datetime.now(UTC) - world.now)  # shipped within the tracker's 30 days
    return world


@pytest.mark.e2e
def test_the_marts_take_status_delivery_and_scans_from_the_tracker(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A CNY store records its couriers' waybills (WooCommerce); after a build the tracker is handed them
    (SF with the buyer's phone from dim_customers), and after the next build fct_shipments takes each
    parcel's status, delivery time and scan count from Kuaidi100's answers (tracked_by kuaidi100, asked,
    scans or not), and fct_tracking_events holds every scan, matched to its shipment. Once Kuaidi100
    answers 查询无结果 about every parcel, the marts keep them all."""
    world = cny_world()
    shipments = ("select tracking_code, status, delivered_at, tracked_by, event_count from marts.fct_shipments "
                 f"where channel_id = '{SHOP.name}'")
    events = ("select event_id, shipment_id, occurred_at, status, message from marts.fct_tracking_events "
              "where provider = 'kuaidi100' order by event_id")
    with cny_store_tracked(tmp_path, monkeypatch, world) as (config, shop, _):
        report = run_account(config, ACCOUNT)
        transforms.build(config, select=["+fct_shipments", "+fct_tracking_events"])
        recorded = shop.recorded_waybills().values()
        assert report.rows["waybills"] == len(recorded) > 0 and not report.quarantined
        env = Kuaidi100Env.__new__(Kuaidi100Env)  # its rows() on this config's warehouse
        env.config = config
        got = {row[0]: row[1:] for row in env.rows(shipments)}
        scans = env.rows(events)
        monkeypatch.setattr(Kuaidi100Sandbox, "scans", lambda self, parcel: [])
        forgotten = run_account(config, ACCOUNT)
        transforms.build(config, select=["+fct_shipments", "+fct_tracking_events"])
        assert {row[0]: row[1:] for row in env.rows(shipments)} == got and env.rows(events) == scans
    expected = {}
    for shipment in recorded:
        scanned = [event for event in shipment.events_until(world.now) if event.status != "pre_transit"]
        delivered = next((event.at for event in scanned if event.status == "delivered"), None)
        expected[shipment.tracking_code] = (scanned[-1].status, delivered, "kuaidi100", len(scanned)) if scanned \
            else got.get(shipment.tracking_code, ())[:1] + (None, "kuaidi100", 0)
    assert got == expected
    assert Counter(status for status, *_ in got.values())["delivered"] > 0
    assert len(scans) == sum(row[3] for row in got.values()) and all(scan[1] for scan in scans)
    asked_again = [count for status, _, _, count in got.values() if status not in FINISHED]
    assert forgotten.rows["waybills"] == len(asked_again) and any(asked_again)


@pytest.mark.e2e
def test_waybills_never_scanned_do_not_starve_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More parcels not picked up yet (查询无结果) than a day's quota: once the hub has built on the
    answer, the next run asks about the parcels never asked, then about the least recently asked, not
    about the same unscanned parcels again."""
    with cny_store_tracked(tmp_path, monkeypatch, cny_world()) as (config, _, tracker):
        pending = [waybill.tracking_code for waybill in pending_waybills(Warehouse(config.warehouse_url),
                                                                         config.account(ACCOUNT))]
        never_scanned = set(pending[:20])
        shown = Kuaidi100Sandbox.scans
        monkeypatch.setattr(Kuaidi100Sandbox, "scans",
                            lambda self, parcel: [] if parcel.tracking_code in never_scanned else shown(self, parcel))
        asked_by_run = []
        for quota in (10, len(pending), len(pending) + 10):  # each run's quota tops up the day's
            config.accounts[ACCOUNT].settings["daily_quota"] = quota
            tracker.log.clear()
            run_account(config, ACCOUNT)
            transforms.build(config, select=["+fct_shipments"])
            asked_by_run.append([param["num"] for param in tracker.log])
    first, second, third = asked_by_run
    assert first == pending[:10]  # none asked yet: oldest first
    assert second == pending[10:]  # the never asked, though the first ten are still unscanned
    assert third == pending[:10]  # the least recently asked
