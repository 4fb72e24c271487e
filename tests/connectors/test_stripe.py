"""The Stripe connector against the Stripe sandbox: the shared contract, then what is Stripe's own
(the official SDK on the sandbox, the ``created`` window sent, lookback, money, bad records, check)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import stripe
from iso4217 import Currency
from pydantic import ValidationError
from werkzeug.wrappers import Request

import transforms
from channelhub.config import HubConfig
from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors import stripe as stripe_package
from connectors.sdk import SourceDataError, get_connector
from connectors.stripe import StripeSettings
from connectors.stripe.records import to_record
from sandbox.stripe import DEFAULT_API_KEY, StripeSandbox
from sandbox.world import Order, Refund, ShopSpec, World, WorldSpec
from warehouse import Warehouse

ACCOUNT = "stripe_test"
KEY_ENV = "CHANNELHUB_TEST_STRIPE_KEY"


def world_with_charges(n: int, seed: int = 7) -> World:
    """A World whose history holds exactly ``n`` Stripe charges (orders are cut after the n-th)."""
    world = World(WorldSpec(seed=seed, orders=int(n / 0.85) + 50))
    kept, charges = [], 0
    for order in world.orders:
        if charges == n:
            break
        kept.append(order)
        charges += len(order.charge_ids)
    assert charges == n
    world.orders = kept
    return world


def add_charges(world: World, n: int) -> datetime:
    """``n`` new charges, all created in one new second (Stripe's ``created`` never moves, so new
    objects are the only way a charge's cursor value changes)."""
    at, added = world.tick(), 0
    while added < n:
        for order in world.add_orders(n - added):
            order.created_at = order.updated_at = at
            added += len(order.charge_ids)
    return at


class StripeEnv(WorldSandboxEnv):
    primary_stream = "charges"
    primary_key = "id"
    fault_path = "/v1/charges"
    marts = "+fct_payouts"

    def __init__(self, tmp_path: Path, records: int, page_size: int, world: World | None = None,
                 **settings: Any) -> None:
        self.world = world or world_with_charges(records)
        self.sandbox = StripeSandbox(self.world, rate_limit=None)
        self.sandbox.serve()
        self.monkeypatch = pytest.MonkeyPatch()
        self.monkeypatch.setenv(KEY_ENV, DEFAULT_API_KEY)
        self.account = ACCOUNT
        self.config = HubConfig.model_validate({
            "warehouse": {"url": f"duckdb:///{tmp_path}/wh.duckdb"},
            "accounts": {ACCOUNT: {
                "connector": "stripe",
                "settings": {"base_url": self.sandbox.base_url, "page_size": page_size, "max_attempts": 8,
                             "max_wait_seconds": 0.05, "timeout_seconds": 10, **settings},
                "secrets": {"api_key": {"env": KEY_ENV}},
            }},
        })

    def source_count(self) -> int:
        return len(self.sandbox.listing("charges").entries)

    def change(self, fraction: float) -> int:
        n = max(1, round(self.source_count() * fraction))
        add_charges(self.world, n)
        return n

    def share_cursor_value(self, n: int) -> None:
        add_charges(self.world, n)

    def close(self) -> None:
        super().close()
        self.monkeypatch.undo()


class StripeMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: StripeEnv) -> None:
        """The settlement as Stripe keeps it: each payment's fee and net are its charge's balance
        transaction's, and every payout is balanced, sending exactly the nets of the payments less the
        refunds that became available on its day, but the one the sandbox took an account fee from:
        short by that fee."""
        def exact(minor_units: int, currency: str) -> Decimal:
            return Decimal(minor_units).scaleb(-Currency(currency.upper()).exponent)

        settled: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 2)
        for entry in env.sandbox.listing("balance_transactions").entries:
            txn = entry.render()
            if txn["type"] == "charge":
                settled[txn["currency"].upper()][0] += exact(txn["fee"], txn["currency"])
                settled[txn["currency"].upper()][1] += exact(txn["net"], txn["currency"])
        rows = env.rows("select currency, sum(fee_amount), sum(net_amount) from marts.fct_payments "
                        f"where channel_id = '{env.account}' group by currency")
        assert {currency: [fees, nets] for currency, fees, nets in rows} == settled
        payouts = [entry.render() for entry in env.sandbox.listing("payouts").entries]
        assert payouts, "the World paid nothing out"
        fees = {payout: exact(fee, payout[-3:]) for payout, fee in env.sandbox.account_fees.items()}
        assert len(fees) == 1
        assert sorted(env.rows("select payout_id, amount, difference, payment_count > 0 from marts.fct_payouts")) == \
            sorted((p["id"], exact(p["amount"], p["currency"]), -fees.get(p["id"], 0), True) for p in payouts)


class TestStripeContract(StripeMarts, ConnectorContract):
    env_class = StripeEnv
    scenarios_in_quick_suite = True
    shared_records = 1_000  # one load path of each kind meets the full 1,000 sharing one cursor value


class TestStripeOnPostgres(StripeMarts, PostgresParity):
    env_class = StripeEnv


# -- Stripe specifics ------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    running = StripeEnv(tmp_path, 300, 50)
    yield running
    running.close()


def query(env: StripeEnv, sql: str) -> list[tuple]:
    with Warehouse(env.config.warehouse_url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def record_list_params(env: StripeEnv, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, str]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    listing = env.sandbox.list_objects

    def spy(request: Request, kind: str):
        seen.append((kind, dict(request.args)))
        return listing(request, kind)

    monkeypatch.setattr(env.sandbox, "list_objects", spy)
    return seen


def test_entry_point_resolves_to_the_stripe_connector() -> None:
    assert get_connector("stripe") is stripe_package.connector
    assert [s.name for s in stripe_package.connector.streams] == [
        "charges", "payment_intents", "refunds", "balance_transactions", "payouts", "customers"]


def test_page_size_is_capped_at_stripes_maximum() -> None:
    with pytest.raises(ValidationError):
        StripeSettings.model_validate({"api_key": "sk_test_x", "page_size": 101})


def test_official_sdk_auto_paginates_every_charge_exactly_once() -> None:
    world = world_with_charges(1_234)
    with StripeSandbox(world, rate_limit=None) as sandbox:
        client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": sandbox.base_url})
        ids = [charge.id for charge in client.v1.charges.list(params={"limit": 100}).auto_paging_iter()]
        expected = {charge_id for order in world.orders for charge_id in order.charge_ids}
        assert len(ids) == len(set(ids)) == 1_234
        assert set(ids) == expected
        assert sandbox.stats.by_path["/v1/charges"] == 13


def test_official_sdk_sees_stripe_errors_and_idempotent_replays() -> None:
    world = world_with_charges(20)
    with StripeSandbox(world, rate_limit=None) as sandbox:
        client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": sandbox.base_url},
                                     max_network_retries=0)
        charge = next(iter(client.v1.charges.list(params={"limit": 1})))
        first = client.v1.refunds.create(params={"charge": charge.id, "amount": 100},
                                         options={"idempotency_key": "refund-1"})
        again = client.v1.refunds.create(params={"charge": charge.id, "amount": 100},
                                         options={"idempotency_key": "refund-1"})
        assert again.id == first.id and again.last_response.headers["Idempotent-Replayed"] == "true"
        assert client.v1.charges.retrieve(charge.id).amount_refunded == charge.amount_refunded + 100
        with pytest.raises(stripe.IdempotencyError):
            client.v1.refunds.create(params={"charge": charge.id, "amount": 200},
                                     options={"idempotency_key": "refund-1"})
        with pytest.raises(stripe.InvalidRequestError) as missing:
            client.v1.charges.retrieve("ch_nope")
        assert missing.value.code == "resource_missing" and missing.value.http_status == 404
        with pytest.raises(stripe.AuthenticationError) as denied:
            stripe.StripeClient("sk_test_wrongkey9876", base_addresses={"api": sandbox.base_url}).v1.charges.list()
        assert "sk_test_****9876" in str(denied.value)


def test_runs_send_limit_created_window_and_starting_after(env: StripeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = record_list_params(env, monkeypatch)
    run_account(env.config, ACCOUNT)
    charges = [args for kind, args in seen if kind == "charges"]
    assert len(charges) == 6  # 300 charges at limit=50
    assert all(args["limit"] == "50" for args in charges)
    assert "created[gte]" not in charges[0] and "starting_after" not in charges[0]
    assert all("starting_after" in args for args in charges[1:])
    newest = max(int(o.created_at.timestamp()) for o in env.world.orders if o.charge_ids)
    seen.clear()
    run_account(env.config, ACCOUNT)
    second = [args for kind, args in seen if kind == "charges"]
    assert second[0]["created[gte]"] == str(newest - 3 * 86_400)


def test_start_date_bounds_the_first_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    start = datetime(2026, 6, 1, tzinfo=UTC)
    env = StripeEnv(tmp_path, 300, 100, start_date=start.isoformat())
    try:
        seen = record_list_params(env, monkeypatch)
        run_account(env.config, ACCOUNT)
        assert seen[0][1]["created[gte]"] == str(int(start.timestamp()))
        expected = sum(len(o.charge_ids) for o in env.world.orders if o.created_at >= start)
        assert query(env, f"select count(*) from raw_{ACCOUNT}.charges") == [(expected,)]
    finally:
        env.close()


def test_money_stays_exact_timestamps_are_utc_and_orders_are_linked(env: StripeEnv) -> None:
    run_account(env.config, ACCOUNT)
    order: Order = next(o for o in env.world.orders if o.charge_ids)
    row = query(env, f"select amount, currency, created, metadata__order_id, metadata__shop from raw_{ACCOUNT}.charges "
                     f"where id = '{order.charge_ids[0]}'")[0]
    assert row[0] == int(order.total * 100) and isinstance(row[0], int)
    assert row[1] == order.currency.lower()
    assert row[2].astimezone(UTC) == order.created_at.replace(microsecond=0)
    assert (row[3], row[4]) == (str(order.id), order.shop)
    payouts = query(env, f"select arrival_date, created from raw_{ACCOUNT}.payouts")
    assert payouts and all(arrival.astimezone(UTC) - created.astimezone(UTC) == timedelta(days=1)
                           for arrival, created in payouts)
    fees = query(env, f"select amount - fee - net from raw_{ACCOUNT}.balance_transactions")
    assert fees and {diff for (diff,) in fees} == {0}


@pytest.mark.reliability
def test_a_customer_deleted_with_the_official_sdk_leaves_raw_at_the_reconciliation(env: StripeEnv) -> None:
    """A Stripe customer deleted (through the official SDK) leaves raw at the reconciliation."""
    run_account(env.config, ACCOUNT)
    client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": env.sandbox.base_url})
    customer = next(iter(client.v1.customers.list(params={"limit": 1}).auto_paging_iter()))
    assert client.v1.customers.delete(customer.id).deleted is True
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        client.v1.customers.retrieve(customer.id)
    run_account(env.config, ACCOUNT, reconcile=False)
    assert query(env, f"select count(*) from raw_{ACCOUNT}.customers where id = '{customer.id}'") == [(1,)]
    report = run_account(env.config, ACCOUNT, reconcile=True)
    assert query(env, f"select count(*) from raw_{ACCOUNT}.customers where id = '{customer.id}'") == [(0,)]
    assert query(env, f"select note from ops.run_log where run_id = '{report.run_id}' and note is not null") == [
        ("reconciled: 1 deleted at the source",)]


@pytest.mark.reliability
def test_a_charge_refunded_long_after_its_creation_is_kept_current_by_events(env: StripeEnv) -> None:
    """A charge refunded long after it was created is kept current through /v1/events."""
    run_account(env.config, ACCOUNT)
    paid = sorted((o for o in env.world.orders if o.charge_ids and not o.refunds), key=lambda o: o.created_at)
    recent, old = paid[-1], paid[0]
    env.world.tick()
    for order in (recent, old):
        order.refunds.append(Refund(id=order.id * 100 + 9, created_at=env.world.now, amount=order.total, lines=[]))
    env.world.tick()
    env.sandbox.invalidate()
    run_account(env.config, ACCOUNT)
    refunded = dict(query(env, f"select id, amount_refunded from raw_{ACCOUNT}.charges where id in "
                               f"('{recent.charge_ids[0]}', '{old.charge_ids[0]}')"))
    assert refunded[recent.charge_ids[0]] == int(recent.total * 100)  # inside the lookback, and by its event
    assert refunded[old.charge_ids[0]] == int(old.total * 100)         # created long ago: by its event
    refunds = dict(query(env, f"select charge, amount from raw_{ACCOUNT}.refunds"))
    assert refunds[old.charge_ids[0]] == int(old.total * 100)
    assert env.sandbox.stats.by_path["/v1/events"] >= 2  # followed on each run


def test_a_record_with_a_non_integer_amount_is_quarantined_naming_it_and_the_rest_loads(
        env: StripeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_id = next(o for o in env.world.orders if o.charge_ids).charge_ids[0]
    render = StripeSandbox._charge

    def corrupt(self: StripeSandbox, charge: Any) -> dict[str, Any]:
        body = render(self, charge)
        if body["id"] == bad_id:
            body["amount"] = "12.34"
        return body

    monkeypatch.setattr(StripeSandbox, "_charge", corrupt)
    report = run_account(env.config, ACCOUNT, full_refresh=True)
    assert report.quarantined == {"charges": 1}
    [(record, field, reason, excerpt)] = query(
        env, f"select record_key, field, reason, excerpt from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (bad_id, "amount") and "12.34" in reason and bad_id in excerpt
    charges = {row[0] for row in query(env, f"select id from raw_{ACCOUNT}.charges")}
    assert bad_id not in charges and len(charges) == report.rows["charges"] > 0
    logged = query(env, f"select quarantined from ops.run_log where run_id = '{report.run_id}' and stream = 'charges'")
    assert logged == [(1,)]
    monkeypatch.setattr(StripeSandbox, "_charge", render)
    env.sandbox.invalidate()  # the index holds the rendering it was built with
    run_account(env.config, ACCOUNT, full_refresh=True)  # fixed at the source: it loads
    assert query(env, f"select count(*) from raw_{ACCOUNT}.charges where id = '{bad_id}'") == [(1,)]


@pytest.mark.parametrize(("change", "field"), [({"id": None}, "id"), ({"created": None}, "created"),
                                               ({"created": "2026-01-01"}, "created"), ({"net": 1.5}, "net"),
                                               ({"amount": True}, "amount"), ({"currency": None}, "currency"),
                                               ({"available_on": "soon"}, "available_on")])
def test_to_record_rejects_bad_fields(change: dict[str, Any], field: str) -> None:
    txn = {"id": "txn_1", "created": 1, "amount": 100, "fee": 33, "net": 67, "currency": "usd", "available_on": None}
    with pytest.raises(SourceDataError) as failure:
        to_record("acct", "balance_transactions", txn | change)
    assert failure.value.field == field and failure.value.stream == "balance_transactions"


def test_to_record_converts_timestamps_to_utc_in_place() -> None:
    row = to_record("acct", "payouts", {"id": "po_1", "created": 1_767_225_600, "arrival_date": 1_767_312_000,
                                        "amount": 5, "currency": "eur"})
    assert row["created"] == datetime(2026, 1, 1, tzinfo=UTC)
    assert row["arrival_date"] == datetime(2026, 1, 2, tzinfo=UTC)
    assert row["amount"] == 5


def test_check_names_the_account_and_explains_a_bad_key(env: StripeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    good = env.config.account(ACCOUNT)
    result = good.connector.check(good)
    assert result.ok and result.facts["account_id"].startswith("acct_") and result.facts["mode"] == "test"
    monkeypatch.setenv(KEY_ENV, "sk_test_thisisnotright5678")
    bad = env.config.account(ACCOUNT)
    result = bad.connector.check(bad)
    assert not result.ok
    assert "HTTP 401" in result.detail and "sk_test_****5678" in result.detail
    assert "thisisnotright" not in result.detail


def test_a_rejected_key_fails_the_run_with_stripes_message(env: StripeEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk_test_thisisnotright5678")
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    message = str(failure.value)
    assert "HTTP 401" in message and "Invalid API Key provided" in message and "thisisnotright" not in message
    assert env.sandbox.stats.requests <= 6  # a 401 is final: no retries


def test_persistent_rate_limiting_gives_up_with_stripes_error(env: StripeEnv) -> None:
    env.inject("rate_limit", 100)
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "HTTP 429 (invalid_request_error/rate_limit)" in str(failure.value)
    assert env.sandbox.stats.faults_served["rate_limit"] == 8  # max_attempts, then a clear failure


def test_jpy_kwd_and_usd_charges_land_exact_by_their_iso_minor_units(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Zero-, three- and two-decimal currencies through Stripe: yen, Kuwaiti dinar and dollar amounts land
    exact in staging, each converted by its ISO 4217 exponent."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    world = World(WorldSpec(orders=60, skus=12, customers=20, shops=(
        ShopSpec("shop_jp", "JPY", "Asia/Tokyo"), ShopSpec("shop_kw", "KWD", "Asia/Kuwait"),
        ShopSpec("shop_us", "USD", "America/New_York"))))
    env = StripeEnv(tmp_path, 0, 50, world=world)
    try:
        run_account(env.config, ACCOUNT)
        transforms.build(env.config, select=["stg_stripe__charges"])
        landed = {row[0]: row[1:] for row in query(env, "select payment_id, amount, currency from "
                                                        "staging.stg_stripe__charges")}
        for order in (o for o in world.orders if o.charge_ids):
            linked = next(c for c in order.charges if c.order_linked)
            amount = order.total if linked.amount is None else linked.amount
            assert landed[linked.id] == (amount, order.currency), (order.currency, linked.id)
        assert {currency for _, currency in landed.values()} == {"JPY", "KWD", "USD"}
    finally:
        env.close()
