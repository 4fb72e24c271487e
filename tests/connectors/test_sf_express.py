"""The SF Express tracker against the SF Express sandbox: the msgDigest against SF's published sample,
the shared contract (the waybills the hub knows written into the env's warehouse), then what is SF's
own (batches of 10 within the daily quota, only unfinished parcels asked again, the gateway's errors,
a bad route set aside) and its scans through the models."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import yaml

import transforms
from channelhub.fleet import world_for
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, TrackerEnv
from connectors.sdk import SourceDataError
from connectors.sdk.tracking import FINISHED, Waybill
from connectors.sf_express.client import (
    SEARCH_ROUTES,
    SfBusinessError,
    SfClient,
    SfGatewayError,
    java_url_encode,
    msg_digest,
)
from connectors.sf_express.connector import to_records
from sandbox.sf_express import SfExpressSandbox, expected_digest, url_encoded
from tests.pipeline import SHIPPED, isolate_env, loaded_merchant, query, small_config

ACCOUNT = "track_sf_test"
PARTNER_ID, CHECK_WORD = "SFPARTNER0001", "sandboxCheckWord0123456789abcdef"
SECRETS = {"partner_id": "CHANNELHUB_TEST_SF_PARTNER_ID", "check_word": "CHANNELHUB_TEST_SF_CHECK_WORD"}
# the hub's statuses of SF's opCodes, as int_sf_express__tracking_events maps them (README)
STATUS_OF = {"50": "in_transit", "31": "in_transit", "44": "out_for_delivery", "80": "delivered", "70": "failure",
             "99": "return_to_sender"}


class SfExpressEnv(TrackerEnv):
    primary_stream = "waybills"
    fault_path = "/std/service"
    connector = "sf_express"
    carriers: ClassVar[tuple[str, ...]] = ("SF",)
    environment: ClassVar[dict[str, str]] = {SECRETS["partner_id"]: PARTNER_ID, SECRETS["check_word"]: CHECK_WORD}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = self.make_world(records)
        self.sandbox = SfExpressSandbox(self.world, PARTNER_ID, CHECK_WORD, calls_per_second=None)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": f"{self.sandbox.serve()}/std/service", "timeout_seconds": 10,
                                  "page_size": min(page_size, 10), **self.tracker_settings(), **settings}, SECRETS)

    def asked(self) -> list[str]:
        """Every waybill asked so far, in order."""
        return [number for batch in self.sandbox.asked() for number in batch]


class SfExpressMarts:
    """Checks on the conformed model's rows, on each warehouse's contract class. (The marts it feeds need a
    conformed ``shipments`` model naming SF waybills, which no connector ships yet: the env's
    ``marts.fct_shipments`` is the runner's input, not a dbt build.)"""

    def check_marts(self, env: SfExpressEnv) -> None:
        """Every route SF showed is one tracking event of its waybill, oldest first, at its UTC time, its
        opCode mapped onto the hub's statuses, with no shipment id (the marts find the parcel by waybill)."""
        loaded = dict(env.rows(f"select tracking_code, route_count from raw_{env.account}.waybills"))
        expected = {}
        for code in loaded:
            shipment = env.sandbox.waybills()[code]
            for index, route in enumerate(env.sandbox.routes_of(shipment)):
                at = datetime.strptime(route["acceptTime"], "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
                expected[f"{env.account}:SF:{code}:{index}"] = (code, index, at, STATUS_OF[route["opCode"]],
                                                               route["opCode"], route["remark"], route["acceptAddress"])
        rows = {row[0]: tuple(row[1:]) for row in env.rows(
            "select event_id, tracking_code, event_index, occurred_at, status, status_detail, message, city "
            f"from intermediate.int_sf_express__tracking_events where channel_id = '{env.account}'")}
        assert rows == expected
        assert {"delivered", "in_transit", "out_for_delivery"} <= {row[3] for row in rows.values()}
        assert env.rows("select distinct provider, carrier, shipment_id from intermediate.int_sf_express__tracking_events "
                        f"where channel_id = '{env.account}'") == [("sf_express", "SF", None)]


class TestSfExpressContract(SfExpressMarts, ConnectorContract):
    """A tracker's records are the waybills asked, ten a call: 120 are twelve calls, and the 200 shipped
    together twenty more (the World makes an SF parcel of about one order in twelve: fewer keep it quick)."""

    env_class = SfExpressEnv
    records = 120
    shared_records = 200


class TestSfExpressOnPostgres(SfExpressMarts, PostgresParity):
    env_class = SfExpressEnv


# -- the signature --------------------------------------------------------------------------------------

def test_the_msg_digest_is_sfs_published_sample() -> None:
    """open.sf-express.com's 数字签名 page: URLEncoder.encode(msgData + timestamp + checkWord), MD5, Base64."""
    sample = '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'
    assert msg_digest(sample, "12312334453453", "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci") == "IIKJtuLVzoFTu4kHI8M8vA=="


@pytest.mark.parametrize("text", ["中 *~+", "a&b=c/d?e", '{"remark":"到达 【深圳市】 100%"}', "-._*"])
def test_url_encoding_is_javas_on_both_sides(text: str) -> None:
    """Java's URLEncoder: space "+", "~" encoded, "*" kept; the sandbox's own byte-wise encoder agrees."""
    assert java_url_encode(text) == url_encoded(text)
    assert java_url_encode("中 *~+") == "%E4%B8%AD+*%7E%2B"
    assert msg_digest(text, "1", "w") == expected_digest(text, "1", "w")


# -- SF's answers -------------------------------------------------------------------------------------------

@pytest.fixture
def env(make_env: Any) -> SfExpressEnv:
    return make_env(SfExpressEnv, 30, 10)


def test_the_gateway_and_the_service_refuse_as_sf_documents(env: SfExpressEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong check word is A1006 and fails at once, naming the account and never the check word;
    another partner id A1004; ``bad_digest`` refuses a rightly signed call; the service answers 8013 for no
    waybill (the check's call) and 8003 for more than 10."""
    account = env.config.account(ACCOUNT)
    client = SfClient(account.settings, ACCOUNT)
    with pytest.raises(SfBusinessError) as none_asked:
        client.call(SEARCH_ROUTES, {"trackingType": "1", "trackingNumber": []}, "waybills")
    assert none_asked.value.code == "8013" and account.connector.check(account).ok
    with pytest.raises(SfBusinessError, match="8003"):
        client.call(SEARCH_ROUTES, {"trackingType": "1", "trackingNumber": [f"SF{n:013d}" for n in range(11)]},
                    "waybills")
    env.sandbox.bad_digest = 1
    with pytest.raises(SfGatewayError, match="A1006"):
        client.call(SEARCH_ROUTES, {"trackingNumber": ["SF0000000000001"]}, "waybills")
    monkeypatch.setenv(SECRETS["check_word"], "wrongCheckWord")
    env.seed_warehouse()
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "A1006" in str(failure.value) and ACCOUNT in str(failure.value) and "wrongCheckWord" not in str(failure.value)
    result = account.connector.check(env.config.account(ACCOUNT))
    assert not result.ok and result.facts["code"] == "A1006"
    monkeypatch.setenv(SECRETS["check_word"], CHECK_WORD)
    monkeypatch.setenv(SECRETS["partner_id"], "SFOTHERPARTNER")
    assert env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT)).facts["code"] == "A1004"


def test_batches_of_ten_within_the_daily_quota(make_env: Any) -> None:
    """Each waybill counts against the day's quota as it is asked, ten a call; a second run the same day
    asks only what the quota still allows, least recently tracked first."""
    env = make_env(SfExpressEnv, 30, 10, daily_quota=25)
    env.seed_warehouse()
    report = run_account(env.config, ACCOUNT)
    assert [len(batch) for batch in env.sandbox.asked()] == [10, 10, 5] and report.rows["waybills"] == 25
    assert env.asked() == [shipment.tracking_code for shipment in env.known[:25]]  # none tracked yet: oldest first
    run_account(env.config, ACCOUNT)
    assert len(env.asked()) == 25  # the day's quota is spent


def test_only_unfinished_parcels_are_asked_again(env: SfExpressEnv) -> None:
    """Once the hub built its marts on the answers, delivered and returned parcels are asked no more; the
    failed, the stuck and those not collected yet are, with the new ones."""
    env.seed_warehouse()
    run_account(env.config, ACCOUNT)
    assert sorted(env.asked()) == sorted(shipment.tracking_code for shipment in env.known)
    before = len(env.sandbox.log)
    unfinished = env.change(0.1)
    run_account(env.config, ACCOUNT)
    again = {number for batch in env.sandbox.asked()[before:] for number in batch}
    assert again == {shipment.tracking_code for shipment in env.known
                     if env.answers.get(shipment.tracking_code, ("",))[0] not in FINISHED}
    assert len(again) == unfinished and any(status in FINISHED for status, _ in env.answers.values())
    not_collected = [code for code, count in env.rows(f"select tracking_code, route_count from raw_{ACCOUNT}.waybills")
                     if count == 0]
    assert not_collected  # the new parcels: asked, no route yet (SF's routes begin at the courier's collection)


def test_a_route_that_cannot_be_read_sets_its_waybill_aside(env: SfExpressEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = next(shipment for shipment in env.known if env.sandbox.routes_of(shipment)).tracking_code
    render = SfExpressSandbox.routes_of

    def corrupt(self: SfExpressSandbox, shipment: Any) -> list[dict[str, str]]:
        routes = render(self, shipment)
        if shipment.tracking_code == bad:
            routes[0] = {**routes[0], "acceptTime": "2026/10/02 11:30"}
        return routes

    monkeypatch.setattr(SfExpressSandbox, "routes_of", corrupt)
    env.seed_warehouse()
    report = run_account(env.config, ACCOUNT)
    assert report.quarantined == {"waybills": 1} and report.rows["waybills"] == len(env.known) - 1
    [(record, field, reason)] = env.rows(
        f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (bad, "routes.acceptTime") and "2026/10/02 11:30" in reason


def test_an_answer_without_routes_keeps_the_routes_loaded(make_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """SF forgets routes after about three months while a stuck parcel is still asked about: an answer
    without routes leaves those loaded as they were (the waybill's row says the answer held none), and
    the same answer again loads no route twice."""
    env = make_env(SfExpressEnv, 20, 10)
    env.seed_warehouse()
    run_account(env.config, ACCOUNT)
    routes = ("select carrier, tracking_code, scan_id, accept_time, op_code, accept_address, remark, route_index "
              f"from raw_{ACCOUNT}.routes order by tracking_code, route_index")
    loaded = env.rows(routes)
    assert len(loaded) == sum(len(env.sandbox.routes_of(shipment)) for shipment in env.known) > 0
    forgotten = {shipment.tracking_code for shipment in env.known[::2] if env.sandbox.routes_of(shipment)}
    shown = SfExpressSandbox.routes_of
    monkeypatch.setattr(SfExpressSandbox, "routes_of",
                        lambda self, shipment: [] if shipment.tracking_code in forgotten else shown(self, shipment))
    report = run_account(env.config, ACCOUNT)  # asked again (the hub has not built on the answers)
    assert report.rows["waybills"] == len(env.known) and forgotten
    assert env.rows(routes) == loaded
    assert {code for code, count in env.rows(f"select tracking_code, route_count from raw_{ACCOUNT}.waybills")
            if count == 0} == forgotten | {shipment.tracking_code for shipment in env.known if not shown(env.sandbox, shipment)}


# -- records ------------------------------------------------------------------------------------------------

ASKED = {"SF1234567890123": Waybill("SF", "SF1234567890123", datetime(2026, 10, 1, tzinfo=UTC))}


def test_accept_time_is_beijing_time_made_utc_and_a_route_is_known_by_time_code_and_place() -> None:
    """A route's id is its acceptTime, opCode and acceptAddress: the same route re-worded is the same
    scan; another time or place is another."""
    signed = {"acceptTime": "2026-10-02 11:30:00", "acceptAddress": "北京市", "remark": "已签收", "opCode": "80"}
    row, routes = to_records("acct", ASKED, {"mailNo": "SF1234567890123", "routes": [
        signed, {**signed, "remark": "已签收，感谢使用顺丰"}, {**signed, "acceptAddress": "天津市"},
        {**signed, "acceptTime": "2026-10-02 11:30:01"}]})
    assert routes[0] == {"acceptTime": datetime(2026, 10, 2, 3, 30, tzinfo=UTC), "acceptAddress": "北京市",
                         "remark": "已签收", "opCode": "80", "carrier": "SF", "tracking_code": "SF1234567890123",
                         "route_index": 0, "scan_id": routes[0]["scan_id"]}
    ids = [route["scan_id"] for route in routes]
    assert ids[0] == ids[1] and len(set(ids)) == 3 and [route["route_index"] for route in routes] == [0, 1, 2, 3]
    assert row == {"carrier": "SF", "tracking_code": "SF1234567890123", "route_count": 4}


@pytest.mark.parametrize(("answer", "field"), [
    ({"mailNo": "SF9999999999999", "routes": []}, "mailNo"), ({"routes": []}, "mailNo"),
    ({"mailNo": "SF1234567890123", "routes": "none"}, "routes"),
    ({"mailNo": "SF1234567890123", "routes": [{"acceptTime": "2026-10-02T11:30:00Z"}]}, "routes.acceptTime"),
    ({"mailNo": "SF1234567890123", "routes": [{"opCode": "50"}]}, "routes.acceptTime")])
def test_to_records_rejects_what_it_cannot_read(answer: dict[str, Any], field: str) -> None:
    with pytest.raises(SourceDataError) as failure:
        to_records("acct", ASKED, answer)
    assert failure.value.field == field and failure.value.stream == "waybills"


def test_statuses_cover_every_route_the_sandbox_shows(env: SfExpressEnv) -> None:
    """The sandbox shows each World scan but the label as one route, in the World's order."""
    shown = Counter(route["opCode"] for shipment in env.known for route in env.sandbox.routes_of(shipment))
    assert set(shown) <= set(STATUS_OF) and shown["50"] > 0


# -- through the marts ------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_the_cny_stores_sf_waybills_take_sfs_status_in_the_marts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped merchant's CNY store (WooCommerce, its couriers' waybills recorded on its orders) and
    track_sf: after a build the tracker is handed the store's SF waybills shipped within track_days, and
    the next build gives each its SF status (a parcel SF has not collected yet stays unknown), its scans in
    fct_tracking_events under its shipment, tracked_by sf_express (asked, routes or not). Once SF shows
    no route of any of them (it forgets routes after about three months), the marts keep them all."""
    isolate_env(monkeypatch, tmp_path)
    keep = {"woocommerce", "sf_express"}
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    config = small_config(tmp_path, orders=400, edit={"stock": {"channels": {}}},  # no stock: no channel to push to
                          leave_out={account["connector"] for account in shipped["accounts"].values()} - keep)
    shipments = "select tracking_code, status, tracked_by, event_count from marts.fct_shipments where carrier = 'SF'"
    events = ("select event_id, shipment_id, occurred_at, status, message from marts.fct_tracking_events "
              "where provider = 'sf_express' order by event_id")
    with loaded_merchant(config) as (hub, _fleet):
        transforms.build(hub)
        report = run_account(hub, "track_sf")
        transforms.build(hub)
        world, since = world_for(hub), datetime.now(UTC) - timedelta(days=hub.account("track_sf").settings.track_days)
        rows = {row["tracking_code"]: (row["status"], row["tracked_by"], row["event_count"]) for row in query(hub, shipments)}
        scans = query(hub, events)
        monkeypatch.setattr(SfExpressSandbox, "routes_of", lambda self, shipment: [])
        forgotten = run_account(hub, "track_sf")
        transforms.build(hub, select=["+fct_shipments", "+fct_tracking_events"])
        assert {row["tracking_code"]: (row["status"], row["tracked_by"], row["event_count"])
                for row in query(hub, shipments)} == rows
        assert query(hub, events) == scans
    followed = [shipment for shipment in world.shipments_of("shop") if shipment.carrier == "SF"
                and since <= shipment.created_at <= world.now]
    assert report.rows["waybills"] == len(followed) > 0
    expected = {}
    for shipment in followed:
        scanned = [event for event in shipment.events_until(world.now) if event.status != "pre_transit"]
        expected[shipment.tracking_code] = (scanned[-1].status, "sf_express", len(scanned)) if scanned \
            else ("unknown", "sf_express", 0)
    assert {code: rows[code] for code in expected} == expected
    asked_again = [(status, count) for status, _, count in expected.values() if status not in FINISHED]
    assert forgotten.rows["waybills"] == len(asked_again) and any(count for _, count in asked_again), asked_again
    assert Counter(status for status, *_ in expected.values())["delivered"] > 0
    assert len(scans) == sum(row[2] for row in expected.values())
    assert all(scan["shipment_id"] for scan in scans)
