"""The ShipStation connector against the ShipStation sandbox: the shared contract, then what is
ShipStation's own (a public V1 client on the sandbox, the rate limit's headers honoured, Pacific times,
errors, bad records) and its labels and shipped lines in the marts."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from shipstation_api_wrapper.api import ShipStationClient
from shipstation_api_wrapper.filter import ShipStationOrderFilter

import transforms
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.sdk import SourceDataError
from connectors.shipstation.connector import NO_VOID_BEFORE, pacific_bound, to_record
from sandbox.shipstation import Label, ShipstationSandbox
from sandbox.world import ShopSpec, World, WorldSpec

ACCOUNT = "shipstation_test"
API_KEY, API_SECRET = "ss_contract_key_0001", "ss_contract_secret_0001"
SECRETS = {"api_key": "CHANNELHUB_TEST_SHIPSTATION_KEY", "api_secret": "CHANNELHUB_TEST_SHIPSTATION_SECRET"}
# one shop whose parcels ShipStation ships (USD: USPS, UPS and FedEx labels)
SHOPS = (ShopSpec("shop_us", "USD", "America/New_York", shipper="shipstation"),)
HUB_CARRIERS = {"stamps_com": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl_express": "DHLExpress"}


def world_with_labels(n: int, seed: int = 7) -> World:
    """A World whose ShipStation account lists exactly ``n`` labels (voided ones included), all created
    well before the World's clock."""
    world = World(WorldSpec(seed=seed, orders=n * 3 // 2 + 60, shops=SHOPS))
    sandbox = ShipstationSandbox(world, rate_limit=None)
    while len(sandbox.labels()) > n:
        del world.shipments[-1]
    assert len(sandbox.labels()) == n, "no trim of the World's parcels lists exactly n labels"
    return world


class ShipstationEnv(WorldSandboxEnv):
    primary_stream = "shipments"
    primary_key = "shipment_id"
    fault_path = "/shipments"
    connector = "shipstation"
    marts = "+fct_shipments +int_shipstation__shipment_lines"
    environment: ClassVar[dict[str, str]] = {SECRETS["api_key"]: API_KEY, SECRETS["api_secret"]: API_SECRET}

    def __init__(self, tmp_path: Path, records: int, page_size: int, *, streams: tuple[str, ...] | None = ("shipments",),
                 rate_limit: int | None = None, window: float = 60.0, **settings: Any) -> None:
        """The contract reads the labels alone (``streams``): the orders stream would double every load's
        cost and the contract is about the paging and cursor, which both streams share."""
        self.world = world_with_labels(records)
        self.sandbox = ShipstationSandbox(self.world, API_KEY, API_SECRET, rate_limit=rate_limit, window=window)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "page_size": page_size, "timeout_seconds": 10,
                                  **settings}, SECRETS)
        if streams is not None:
            raw = self.config.model_dump(mode="json", exclude_unset=True)
            raw["accounts"][ACCOUNT]["streams"] = list(streams)
            self.config = type(self.config).model_validate(raw)

    def source_count(self) -> int:
        return len(self.sandbox.labels())

    def change(self, fraction: float) -> int:
        return len(self.world.ship(self.world.add_orders(max(1, round(self.source_count() * fraction)))))

    def share_cursor_value(self, n: int) -> None:
        self.world.ship(self.world.add_orders(n))


class ShipstationMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: ShipstationEnv) -> None:
        """Every label is one row of fct_shipments with its order, the hub's carrier code, its waybill and
        cost; a live label is pre_transit, a voided one cancelled; nobody tracks them yet. Every item of a
        live label is a shipped line of its order."""
        rows = {row[0]: row[1:] for row in env.rows(
            "select shipment_id, order_id, is_order_known, carrier, tracking_code, status, cost_amount, currency, "
            f"shipped_at, event_count from marts.fct_shipments where channel_id = '{env.account}'")}
        expected = {}
        for label in env.sandbox.labels():
            shipment = label.shipment
            expected[f"{env.account}:{label.number}"] = (
                shipment.reference, False, shipment.carrier, label.tracking_code,
                "cancelled" if label.voided_at else "pre_transit", shipment.cost, "USD", label.created_at, 0)
        assert rows == expected
        assert {row[2] for row in rows.values()} == {"USPS", "UPS", "FedEx"}
        assert sum(row[4] == "cancelled" for row in rows.values()) > 0
        lines = env.rows("select order_id, source_sku, quantity, shipped_at from intermediate.int_shipstation__shipment_lines "
                         f"where channel_id = '{env.account}'")
        live = [label.shipment for label in env.sandbox.labels() if label.voided_at is None]
        assert sorted(lines) == sorted((shipment.reference, line.sku.code, line.quantity, shipment.created_at)
                                       for shipment in live for line in shipment.order.lines)


class TestShipstationContract(ShipstationMarts, ConnectorContract):
    env_class = ShipstationEnv


class TestShipstationOnPostgres(ShipstationMarts, PostgresParity):
    env_class = ShipstationEnv


# -- ShipStation specifics ----------------------------------------------------------------------------------

def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_size: int = 20, **options: Any) -> ShipstationEnv:
    """40 labels and both streams."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in ShipstationEnv.environment.items():
        monkeypatch.setenv(name, value)
    return ShipstationEnv(tmp_path, 40, page_size, streams=None, **options)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    running = make_env(tmp_path, monkeypatch)
    yield running
    running.close()


def wrapper_client(env: ShipstationEnv, secret: str = API_SECRET) -> ShipStationClient:
    """shipstation-api-wrapper's client: it takes the Basic credentials already encoded."""
    return ShipStationClient(base64.b64encode(f"{API_KEY}:{secret}".encode()).decode(), base_url=env.sandbox.base_url)


def test_a_public_v1_client_lists_orders_and_shipments_on_the_sandbox(env: ShipstationEnv) -> None:
    """shipstation-api-wrapper (a public V1 client) filters orders by modify date and finds one by number;
    its shipments.list() asks /orders (its bug), so the shipments are paged through its own request
    layer, page to pages, and a wrong secret meets ShipStation's 401."""
    client = wrapper_client(env)
    since = env.world.orders[len(env.world.orders) // 2].created_at
    wanted = ShipStationOrderFilter()
    wanted.add_date_filter(pacific_bound(since), date_type="modify")
    answer = client.orders.list_with_filter(wanted)
    assert answer.status_code == 200
    expected = [row["order"] for row in env.sandbox.orders({}) if row["modifyDate"] >= since]
    assert answer.json()["total"] == len(expected) > 0
    order = expected[0]
    [found] = client.orders.get_by_number(order.number).json()["orders"]
    assert (found["orderKey"], found["advancedOptions"]["customField1"]) == (str(order.id), order.shop)
    labels, page, pages = [], 1, 1
    while page <= pages:
        body = client.shipments.request.get("/shipments", params={"page": page, "pageSize": 7,
                                                                    "includeShipmentItems": "true"}).json()
        labels += body["shipments"]
        page, pages = page + 1, body["pages"]
    listed = env.sandbox.labels()
    assert [label["shipmentId"] for label in labels] == [label.number for label in listed] and len(labels) == 40
    first = listed[0].shipment
    assert labels[0]["trackingNumber"] == listed[0].tracking_code
    assert [(item["sku"], item["quantity"]) for item in labels[0]["shipmentItems"]] == \
        [(line.sku.code, line.quantity) for line in first.order.lines]
    refused = wrapper_client(env, "wrong-secret").shipments.request.get("/shipments")
    assert (refused.status_code, refused.json()) == (401, {"message": "Invalid API credentials"})


def test_the_run_keeps_to_the_rate_limit_and_reads_and_sends_pacific_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The window spent by another client of the key: the run's first request meets the 429 and waits what
    X-Rate-Limit-Reset says; then it waits out each window whose X-Rate-Limit-Remaining reaches 0, so the
    sandbox refuses nothing more, and everything loads (2 requests a second here, 40 a minute at
    ShipStation). Times land in UTC from ShipStation's Pacific wall clock. The first load lists the voided
    labels twice (every label, and every void since NO_VOID_BEFORE) and loads each once; the next run asks
    for labels created since an hour before the newest (createDateStart), labels voided since an hour
    before the newest void (voidDateStart) and orders modified since an hour before theirs
    (modifyDateStart), all in Pacific wall clock."""
    env = make_env(tmp_path, monkeypatch, page_size=40, rate_limit=2, window=1.0, max_wait_seconds=5)
    try:
        env.sandbox.spend_next_window()
        report = run_account(env.config, ACCOUNT)
        log = env.sandbox.log
        assert [entry["refused"] for entry in log] == [True] + [False] * (len(log) - 1)
        assert log[1]["at"] - log[0]["at"] >= float(log[0]["X-Rate-Limit-Reset"]) - 0.5
        spent = [n for n, entry in enumerate(log[1:-1], 1) if entry["X-Rate-Limit-Remaining"] == "0"]
        assert spent and all(log[n + 1]["at"] - log[n]["at"] >= float(log[n]["X-Rate-Limit-Reset"]) - 0.5 for n in spent)
        orders = env.sandbox.orders({})
        assert report.rows == {"shipments": 40, "orders": len(orders)}
        assert {entry["voidDateStart"] for entry in log if "voidDateStart" in entry} == {pacific_bound(NO_VOID_BEFORE)}

        newest, modified = env.sandbox.labels()[-1], max(row["modifyDate"] for row in orders)
        assert env.one(f"select max(create_date) from raw_{ACCOUNT}.shipments") == (newest.created_at,)
        assert env.one(f"select max(modify_date) from raw_{ACCOUNT}.orders") == (modified,)
        statuses = dict(env.rows(f"select order_status, count(*) from raw_{ACCOUNT}.orders group by 1"))
        assert statuses["shipped"] == len({label.shipment.order.id for label in env.sandbox.labels()})
        assert statuses.get("awaiting_shipment", 0) > 0
        env.sandbox.rate_limit = None
        log.clear()
        run_account(env.config, ACCOUNT)
        voided = max(label.voided_at for label in env.sandbox.labels() if label.voided_at)
        starts = {(entry["path"], bound, entry[bound]) for entry in log
                  for bound in ("createDateStart", "voidDateStart", "modifyDateStart") if bound in entry}
        hour = timedelta(hours=1)
        assert starts == {("/shipments", "createDateStart", pacific_bound(newest.created_at - hour)),
                          ("/shipments", "voidDateStart", pacific_bound(voided - hour)),
                          ("/orders", "modifyDateStart", pacific_bound(modified - hour))}
    finally:
        env.close()


def void_a_month_old_label(env: ShipstationEnv) -> tuple[Label, datetime]:
    """The merchant voids the oldest live label, a month or more after it was made: far outside the
    labels listing's lookback. Returns the label and its void time."""
    label = next(label for label in env.sandbox.labels() if label.voided_at is None)
    env.world.tick(max(0, int((label.created_at + timedelta(days=30) - env.world.now).total_seconds())))
    voided_at = env.sandbox.void(label)
    assert voided_at - label.created_at >= timedelta(days=30)
    return label, voided_at


def test_a_label_voided_a_month_after_it_was_made_lands_voided_on_the_next_run(env: ShipstationEnv) -> None:
    """After a load, the next run's labels listing re-reads only the last hour of labels; its void listing
    (voidDateStart) brings the old label, merged on its key with its items: one row, voided, with its
    voidDate in UTC."""
    run_account(env.config, ACCOUNT)
    label, voided_at = void_a_month_old_label(env)
    env.sandbox.log.clear()
    run_account(env.config, ACCOUNT)
    [created_since] = {entry["createDateStart"] for entry in env.sandbox.log if "createDateStart" in entry}
    assert pacific_bound(label.created_at) < created_since  # not the labels listing's
    assert env.rows(f"select voided, void_date from raw_{ACCOUNT}.shipments where shipment_id = {label.number}") == [
        (True, voided_at)]
    assert env.one(f"select count(*) from raw_{ACCOUNT}.shipments__shipment_items where shipment_id = {label.number}") == (
        len(label.shipment.order.lines),)


def test_the_sandbox_lists_the_labels_voided_within_both_bounds(env: ShipstationEnv) -> None:
    """voidDateStart and voidDateEnd, Pacific wall clock, both inclusive (ShipStation's documents do not
    say; the sandbox reads them as its other date filters); a live label has no voidDate and is never listed."""
    client = wrapper_client(env)
    voided = [label for label in env.sandbox.labels() if label.voided_at]
    assert len(voided) >= 2

    def between(start: datetime, end: datetime) -> list[int]:
        body = client.shipments.request.get("/shipments", params={"voidDateStart": pacific_bound(start),
                                                                    "voidDateEnd": pacific_bound(end)}).json()
        return [label["shipmentId"] for label in body["shipments"]]

    first, last = voided[0].voided_at, voided[-1].voided_at
    assert between(first, last) == [label.number for label in voided]
    assert between(first + timedelta(seconds=1), last - timedelta(seconds=1)) == [label.number for label in voided[1:-1]]


@pytest.mark.e2e
def test_a_label_voided_a_month_later_is_cancelled_in_the_marts_and_ships_nothing(env: ShipstationEnv) -> None:
    """Built before and after: the label turns from pre_transit to cancelled in fct_shipments, voided at its
    voidDate, and its items leave the shipment_lines role, so they no longer count as shipped units against
    the reservations."""
    marts = ["+fct_shipments", "+int_shipstation__shipment_lines"]
    run_account(env.config, ACCOUNT)
    transforms.build(env.config, select=marts)
    label, voided_at = void_a_month_old_label(env)
    shipment = f"shipment_id = '{ACCOUNT}:{label.number}'"
    status = f"select status, last_event_at from marts.fct_shipments where {shipment}"
    lines = f"select coalesce(sum(quantity), 0) from intermediate.int_shipstation__shipment_lines where {shipment}"
    assert env.one(status) == ("pre_transit", None)
    assert env.one(lines) == (sum(line.quantity for line in label.shipment.order.lines),)
    run_account(env.config, ACCOUNT)
    transforms.build(env.config, select=marts)
    assert env.one(status) == ("cancelled", voided_at)
    assert env.one(lines) == (0,)


def test_shipstations_errors_fail_the_run_saying_what_shipstation_said(env: ShipstationEnv,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong secret fails at once with ShipStation's message (the secret never shown); a rate limit that
    does not lift fails after the policy's attempts with ShipStation's 429."""
    monkeypatch.setenv(SECRETS["api_secret"], "revoked_secret_9876")
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "Invalid API credentials" in str(failure.value) and "revoked_secret" not in str(failure.value)
    result = env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT))
    assert not result.ok and "HTTP 401" in result.detail and "revoked_secret" not in result.detail
    monkeypatch.setenv(SECRETS["api_secret"], API_SECRET)
    assert env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT)).facts == {"labels": 40}
    env.inject("rate_limit", 1_000)
    with pytest.raises(RunFailed, match="HTTP 429 on /shipments: Too Many Requests"):
        run_account(env.config, ACCOUNT)


def test_a_label_with_a_bad_cost_is_quarantined_naming_it_and_the_rest_loads(
        env: ShipstationEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = env.sandbox.labels()[5].number
    render = ShipstationSandbox.render_label

    def corrupt(self: ShipstationSandbox, label: Any, items: bool) -> dict[str, Any]:
        body = render(self, label, items)
        return body | {"shipmentCost": "7,58"} if body["shipmentId"] == bad else body

    monkeypatch.setattr(ShipstationSandbox, "render_label", corrupt)
    report = run_account(env.config, ACCOUNT)
    assert report.quarantined == {"shipments": 1}
    [(record, field, reason)] = env.rows(
        f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (str(bad), "shipmentCost") and "7,58" in reason
    assert report.rows["shipments"] == env.source_count() - 1


LABEL = {"shipmentId": 1, "orderId": 2, "createDate": "2026-03-01T10:00:00.1230000", "shipDate": "2026-03-01",
         "voidDate": None, "shipmentCost": 7.58, "insuranceCost": 0, "labelData": None,
         "shipmentItems": [{"sku": "CH-1", "quantity": 2, "unitPrice": 9.99}]}


@pytest.mark.parametrize(("change", "field"), [
    ({"shipmentId": None}, "shipmentId"), ({"shipmentId": "1"}, "shipmentId"), ({"createDate": "yesterday"}, "createDate"),
    ({"voidDate": "soon"}, "voidDate"), ({"shipmentCost": "NaN?"}, "shipmentCost"), ({"shipDate": "03/01"}, "shipDate"),
    ({"shipmentItems": [{"sku": "CH-1", "quantity": 1.5}]}, "shipmentItems.quantity")])
def test_to_record_rejects_bad_fields(change: dict[str, Any], field: str) -> None:
    with pytest.raises(SourceDataError) as failure:
        to_record("acct", "shipments", LABEL | change)
    assert failure.value.field == field and failure.value.stream == "shipments"


def test_to_record_reads_pacific_time_and_exact_money() -> None:
    """Winter is UTC-8, summer UTC-7; money from a JSON number is the decimal written; items name their label."""
    row = to_record("acct", "shipments", LABEL, "EUR")
    assert row["createDate"] == datetime(2026, 3, 1, 18, 0, 0, 123000, tzinfo=UTC)
    assert to_record("acct", "shipments", LABEL | {"createDate": "2026-07-01T10:00:00.0000000"})["createDate"] == \
        datetime(2026, 7, 1, 17, tzinfo=UTC)
    assert (row["shipmentCost"], row["currency"], row["shipDate"]) == (Decimal("7.58"), "EUR", date(2026, 3, 1))
    assert row["shipmentItems"] == [{"sku": "CH-1", "quantity": 2, "unitPrice": Decimal("9.99"), "shipmentId": 1}]
    assert "labelData" not in row
    assert pacific_bound(datetime(2026, 3, 1, 18, 0, 0, 500000, tzinfo=UTC)) == "2026-03-01 10:00:00"
