"""The EasyPost connector against the EasyPost sandbox: the shared contract, then what is EasyPost's own
(the official SDK paging the sandbox, trackers re-read as parcels move, errors, bad records) and the
shipments and their tracking events in the marts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import easypost
import pytest

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.easypost.connector import to_record
from connectors.sdk import SourceDataError
from sandbox.easypost import EasypostSandbox
from sandbox.world import Shipment, World, WorldSpec

ACCOUNT = "easypost_test"
API_KEY = "EZTK_contract_key_0001"
SECRETS = {"api_key": "CHANNELHUB_TEST_EASYPOST_KEY"}


def world_with_shipments(n: int, seed: int = 7) -> World:
    """A World whose EasyPost account holds exactly its ``n`` oldest shipments, all labels bought well
    before the World's clock."""
    world = World(WorldSpec(seed=seed, orders=n * 3 // 2 + 60))
    assert len(world.shipments) >= n
    del world.shipments[n:]
    return world


def ship_new_orders(world: World, n: int) -> list[Shipment]:
    """``n`` new orders, shipped together: their labels share one ``created_at``."""
    return world.ship(world.add_orders(n))


class EasypostEnv(WorldSandboxEnv):
    primary_stream = "shipments"
    primary_key = "id"
    fault_path = "/v2/shipments"
    connector = "easypost"
    marts = "+fct_shipments +fct_tracking_events"
    environment: ClassVar[dict[str, str]] = {SECRETS["api_key"]: API_KEY}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = world_with_shipments(records)
        self.sandbox = EasypostSandbox(self.world, API_KEY, rate_limit=None)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "page_size": page_size, "timeout_seconds": 10,
                                  **settings}, SECRETS)

    def source_count(self) -> int:
        return len(self.sandbox.newest_first({}))

    def change(self, fraction: float) -> int:
        return len(ship_new_orders(self.world, max(1, round(self.source_count() * fraction))))

    def share_cursor_value(self, n: int) -> None:
        ship_new_orders(self.world, n)


class EasypostMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: EasypostEnv) -> None:
        """Every shipment is one row of fct_shipments with its order, carrier, waybill, label cost and the
        tracker's status and times; every scan one row of fct_tracking_events."""
        now, listed = env.world.now, env.sandbox.newest_first({})
        rows = {row[0]: row[1:] for row in env.rows(
            "select shipment_id, order_id, carrier, tracking_code, status, cost_amount, currency, shipped_at, "
            f"delivered_at, event_count from marts.fct_shipments where channel_id = '{env.account}'")}
        expected = {}
        for shipment in listed:
            events = shipment.events_until(now)
            delivered = next((event.at for event in events if event.status == "delivered"), None)
            expected[shipment.id] = (shipment.reference, shipment.carrier, shipment.tracking_code,
                                     shipment.status(now), shipment.cost, shipment.currency, shipment.created_at,
                                     delivered, len(events))
        assert rows == expected
        statuses = Counter(row[3] for row in rows.values())
        assert {"delivered", "failure", "return_to_sender", "in_transit"} <= set(statuses), statuses
        events = env.rows("select status, count(*) from marts.fct_tracking_events "
                          f"where channel_id = '{env.account}' group by status")
        assert dict(events) == Counter(event.status for shipment in listed for event in shipment.events_until(now))


class TestEasypostContract(EasypostMarts, ConnectorContract):
    env_class = EasypostEnv


class TestEasypostOnPostgres(EasypostMarts, PostgresParity):
    env_class = EasypostEnv


# -- EasyPost specifics -------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in EasypostEnv.environment.items():
        monkeypatch.setenv(name, value)
    running = EasypostEnv(tmp_path, 40, 10)
    yield running
    running.close()


def test_the_official_sdk_pages_shipments_and_trackers_on_the_sandbox(env: EasypostEnv) -> None:
    """easypost (EasyPost's own client, Bearer key) pages the shipments back with before_id to the last,
    reads a tracker's scans, and meets EasyPost's errors as its own exceptions."""
    client = easypost.EasyPostClient(API_KEY, api_base=f"{env.sandbox.base_url}/v2")
    page = client.shipment.all(page_size=7)
    ids = [shipment.id for shipment in page["shipments"]]
    while page["has_more"]:
        page = client.shipment.get_next_page(page, 7)
        ids += [shipment.id for shipment in page["shipments"]]
    listed = env.sandbox.newest_first({})
    assert ids == [shipment.id for shipment in listed] and len(ids) == 40
    assert page["shipments"][-1].reference == listed[-1].reference
    newest = listed[0]
    tracker = client.tracker.retrieve(newest.tracker_id)
    assert (tracker.tracking_code, tracker.status) == (newest.tracking_code, newest.status(env.world.now))
    assert [detail.status for detail in tracker.tracking_details] == \
        [event.status for event in newest.events_until(env.world.now)]
    with pytest.raises(easypost.errors.UnauthorizedError) as refused:
        easypost.EasyPostClient("EZTK_wrong_key", api_base=f"{env.sandbox.base_url}/v2").tracker.all()
    assert refused.value.code == "APIKEY.INACTIVE"
    with pytest.raises(easypost.errors.InvalidRequestError) as invalid:
        client.tracker.all(page_size=101)
    assert invalid.value.code == "PARAMETER.INVALID" and invalid.value.errors[0]["field"] == "page_size"


def test_trackers_are_read_again_while_their_parcels_move(env: EasypostEnv) -> None:
    """A tracker changes long after it was created: each run re-reads the trackers created in the last
    30 days (start_datetime), so a parcel shipped in one run is delivered in the warehouse after a later one."""
    shipped = ship_new_orders(env.world, 3)
    run_account(env.config, ACCOUNT)
    ids = ", ".join(f"'{shipment.tracker_id}'" for shipment in shipped)
    assert env.rows(f"select distinct status from raw_{ACCOUNT}.trackers where id in ({ids})") == [("pre_transit",)]
    env.world.tick(20 * 86_400)
    env.sandbox.log.clear()
    run_account(env.config, ACCOUNT)
    loaded = dict(env.rows(f"select id, status from raw_{ACCOUNT}.trackers where id in ({ids})"))
    assert loaded == {shipment.tracker_id: shipment.events[-1].status for shipment in shipped}
    scans = env.one(f"select count(*) from raw_{ACCOUNT}.trackers__tracking_details where tracker_id in ({ids})")
    assert scans == (sum(len(shipment.events) for shipment in shipped),)
    starts = {args["path"]: args.get("start_datetime") for args in env.sandbox.log if "before_id" not in args}
    newest = shipped[0].created_at
    assert starts["/v2/trackers"] == (newest - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert starts["/v2/shipments"] == (newest - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_easyposts_errors_fail_the_run_saying_what_easypost_said(env: EasypostEnv,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong key fails at once with EasyPost's code (the key never shown); a rate limit that does not
    lift fails after the policy's attempts with EasyPost's 429."""
    monkeypatch.setenv(SECRETS["api_key"], "EZTK_revoked_key_9876")
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "APIKEY.INACTIVE" in str(failure.value) and "revoked_key" not in str(failure.value)
    result = env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT))
    assert not result.ok and "APIKEY.INACTIVE" in result.detail and "revoked_key" not in result.detail
    monkeypatch.setenv(SECRETS["api_key"], API_KEY)
    assert env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT)).facts["mode"] == "test"
    env.inject("rate_limit", 1_000)
    with pytest.raises(RunFailed, match="HTTP 429 RATE_LIMITED"):
        run_account(env.config, ACCOUNT)


def test_a_shipment_with_a_bad_rate_is_quarantined_naming_it_and_the_rest_loads(
        env: EasypostEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = env.world.shipments[5].id
    render = EasypostSandbox.shipment

    def corrupt(self: EasypostSandbox, shipment: Shipment) -> dict[str, Any]:
        body = render(self, shipment)
        if body["id"] == bad:
            body["selected_rate"] = {**body["selected_rate"], "rate": "7,58"}
        return body

    monkeypatch.setattr(EasypostSandbox, "shipment", corrupt)
    report = run_account(env.config, ACCOUNT)
    assert report.quarantined == {"shipments": 1}
    [(record, field, reason)] = env.rows(
        f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (bad, "selected_rate.rate") and "7,58" in reason
    assert report.rows["shipments"] == env.source_count() - 1


SHIPMENT = {"id": "shp_1", "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-02T08:30:00Z",
            "tracker": {"id": "trk_1"}, "rates": [{}],
            "selected_rate": {"carrier": "USPS", "rate": "7.58", "currency": "USD"}}


@pytest.mark.parametrize(("change", "field"), [
    ({"id": None}, "id"), ({"created_at": "yesterday"}, "created_at"), ({"updated_at": None}, "updated_at"),
    ({"selected_rate": {"rate": 7.58, "currency": "USD"}}, "selected_rate.rate"),
    ({"selected_rate": {"rate": "NaN", "currency": "USD"}}, "selected_rate.rate"),
    ({"selected_rate": {"rate": "7.58"}}, "selected_rate.rate")])
def test_to_record_rejects_bad_fields(change: dict[str, Any], field: str) -> None:
    with pytest.raises(SourceDataError) as failure:
        to_record("acct", "shipments", SHIPMENT | change)
    assert failure.value.field == field and failure.value.stream == "shipments"


def test_to_record_keeps_the_tracker_apart_and_makes_times_utc_and_money_exact() -> None:
    row = to_record("acct", "shipments", SHIPMENT | {"created_at": "2026-03-01T05:00:00-05:00"})
    assert row["created_at"] == datetime(2026, 3, 1, 10, tzinfo=UTC) and row["tracker_id"] == "trk_1"
    assert row["selected_rate"]["rate"] == Decimal("7.58") and "tracker" not in row and "rates" not in row
    tracker = to_record("acct", "trackers", {"id": "trk_1", "created_at": "2026-03-01T10:00:00Z",
                                             "updated_at": "2026-03-01T10:00:00Z", "tracking_details": [
                                                 {"status": "pre_transit", "datetime": "2026-03-01T10:00:00Z"}]})
    assert tracker["tracking_details"] == [{"status": "pre_transit", "tracker_id": "trk_1",
                                            "datetime": datetime(2026, 3, 1, 10, tzinfo=UTC)}]
    with pytest.raises(SourceDataError, match="tracking_details.datetime"):
        to_record("acct", "trackers", tracker | {"created_at": "2026-03-01T10:00:00Z",
                                                 "updated_at": "2026-03-01T10:00:00Z",
                                                 "tracking_details": [{"datetime": "soon"}]})
