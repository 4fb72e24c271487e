"""Fidelity of the Stripe sandbox to the documented API: list contract, filters, auth, errors, rate
limit, idempotency, and objects that agree with the World and with each other."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe

from sandbox.stripe import DEFAULT_API_KEY, StripeSandbox, unix
from sandbox.world import World, WorldSpec


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldSpec(seed=3, orders=600))


@pytest.fixture
def sandbox(world: World) -> Iterator[StripeSandbox]:
    with StripeSandbox(world, rate_limit=None) as running:
        yield running


@pytest.fixture
def api(sandbox: StripeSandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEFAULT_API_KEY}"
    return session


def get(api: requests.Session, sandbox: StripeSandbox, path: str, **params: Any) -> requests.Response:
    return api.get(f"{sandbox.base_url}{path}", params=params)


def list_all(api: requests.Session, sandbox: StripeSandbox, kind: str, **params: Any) -> list[dict]:
    objects: list[dict] = []
    while True:
        page = get(api, sandbox, f"/v1/{kind}", limit=100, **params).json()
        objects += page["data"]
        if not page["has_more"]:
            return objects
        params["starting_after"] = page["data"][-1]["id"]


@pytest.mark.parametrize("kind", ["charges", "payment_intents", "refunds", "balance_transactions", "payouts",
                                  "customers"])
def test_lists_are_newest_first_with_ties_broken_by_id(api, sandbox, kind: str) -> None:
    objects = list_all(api, sandbox, kind)
    keys = [(o["created"], o["id"]) for o in objects]
    assert objects and keys == sorted(keys, reverse=True)
    assert len({o["id"] for o in objects}) == len(objects)
    if kind == "payouts":  # one payout per currency per day: same created, ordered by id
        assert len({o["created"] for o in objects}) < len(objects)


def test_pages_cover_every_charge_once(api, sandbox) -> None:
    charges = list_all(api, sandbox, "charges")
    expected = {cid for o in sandbox.world.orders for cid in o.charge_ids if o.created_at <= sandbox.world.now}
    assert {c["id"] for c in charges} == expected


def test_list_envelope_default_limit_and_ending_before(api, sandbox) -> None:
    first = get(api, sandbox, "/v1/charges").json()
    assert (first["object"], first["url"], first["has_more"], len(first["data"])) == ("list", "/v1/charges", True, 10)
    second = get(api, sandbox, "/v1/charges", limit=10, starting_after=first["data"][-1]["id"]).json()
    back = get(api, sandbox, "/v1/charges", limit=10, ending_before=second["data"][0]["id"]).json()
    assert back["data"] == first["data"] and back["has_more"] is False
    partial = get(api, sandbox, "/v1/charges", limit=3, ending_before=second["data"][0]["id"]).json()
    assert partial["data"] == first["data"][-3:] and partial["has_more"] is True


@pytest.mark.parametrize("op", ["gte", "gt", "lte", "lt", "exact"])
def test_created_filters_match_a_brute_force_scan(api, sandbox, op: str) -> None:
    everything = list_all(api, sandbox, "charges")
    pivot = everything[len(everything) // 2]["created"]
    name = "created" if op == "exact" else f"created[{op}]"
    got = list_all(api, sandbox, "charges", **{name: pivot})
    test = {"gte": pivot.__le__, "gt": pivot.__lt__, "lte": pivot.__ge__, "lt": pivot.__gt__, "exact": pivot.__eq__}[op]
    assert got == [c for c in everything if test(c["created"])] and got


def test_combined_range_and_equality_filters(api, sandbox) -> None:
    txns = list_all(api, sandbox, "balance_transactions")
    lo, hi = txns[-1]["created"] + 86_400 * 30, txns[0]["created"] - 86_400 * 30
    got = list_all(api, sandbox, "balance_transactions", type="payout", **{"created[gte]": lo, "created[lt]": hi})
    assert got == [t for t in txns if t["type"] == "payout" and lo <= t["created"] < hi] and got
    refund = get(api, sandbox, "/v1/refunds", limit=1).json()["data"][0]
    by_charge = get(api, sandbox, "/v1/refunds", charge=refund["charge"]).json()["data"]
    assert refund in by_charge and {r["charge"] for r in by_charge} == {refund["charge"]}


@pytest.mark.parametrize(("params", "status", "param", "code"), [
    ({"limit": 0}, 400, "limit", None), ({"limit": 101}, 400, "limit", None), ({"limit": "ten"}, 400, "limit", None),
    ({"starting_after": "ch_x", "ending_before": "ch_y"}, 400, "ending_before", None),
    ({"starting_after": "ch_nope"}, 404, "starting_after", "resource_missing"),
    ({"colour": "red"}, 400, "colour", None), ({"created[gte]": "yesterday"}, 400, "created[gte]", None),
])
def test_bad_list_parameters_answer_stripe_errors(api, sandbox, params, status, param, code) -> None:
    response = get(api, sandbox, "/v1/charges", **params)
    error = response.json()["error"]
    assert response.status_code == status
    assert (error["type"], error["param"], error.get("code")) == ("invalid_request_error", param, code)
    assert error["message"] and response.headers["Request-Id"].startswith("req_")
    if code:
        assert error["doc_url"] == "https://stripe.com/docs/error-codes/resource-missing"


def test_retrieve_and_missing_object(api, sandbox) -> None:
    charge = get(api, sandbox, "/v1/charges", limit=1).json()["data"][0]
    assert get(api, sandbox, f"/v1/charges/{charge['id']}").json() == charge
    missing = get(api, sandbox, "/v1/charges/ch_missing")
    assert missing.status_code == 404
    assert missing.json()["error"] | {"doc_url": None} == {
        "type": "invalid_request_error", "code": "resource_missing", "param": "id",
        "message": "No such charge: 'ch_missing'", "doc_url": None}
    assert get(api, sandbox, "/v1/widgets").status_code == 404


def test_auth_bearer_basic_and_rejections(sandbox) -> None:
    url = f"{sandbox.base_url}/v1/account"
    assert requests.get(url, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).json()["object"] == "account"
    assert requests.get(url, auth=(DEFAULT_API_KEY, "")).status_code == 200
    wrong = requests.get(url, headers={"Authorization": "Bearer sk_test_0000000000004321", "Stripe-Version": "2024-06-20"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": {"type": "invalid_request_error",
                                      "message": "Invalid API Key provided: sk_test_****4321"}}
    assert wrong.headers["Stripe-Version"] == "2024-06-20"
    anonymous = requests.get(url)
    assert anonymous.status_code == 401 and "You did not provide an API key" in anonymous.json()["error"]["message"]
    other = requests.get(f"{sandbox.base_url}/v1/accounts/acct_other", auth=(DEFAULT_API_KEY, ""))
    assert other.status_code == 403 and other.json()["error"]["code"] == "account_invalid"


def test_token_bucket_answers_429_past_25_requests_per_second(world: World) -> None:
    with StripeSandbox(world) as throttled:
        session = requests.Session()
        statuses = [session.get(f"{throttled.base_url}/v1/account", auth=(DEFAULT_API_KEY, "")).status_code
                    for _ in range(100)]  # far past the burst, however slow the machine
        limited = session.get(f"{throttled.base_url}/v1/account", auth=(DEFAULT_API_KEY, ""))
    assert statuses.count(429) >= 5 and statuses[:20] == [200] * 20
    if limited.status_code == 429:
        assert limited.json()["error"]["code"] == "rate_limit"
    assert throttled.stats.faults_served["throttled"] == statuses.count(429) + (limited.status_code == 429)


def test_fault_switches_use_stripe_bodies(api, sandbox) -> None:
    sandbox.faults.rate_limit, sandbox.faults.server_error = 1, 1
    limited, failed = get(api, sandbox, "/v1/charges"), get(api, sandbox, "/v1/charges")
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "invalid_request_error" and limited.json()["error"]["code"] == "rate_limit"
    assert failed.status_code == 500 and failed.json()["error"]["type"] == "api_error"
    assert get(api, sandbox, "/v1/charges").status_code == 200


def test_idempotent_refund_replays_and_rejects_other_parameters(api, world) -> None:
    with StripeSandbox(World(WorldSpec(seed=5, orders=50)), rate_limit=None) as sandbox:
        charge = next(c for c in list_all(api, sandbox, "charges") if c["amount_refunded"] == 0)
        url, form = f"{sandbox.base_url}/v1/refunds", {"charge": charge["id"], "amount": 150, "metadata[ticket]": "T-1"}
        invalid = api.post(url, data={**form, "colour": "red"}, headers={"Idempotency-Key": "k1"})
        assert invalid.status_code == 400  # failed validation is not stored against the key
        first = api.post(url, data=form, headers={"Idempotency-Key": "k1"})
        replay = api.post(url, data=form, headers={"Idempotency-Key": "k1"})
        assert first.status_code == replay.status_code == 200
        assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
        assert first.json()["metadata"]["ticket"] == "T-1" and first.json()["charge"] == charge["id"]
        other = api.post(url, data={**form, "amount": 151}, headers={"Idempotency-Key": "k1"})
        assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
        assert get(api, sandbox, f"/v1/charges/{charge['id']}").json()["amount_refunded"] == 150
        refunds = get(api, sandbox, "/v1/refunds", charge=charge["id"]).json()["data"]
        assert [r["id"] for r in refunds] == [first.json()["id"]]
        too_much = api.post(url, data={"charge": charge["id"], "amount": charge["amount"]}, headers={"Idempotency-Key": "k2"})
        assert too_much.status_code == 400 and too_much.json()["error"]["param"] == "amount"
        again = api.post(url, data={"charge": charge["id"], "amount": charge["amount"]}, headers={"Idempotency-Key": "k2"})
        assert again.json() == too_much.json() and again.headers["Idempotent-Replayed"] == "true"


def test_objects_agree_with_the_world_and_each_other(api, sandbox) -> None:
    made = {charge.id: (order, charge) for order in sandbox.world.orders for charge in order.charges}
    charges = list_all(api, sandbox, "charges")
    intents = {p["id"]: p for p in list_all(api, sandbox, "payment_intents")}
    txns = {t["id"]: t for t in list_all(api, sandbox, "balance_transactions")}
    refunds = list_all(api, sandbox, "refunds")
    by_id = {charge["id"]: charge for charge in charges}
    for charge in charges:
        order, world_charge = made[charge["id"]]
        amount = order.paid(order.total) if world_charge.amount is None else world_charge.amount
        currency = world_charge.currency or order.paid_currency
        assert charge["amount"] == int(amount * 100) and charge["currency"] == currency.lower()
        metadata = {"order_id": str(order.id), "shop": order.shop, "order_number": str(order.number)}
        assert charge["metadata"] == (metadata if world_charge.order_linked else {})
        assert charge["amount_refunded"] == sum(r["amount"] for r in refunds if r["charge"] == charge["id"])
        assert charge["refunded"] == (charge["amount_refunded"] == charge["amount"])
        assert intents[charge["payment_intent"]]["latest_charge"] == charge["id"]
        assert intents[charge["payment_intent"]]["metadata"] == charge["metadata"]
        if world_charge.failed:  # declined: nothing captured, no money moved
            assert (charge["status"], charge["amount_captured"], charge["balance_transaction"]) == ("failed", 0, None)
            continue
        txn = txns[charge["balance_transaction"]]
        assert (txn["source"], txn["amount"], txn["net"]) == (charge["id"], charge["amount"], charge["amount"] - txn["fee"])
    assert all(r["metadata"] == by_id[r["charge"]]["metadata"] for r in refunds)
    nets: dict[tuple[int, str], int] = defaultdict(int)
    for txn in txns.values():
        if txn["type"] != "payout":
            nets[(txn["available_on"], txn["currency"])] += txn["net"]
    payouts = list_all(api, sandbox, "payouts")
    assert payouts and all(p["amount"] == nets[(p["created"], p["currency"])] for p in payouts)
    paid_by = {c["customer"] for c in charges}
    assert {c["id"] for c in list_all(api, sandbox, "customers")} == paid_by


def test_the_index_is_built_once_per_world_state(api, sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    build = sandbox._build_index
    monkeypatch.setattr(sandbox, "_build_index", lambda: builds.append(1) or build())
    sandbox.invalidate()
    list_all(api, sandbox, "charges")
    list_all(api, sandbox, "refunds")
    assert len(builds) == 1
    sandbox.world.tick()
    get(api, sandbox, "/v1/charges")
    assert len(builds) == 2


def test_planted_payments_look_as_stripe_would_show_them(api, sandbox) -> None:
    world = sandbox.world
    charges = list_all(api, sandbox, "charges")
    refunds = list_all(api, sandbox, "refunds")
    by_order: dict[str, list[dict]] = defaultdict(list)
    for charge in charges:
        by_order[f"{charge['metadata'].get('shop')}:{charge['metadata'].get('order_id')}"].append(charge)
    orders = {f"{o.shop}:{o.id}": o for o in world.orders}
    assert all(key not in by_order for key in world.planted["unpaid"])
    for key in world.planted["underpaid"]:
        assert [c["amount"] < int(orders[key].total * 100) for c in by_order[key]] == [True]
    for key in world.planted["overpaid"]:
        assert [c["amount"] for c in by_order[key]] == [int(orders[key].total * 100)] * 2
    refunded = {f"{r['metadata'].get('shop')}:{r['metadata'].get('order_id')}" for r in refunds}
    shop_only = {key for key in world.planted["refund_mismatch"] if orders[key].refunds}
    assert shop_only and not shop_only & refunded
    assert world.planted["refund_mismatch"] - shop_only <= refunded
    orphans = [get(api, sandbox, f"/v1/charges/{charge_id}").json()
               for charge_id in world.planted["payment_without_order"]]
    assert orphans and all(c["metadata"] == {} and c["description"] is None for c in orphans)
    declined = [get(api, sandbox, f"/v1/charges/{charge_id}").json()
                for charge_id in world.planted["failed_without_order"]]
    assert declined and all((c["status"], c["paid"], c["metadata"]) == ("failed", False, {}) for c in declined)
    for key in world.planted["disputed"]:
        assert [c["disputed"] for c in by_order[key]] == [True]
    for key in world.planted["currency_mismatch"]:  # the total's number, in another currency
        [charge] = by_order[key]
        assert charge["currency"] != orders[key].currency.lower() and charge["amount"] == int(orders[key].total * 100)
    for key in world.planted["paid_in_presentment"]:
        [charge] = by_order[key]
        order = orders[key]
        assert charge["currency"] == order.presentment_currency.lower() != order.currency.lower()
        assert charge["amount"] == int(order.paid(order.total) * 100)
        assert charge["amount_refunded"] == int(order.paid(order.refunded) * 100) > 0
    for kind in ("paid_outside_provider", "excluded"):
        assert world.planted[kind] and not world.planted[kind] & set(by_order)


def test_refunds_land_on_the_charge_named_and_only_linked_ones_reach_the_shop(api) -> None:
    world = World(WorldSpec(seed=5, orders=300))
    with StripeSandbox(world, rate_limit=None) as sandbox:
        url = f"{sandbox.base_url}/v1/refunds"
        orphan_id = next(iter(world.planted["payment_without_order"]))
        host = next(o for o in world.orders if orphan_id in o.charge_ids)
        before = (list(host.refunds), host.financial_status)
        refund = api.post(url, data={"charge": orphan_id, "amount": 100}).json()
        assert (refund["charge"], refund["metadata"]) == (orphan_id, {})
        assert (host.refunds, host.financial_status) == before  # no shop hears of it
        assert get(api, sandbox, f"/v1/charges/{orphan_id}").json()["amount_refunded"] == 100
        assert get(api, sandbox, f"/v1/charges/{host.charge_ids[0]}").json()["amount_refunded"] == 0

        doubled = next(o for o in world.orders if f"{o.shop}:{o.id}" in world.planted["overpaid"])
        first, second = doubled.charge_ids
        refund = api.post(url, data={"charge": second}).json()
        assert refund["charge"] == second and refund["metadata"]["order_id"] == str(doubled.id)
        assert get(api, sandbox, f"/v1/charges/{second}").json()["refunded"] is True
        assert get(api, sandbox, f"/v1/charges/{first}").json()["amount_refunded"] == 0
        assert doubled.financial_status == "refunded" and doubled.refunded == doubled.total


# -- the official client (stripe) pointed at the sandbox ---------------------------------------------------
def official(sandbox: StripeSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": sandbox.base_url}, max_network_retries=0)


def test_client_follows_events_newest_first_with_objects_as_they_were(sandbox) -> None:
    client = official(sandbox)
    events = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    keys = [(e.created, e.id) for e in events]
    assert events and keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"evt_[0-9A-Za-z]{24}", e.id) and e.object == "event" for e in events)
    oldest = unix(sandbox.world.now) - 30 * 86_400
    captured = {c.id for o in sandbox.world.orders for c in o.charges if oldest <= unix(o.created_at) <= unix(sandbox.world.now)}
    succeeded = [e.data.object for e in events if e.type == "charge.succeeded"]
    assert {c.id for c in succeeded} == captured and all(c.amount_refunded == 0 for c in succeeded)
    refunded = [e for e in events if e.type == "charge.refunded"]
    assert refunded and {e.type for e in events} == {"charge.succeeded", "payment_intent.succeeded",
                                                      "refund.created", "charge.refunded"}
    latest: dict[str, Any] = {}
    for event in reversed(refunded):  # oldest first: each refund adds to what the one before left
        charge = event.data.object
        assert event.data.previous_attributes.amount_refunded == latest.get(charge.id, event.data.previous_attributes.amount_refunded)
        assert charge.amount_refunded > event.data.previous_attributes.amount_refunded
        latest[charge.id] = charge.amount_refunded
    for charge_id, amount_refunded in latest.items():
        assert client.v1.charges.retrieve(charge_id).amount_refunded == amount_refunded
    assert client.v1.events.retrieve(events[0].id).to_dict() == events[0].to_dict()


def test_event_filters_by_type_wildcard_list_and_created(api, sandbox) -> None:
    client = official(sandbox)
    everything = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    charge_events = list(client.v1.events.list({"type": "charge.*", "limit": 100}).auto_paging_iter())
    assert [e.id for e in charge_events] == [e.id for e in everything if e.type.startswith("charge.")]
    listed = list(client.v1.events.list({"types": ["refund.created", "charge.refunded"]}).auto_paging_iter())
    assert [e.id for e in listed] == [e.id for e in everything if e.type in ("refund.created", "charge.refunded")]
    pivot = everything[len(everything) // 2].created
    recent = list(client.v1.events.list({"created": {"gte": pivot}, "type": "charge.succeeded"}).auto_paging_iter())
    assert [e.id for e in recent] == [e.id for e in everything if e.created >= pivot and e.type == "charge.succeeded"]
    assert client.v1.events.list({"delivery_success": False}).data == []  # no webhook endpoint to fail
    assert len(client.v1.events.list({"delivery_success": True, "limit": 3}).data) == 3
    both = get(api, sandbox, "/v1/events", type="charge.succeeded", **{"types[]": "refund.created"})
    assert both.status_code == 400 and both.json()["error"]["param"] == "types"


def test_a_refund_posted_later_reaches_clients_that_follow_events() -> None:
    with StripeSandbox(World(WorldSpec(seed=5, orders=50)), rate_limit=None) as sandbox:
        client = official(sandbox)
        charge = next(c for c in client.v1.charges.list({"limit": 100}).auto_paging_iter() if c.amount_refunded == 0)
        refund = client.v1.refunds.create({"charge": charge.id, "amount": 150})
        newest = client.v1.events.list({"types": ["charge.refunded", "refund.created"], "limit": 2}).data
    by_type = {e.type: e for e in newest}
    assert by_type["refund.created"].data.object.id == refund.id
    changed = by_type["charge.refunded"].data
    assert (changed.object.id, changed.object.amount_refunded, changed.previous_attributes.amount_refunded) == (
        charge.id, 150, 0)


def test_expand_fills_in_what_the_world_holds(sandbox) -> None:
    client = official(sandbox)
    charges = client.v1.charges.list({"limit": 5, "expand": ["data.customer", "data.balance_transaction"]}).data
    for charge in charges:
        assert charge.customer.to_dict() == client.v1.customers.retrieve(charge.customer.id).to_dict()
        assert (charge.balance_transaction.object, charge.balance_transaction.source) == ("balance_transaction", charge.id)
    one = client.v1.charges.retrieve(charges[0].id, {"expand": ["customer"]})
    assert one.customer.email == charges[0].customer.email and isinstance(one.balance_transaction, str)
    refund = client.v1.refunds.list({"limit": 1, "expand": ["data.charge"]}).data[0]
    assert refund.charge.object == "charge" and refund.charge.amount_refunded >= refund.amount


@pytest.mark.parametrize(("path", "params", "message"), [
    ("/v1/charges", {"expand[]": "data.colour"}, "This property cannot be expanded (data.colour)."),
    ("/v1/charges", {"expand[0]": "customer"}, ("This property cannot be expanded (customer). "
                                                "You may want to try expanding 'data.customer' instead.")),
    ("/v1/customers", {"expand[]": "data.customer"}, "This property cannot be expanded (data.customer)."),
])
def test_unknown_expand_paths_answer_stripes_400(api, sandbox, path: str, params: dict, message: str) -> None:
    response = get(api, sandbox, path, **params)
    assert response.status_code == 400
    assert response.json() == {"error": {"type": "invalid_request_error", "message": message}}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        official(sandbox).v1.charges.retrieve(list_all(api, sandbox, "charges")[0]["id"], {"expand": ["refunds.x"]})
    assert raised.value.http_status == 400 and "(refunds.x)" in raised.value.user_message


def test_connect_accounts_list_is_empty_and_the_platform_account_answers(sandbox) -> None:
    client = official(sandbox)
    accounts = client.v1.accounts.list()
    assert (accounts.object, accounts.url, accounts.has_more, accounts.data) == ("list", "/v1/accounts", False, [])
    assert client.v1.accounts.retrieve_current().id == "acct_1SandboxChannelhub"
