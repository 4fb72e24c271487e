"""The PayPal connector against the PayPal sandbox: the shared contract, then what is PayPal's own
(the official SDK's transaction search on the sandbox, windows and the three-hour lag, tokens, errors,
bad records) and its payments and refunds in the marts."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from paypalserversdk.configuration import Configuration, Environment, Server
from paypalserversdk.exceptions.search_error_exception import SearchErrorException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from connectors.paypal.connector import to_record
from connectors.sdk import SourceDataError
from sandbox.paypal import PaypalSandbox
from sandbox.world import World, WorldSpec, paid_with_paypal

ACCOUNT = "paypal_test"
CLIENT_ID, SECRET = "AclientIdOfTheRestApp", "EsecretOfTheRestApp1234"
SECRETS = {"client_id": "CHANNELHUB_TEST_PAYPAL_ID", "client_secret": "CHANNELHUB_TEST_PAYPAL_SECRET"}
START = "2026-01-01T00:00:00Z"


def world_with_transactions(n: int, seed: int = 7) -> World:
    """A World whose PayPal account lists exactly ``n`` transactions (orders cut after enough of them):
    every order paid at checkout is paid with PayPal."""
    world = World(WorldSpec(seed=seed, orders=n + 50, paypal_share=1.0))
    orders, account = world.orders, PaypalSandbox(world, CLIENT_ID, SECRET)
    for cut in range(1, len(orders) + 1):
        world.orders = orders[:cut]
        if len(account.ledger()) >= n:
            if len(account.ledger()) == n:
                return world
            break
    return world_with_transactions(n, seed + 1)  # this seed steps over n (a payment and its refund at once)


def add_transactions(world: World, n: int) -> None:
    """At least ``n`` new PayPal transactions (payments and their refunds), all initiated in one new second."""
    at, added = world.tick(), 0
    while added < n:
        for order in world.add_orders(n - added):
            order.created_at = order.updated_at = at
            for refund in order.refunds:
                refund.created_at = at
            if order.charges:
                paid_with_paypal(order)
                added += 1 + len(order.refunds)


class PaypalEnv(WorldSandboxEnv):
    primary_stream = "transactions"
    primary_key = "transaction_id"
    fault_path = "/v1/reporting/transactions"
    connector = "paypal"
    marts = "+fct_payments +fct_refunds +fct_payouts"
    environment: ClassVar[dict[str, str]] = {SECRETS["client_id"]: CLIENT_ID, SECRETS["client_secret"]: SECRET}

    def __init__(self, tmp_path: Path, records: int, page_size: int, **settings: Any) -> None:
        self.world = world_with_transactions(records)
        self.sandbox = PaypalSandbox(self.world, CLIENT_ID, SECRET, rate_limit=None)
        self.account = ACCOUNT
        self.configure(tmp_path, {"base_url": self.sandbox.serve(), "start_date": START, "page_size": page_size,
                                  "timeout_seconds": 10, **settings}, SECRETS)

    def source_count(self) -> int:
        return len(self.sandbox.ledger())

    def change(self, fraction: float) -> int:
        before = self.source_count()
        add_transactions(self.world, max(1, round(before * fraction)))
        return self.source_count() - before

    def share_cursor_value(self, n: int) -> None:
        add_transactions(self.world, n)


class PaypalMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: PaypalEnv) -> None:
        """Every PayPal payment is a payment with PayPal's gross, fee and net to the cent per currency,
        linked to its shop order; every refund a refund of its payment."""
        expected: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
        refunds: dict[str, Decimal] = {}
        orders: dict[str, str] = {}
        for _, txn in env.sandbox.transactions():
            info = txn["transaction_info"]
            amount = Decimal(info["transaction_amount"]["value"])
            if info["transaction_event_code"] == "T0006":
                fee = -Decimal(info["fee_amount"]["value"])
                sums = expected[info["transaction_amount"]["currency_code"]]
                sums[0], sums[1], sums[2] = sums[0] + amount, sums[1] + fee, sums[2] + amount - fee
                orders[info["transaction_id"]] = f"{info['custom_field']}:{info['invoice_id']}"
            elif info["transaction_event_code"] == "T1107":
                refunds[info["transaction_id"]] = -amount
        rows = env.rows("select currency, sum(amount_captured), sum(fee_amount), sum(net_amount) from marts.fct_payments "
                        f"where channel_id = '{env.account}' and provider = 'paypal' group by currency")
        assert {currency: [gross, fees, nets] for currency, gross, fees, nets in rows} == expected
        linked = dict(env.rows(f"select payment_id, order_id from intermediate.int_paypal__payments "
                               f"where channel_id = '{env.account}'"))
        assert linked == orders
        assert orders and all(order_id.split(":")[0] in ("shop_us", "shop_eu") for order_id in orders.values())
        assert dict(env.rows("select refund_id, amount from marts.fct_refunds where provider = 'paypal' "
                             "and status = 'succeeded'")) == refunds
        self.check_settlement(env)

    @staticmethod
    def check_settlement(env: PaypalEnv) -> None:
        """Each withdrawal is a payout settling what was initiated since the previous one of its currency:
        every payout balances to the cent but the one the sandbox took an unlisted fee from, short by it;
        what came after the last withdrawal waits for the next."""
        infos = [txn["transaction_info"] for _, txn in env.sandbox.transactions()]
        withdrawals = {info["transaction_id"]: -Decimal(info["transaction_amount"]["value"])
                       for info in infos if info["transaction_event_code"] == "T0400"}
        payouts = {payout_id: (amount, difference) for payout_id, amount, difference in env.rows(
            "select payout_id, amount, difference from marts.fct_payouts where provider = 'paypal'")}
        assert {payout_id: amount for payout_id, (amount, _) in payouts.items()} == withdrawals
        assert env.sandbox.withdrawal_fees and len(withdrawals) > 1
        assert {payout_id: -difference for payout_id, (_, difference) in payouts.items() if difference} == \
            env.sandbox.withdrawal_fees
        last = max(when for when, txn in env.sandbox.transactions()
                   if txn["transaction_info"]["transaction_event_code"] == "T0400")
        unswept = env.rows("select count(*) from marts.fct_payments where provider = 'paypal' and is_captured "
                           f"and payout_id is null and created_at < '{last.isoformat()}'")
        assert unswept == [(0,)]  # everything before the last withdrawal was swept by one


class TestPaypalContract(PaypalMarts, ConnectorContract):
    env_class = PaypalEnv
    records = 250


class TestPaypalOnPostgres(PaypalMarts, PostgresParity):
    env_class = PaypalEnv
    records = 250


# -- PayPal specifics -------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for name, value in PaypalEnv.environment.items():
        monkeypatch.setenv(name, value)
    running = PaypalEnv(tmp_path, 60, 20)
    yield running
    running.close()


def test_the_official_sdk_searches_transactions_on_the_sandbox(env: PaypalEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """paypal-server-sdk (PayPal's own client) trades its client credentials and pages a transaction
    search; a range over 31 days is PayPal's INVALID_REQUEST."""
    monkeypatch.setitem(Configuration.environments, Environment.SANDBOX, {Server.DEFAULT: env.sandbox.base_url})
    client = PaypalServersdkClient(environment=Environment.SANDBOX, client_credentials_auth_credentials=(
        ClientCredentialsAuthCredentials(o_auth_client_id=CLIENT_ID, o_auth_client_secret=SECRET)))
    search = client.transaction_search
    window = {"start_date": "2026-01-01T00:00:00-0700", "end_date": "2026-01-31T23:59:59-0700", "fields": "all",
              "page_size": 5}
    first = search.search_transactions({**window, "page": 1}).body
    ids = [detail.transaction_info.transaction_id for page in range(1, first.total_pages + 1)
           for detail in search.search_transactions({**window, "page": page}).body.transaction_details]
    start, end = datetime(2026, 1, 1, 7, tzinfo=UTC), datetime(2026, 2, 1, 6, 59, 59, tzinfo=UTC)
    expected = [txn["transaction_info"]["transaction_id"] for when, txn in env.sandbox.transactions()
                if start <= when <= end]
    assert ids == expected and first.total_items == len(expected) > 5
    assert env.sandbox.tokens.issued == 1  # one token for every page
    with pytest.raises(SearchErrorException) as refused:
        search.search_transactions({**window, "end_date": "2026-03-01T00:00:00-0700"})
    assert (refused.value.response_code, refused.value.name) == (400, "INVALID_REQUEST")
    assert refused.value.details[0].field == "end_date"


def test_windows_are_31_days_at_most_and_the_next_run_rereads_the_3_hour_delay(env: PaypalEnv) -> None:
    run_account(env.config, ACCOUNT)
    spans = [(datetime.fromisoformat(args["start_date"]), datetime.fromisoformat(args["end_date"]))
             for args in env.sandbox.log]
    assert all(high - low <= timedelta(days=31) for low, high in spans)
    assert min(low for low, _ in spans) == datetime.fromisoformat(START)
    assert all(args["fields"] == "all" and args["page_size"] == "20" for args in env.sandbox.log)
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.transactions") == [(60,)]
    newest = max(when for when, _ in env.sandbox.transactions())
    env.sandbox.log.clear()
    # a payment made an hour ago is not listed yet: PayPal shows it three hours after
    recent = next(order for order in iter(lambda: env.world.add_orders(1)[0], None) if order.charges)
    recent.created_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    recent.refunds.clear()
    paid_with_paypal(recent)
    run_account(env.config, ACCOUNT)
    # windows are read several at once: the earliest one starts three hours before the newest loaded
    assert min(datetime.fromisoformat(args["start_date"]) for args in env.sandbox.log) == newest - timedelta(hours=3)
    payment = recent.paypal[0].id
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.transactions where transaction_id = '{payment}'") == [(0,)]
    env.sandbox.clock = lambda: datetime.now(UTC) + timedelta(hours=3)  # three hours later
    run_account(env.config, ACCOUNT)
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.transactions where transaction_id = '{payment}'") == [(1,)]


def test_an_expired_token_is_traded_again_and_a_wrong_secret_fails_saying_so(
        env: PaypalEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    run_account(env.config, ACCOUNT)
    issued = env.sandbox.tokens.issued
    env.sandbox.expire_tokens()
    add_transactions(env.world, 3)
    run_account(env.config, ACCOUNT)
    assert env.sandbox.tokens.issued > issued
    assert env.rows(f"select count(*) from raw_{ACCOUNT}.transactions")[0][0] == env.source_count()
    monkeypatch.setenv(SECRETS["client_secret"], "EwrongSecretValue9876")
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    assert "invalid_client" in str(failure.value) and "wrongSecret" not in str(failure.value)
    result = env.config.account(ACCOUNT).connector.check(env.config.account(ACCOUNT))
    assert not result.ok and "invalid_client" in result.detail and "wrongSecret" not in result.detail


def test_paypals_errors_fail_the_run_saying_what_paypal_said(env: PaypalEnv) -> None:
    """A window holding too many transactions, and a rate limit that does not lift (after the policy's
    attempts), fail with PayPal's name, message and debug_id."""
    env.sandbox.max_results = 10
    with pytest.raises(RunFailed) as failure:
        run_account(env.config, ACCOUNT)
    message = str(failure.value)
    assert "RESULTSET_TOO_LARGE" in message and "window_days" in message and "debug_id" in message
    env.sandbox.max_results = 10_000
    env.inject("rate_limit", 1_000)
    with pytest.raises(RunFailed, match="HTTP 429 RATE_LIMIT_REACHED"):
        run_account(env.config, ACCOUNT)


def test_a_transaction_with_a_bad_amount_is_quarantined_naming_it_and_the_rest_loads(
        env: PaypalEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = next(o for o in env.world.orders if o.paypal).paypal[0].id
    render = PaypalSandbox.payment

    def corrupt(self: PaypalSandbox, *args: Any) -> dict[str, Any]:
        body = render(self, *args)
        if body["transaction_info"]["transaction_id"] == bad:
            body["transaction_info"]["fee_amount"]["value"] = "1,23"
        return body

    monkeypatch.setattr(PaypalSandbox, "payment", corrupt)
    report = run_account(env.config, ACCOUNT)
    assert report.quarantined == {"transactions": 1}
    [(record, field, reason)] = env.rows(
        f"select record_key, field, reason from ops.quarantine where run_id = '{report.run_id}'")
    assert (record, field) == (bad, "fee_amount") and "1,23" in reason
    assert report.rows["transactions"] == env.source_count() - 1


@pytest.mark.parametrize(("change", "field"), [
    ({"transaction_id": None}, "transaction_id"), ({"transaction_initiation_date": "yesterday"},
                                                   "transaction_initiation_date"),
    ({"transaction_amount": {"currency_code": "USD", "value": 12.5}}, "transaction_amount"),
    ({"fee_amount": {"value": "-1.00"}}, "fee_amount"),
    ({"transaction_amount": {"currency_code": "USD", "value": "NaN"}}, "transaction_amount")])
def test_to_record_rejects_bad_fields(change: dict[str, Any], field: str) -> None:
    info = {"transaction_id": "5TY05013RG002845M", "transaction_event_code": "T0006",
            "transaction_initiation_date": "2024-05-01T10:00:00-0700",
            "transaction_amount": {"currency_code": "USD", "value": "465.00"}} | change
    with pytest.raises(SourceDataError) as failure:
        to_record("acct", {"transaction_info": info})
    assert failure.value.field == field and failure.value.stream == "transactions"


def test_to_record_makes_times_utc_and_money_exact() -> None:
    row = to_record("acct", {"transaction_info": {
        "transaction_id": "5TY05013RG002845M", "transaction_initiation_date": "2024-05-01T10:00:00-0700",
        "transaction_amount": {"currency_code": "JPY", "value": "4650"},
        "fee_amount": {"currency_code": "JPY", "value": "-179"}}, "payer_info": {}, "cart_info": {"item_details": []}})
    assert row["transaction_initiation_date"] == datetime(2024, 5, 1, 17, tzinfo=UTC)
    assert row["transaction_amount"] == {"currency_code": "JPY", "value": Decimal(4650)}
    assert row["fee_amount"]["value"] == Decimal(-179) and "payer_info" not in row
