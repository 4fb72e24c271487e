"""The Stripe API, emulated over the shared World: the payments that settle the web shops' orders.

Each of an order's ``charges`` becomes a charge (with its payment intent and balance transaction)
whose metadata names the order, unless the World made it without order metadata; each refund Stripe
knows of (``order.refunds``, or ``order.stripe_refunds`` when the World planted a one-sided refund)
becomes a refund of its charge. Funds become available two days after capture and are paid out daily
per currency. ``world.planted`` lists the reconciliation discrepancies this produces on purpose; the
sandbox plants one of its own in the settlement (:attr:`StripeSandbox.account_fees`): a fee of the
account (Radar, Billing: balance type ``stripe_fee``), tied to no charge, taken off the first payout.

Lists follow Stripe's documented contract: newest first (ties broken by id, descending), ``limit``
1..100 (default 10), ``starting_after``/``ending_before`` cursors, ``created`` as an exact value or
``created[gt|gte|lt|lte]`` range, ``{"object": "list", ...}`` bodies, ``expand[]`` of the ids the World
can fill in (``data.customer``… on lists, ``customer``… on retrieve; arrays as ``expand[]`` or the
SDKs' ``expand[0]``). ``/v1/events`` (kept 30 days) tells what happened to each charge, with
``data.object`` as it was then, so a client following events sees later refunds, including those
posted here. Connect's ``/v1/accounts`` is empty: the merchant has no connected accounts.

The sorted object index is built once per world state and reused by every page, so listing tens of
thousands of charges costs one bisect and one slice per request. Objects dated after ``world.now``
do not exist yet. After changing the World by hand (without ``tick``), call :meth:`invalidate`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import partial
from itertools import count
from typing import Any

from iso4217 import Currency
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import PLANT_MIN_ORDERS, Customer, Order, Refund, World
from .world.catalog import quantum

API_VERSION = "2024-06-20"
DEFAULT_API_KEY = "sk_test_51SandboxChannelhub0000000000001234"
ACCOUNT_ID = "acct_1SandboxChannelhub"
DOC_URL = "https://stripe.com/docs/error-codes/"
DAY = 86_400
ACCOUNT_FEE = 150  # minor units: the account fee (a month of Radar, say) planted in the first payout
TEST_MODE_RATE = 25.0  # requests per second allowed to a test-mode key
EVENT_RETENTION = 30 * DAY  # events older than this are gone from /v1/events
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "created", "expand"})
# Extra equality filters each list endpoint documents (matched against the rendered object).
LIST_FILTERS: dict[str, frozenset[str]] = {
    "charges": frozenset({"customer", "payment_intent", "transfer_group"}),
    "payment_intents": frozenset({"customer"}),
    "refunds": frozenset({"charge", "payment_intent"}),
    "balance_transactions": frozenset({"currency", "payout", "source", "type"}),
    "payouts": frozenset({"arrival_date", "destination", "status"}),
    "customers": frozenset({"email"}),
    "events": frozenset({"type", "types", "delivery_success"}),
}
SINGULAR = {"charges": "charge", "payment_intents": "payment_intent", "refunds": "refund",
            "balance_transactions": "balance_transaction", "payouts": "payout", "customers": "customer",
            "events": "event"}
# The fields each object can expand, and the list their ids come from (what the World can fill in).
EXPANDABLE: dict[str, dict[str, str]] = {
    "charges": {"customer": "customers", "balance_transaction": "balance_transactions",
                "payment_intent": "payment_intents"},
    "payment_intents": {"customer": "customers", "latest_charge": "charges"},
    "refunds": {"charge": "charges", "balance_transaction": "balance_transactions",
                "payment_intent": "payment_intents"},
    "payouts": {"balance_transaction": "balance_transactions"},
}
KINDS = "any(charges,payment_intents,refunds,balance_transactions,payouts,customers,events)"
REFUND_PARAMS = frozenset({"charge", "payment_intent", "amount", "reason", "metadata"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def stripe_error(status: int, message: str, *, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """An error in Stripe's envelope; ``doc_url`` only accompanies a ``code``, as on the real API."""
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
        error["doc_url"] = DOC_URL + code.replace("_", "-")
    if param:
        error["param"] = param
    return json_response({"error": error}, status, headers)


class StripeError(Exception):
    """Raised inside a handler; :meth:`StripeSandbox.dispatch` turns it into :func:`stripe_error`."""

    def __init__(self, status: int, message: str, **kwargs: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.kwargs = status, message, kwargs

    def response(self) -> Response:
        return stripe_error(self.status, self.message, **self.kwargs)


def array_param(args: MultiDict, name: str) -> list[str]:
    """A Stripe array as sent: ``name[]=a&name[]=b`` (curl, the docs) or ``name[0]=a`` (the SDKs)."""
    return [value for key, value in args.items(multi=True) if re.fullmatch(rf"{name}\[\d*\]", key)]


def stripe_id(prefix: str, *parts: object) -> str:
    """A deterministic id shaped like Stripe's (``evt_`` + 24 base-62 characters)."""
    number = int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:18])
    chars = []
    for _ in range(24):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return prefix + "".join(chars)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def exponent(currency: str) -> int:
    """Digits of the currency's minor unit, by ISO 4217 (JPY none, KWD three); Stripe's few documented
    exceptions, such as ISK, are not among the World's currencies."""
    return Currency(currency.upper()).exponent


def minor(amount: Decimal, currency: str) -> int:
    """Decimal currency units to Stripe's integer minor units."""
    return int(amount.scaleb(exponent(currency)).to_integral_value())


def card_fee(amount: int) -> int:
    """2.9% + 30 minor units, rounded half up, like Stripe's standard card pricing."""
    return (amount * 29 + 500) // 1000 + 30


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed object: what sorting and filtering need, and how to render it on demand."""

    created: int
    id: str
    render: Callable[[], dict[str, Any]]


class Listing:
    """The objects of one list endpoint, newest first, with bisect-able ``created`` keys."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.created, e.id), reverse=True)
        self.neg_created = [-e.created for e in self.entries]  # ascending, for bisect
        self.position = {e.id: i for i, e in enumerate(self.entries)}

    def created_bounds(self, created: dict[str, int]) -> tuple[int, int]:
        """Index range [lo, hi) of the objects whose ``created`` satisfies every given operator."""
        lo, hi = 0, len(self.entries)
        for op, value in created.items():
            if op in ("eq", "gte", "gt"):
                hi = min(hi, (bisect_left if op == "gt" else bisect_right)(self.neg_created, -value))
            if op in ("eq", "lte", "lt"):
                lo = max(lo, (bisect_right if op == "lt" else bisect_left)(self.neg_created, -value))
        return lo, min(max(lo, hi), len(self.entries))


@dataclass(slots=True)
class _Charge:
    id: str
    order: Order
    amount: int
    refunded: int
    created: int
    order_linked: bool
    currency: str
    disputed: bool = False
    failed: bool = False

    @property
    def suffix(self) -> str:
        return self.id.removeprefix("ch_")


class StripeSandbox(HttpSandbox):
    """Stripe's REST API for the merchant's test-mode account."""

    name = "stripe"
    routes = Map([
        Rule("/v1/account", endpoint="get_account", methods=["GET"]),
        Rule("/v1/accounts/<account_id>", endpoint="get_account", methods=["GET"]),
        Rule("/v1/accounts", endpoint="list_accounts", methods=["GET"]),
        Rule("/v1/refunds", endpoint="create_refund", methods=["POST"]),
        Rule("/v1/customers/<object_id>", endpoint="delete_customer", methods=["DELETE"]),
        Rule(f"/v1/<{KINDS}:kind>", endpoint="list_objects", methods=["GET"]),
        Rule(f"/v1/<{KINDS}:kind>/<object_id>", endpoint="retrieve_object", methods=["GET"]),
    ])

    def __init__(self, world: World, api_key: str = DEFAULT_API_KEY, *,
                 rate_limit: float | None = TEST_MODE_RATE) -> None:
        super().__init__(world)
        self.api_key = api_key
        self.bucket = Bucket(rate_limit, rate_limit) if rate_limit else None  # per key, bursts up to the rate
        self.idempotency: dict[str, tuple[str, tuple, int, bytes]] = {}
        self._request_ids = count(1)
        self._writes = 0
        self._refund_details: dict[int, dict[str, Any]] = {}  # reason/metadata given to POST /v1/refunds
        self._deleted_customers: set[str] = set()  # DELETE /v1/customers/<id>: gone from lists and retrieval
        self._index: dict[str, Listing] = {}
        self._index_key: tuple = ()
        self._index_lock = threading.Lock()
        self.account_fees: dict[str, int] = {}  # payout id -> the account fee (minor units) planted in it

    # -- platform specifics ------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return stripe_error(429, "Request rate limit exceeded. Learn more about rate limits here "
                                 "https://stripe.com/docs/rate-limits.", code="rate_limit")

    def server_error(self, request: Request) -> Response:
        return stripe_error(500, "An unknown error occurred", type_="api_error")

    def not_found(self, request: Request) -> Response:
        return stripe_error(404, f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                                 "https://stripe.com/docs or we can help at https://support.stripe.com/.")

    def authenticate(self, request: Request) -> Response | None:
        key = self._presented_key(request)
        if key == self.api_key:
            return None
        if not key:
            message = ("You did not provide an API key. You need to provide your API key in the Authorization "
                       "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
        else:
            prefix = key[:8] if key.startswith(("sk_", "rk_", "pk_")) else ""
            message = f"Invalid API Key provided: {prefix}****{key[-4:]}"
        return stripe_error(401, message, headers={"WWW-Authenticate": 'Basic realm="Stripe"'})

    @staticmethod
    def _presented_key(request: Request) -> str:
        auth = request.authorization
        if auth is None:
            return ""
        if auth.type == "bearer":
            return auth.token or ""
        if auth.type == "basic":
            return auth.username or ""
        return ""

    def before_request(self, request: Request) -> Response | None:
        if self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    def after_request(self, request: Request, response: Response) -> Response:
        response.headers["Request-Id"] = f"req_{next(self._request_ids):014d}"
        response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", API_VERSION)
        return response

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except StripeError as exc:
            return self.after_request(request, exc.response())

    # -- index -------------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget the object index: the World was changed in a way ``world.now`` does not show."""
        with self._index_lock:
            self._writes += 1

    def listing(self, kind: str) -> Listing:
        key = (id(self.world.orders), len(self.world.orders), self.world.now, self._writes)
        with self._index_lock:
            if key != self._index_key:
                self._index, self._index_key = self._build_index(), key
            return self._index[kind]

    def _build_index(self) -> dict[str, Listing]:
        now = unix(self.world.now)
        entries: dict[str, list[Entry]] = defaultdict(list)
        payable: dict[tuple[int, str], list[int]] = defaultdict(list)  # (available day, currency) -> nets
        payers: dict[int, Customer] = {}
        for order in self.world.orders:
            for charge in self._charges_of(order, now):
                payers[order.customer.id] = order.customer
                entries["charges"].append(Entry(charge.created, charge.id, partial(self._charge, charge)))
                entries["payment_intents"].append(
                    Entry(charge.created, f"pi_{charge.suffix}", partial(self._payment_intent, charge)))
                if charge.failed:
                    continue  # declined: no money moved
                fee = card_fee(charge.amount)
                available = self._available_on(charge.created)
                entries["balance_transactions"].append(Entry(charge.created, f"txn_{charge.suffix}", partial(
                    self._balance_transaction, f"txn_{charge.suffix}", "charge", charge.amount, fee, charge.currency,
                    charge.id, charge.created, available, now)))
                payable[(available, charge.currency)].append(charge.amount - fee)
            self._charge_events(order, now, entries["events"])
            linked = {charge.id for charge in order.charges if charge.order_linked}
            for refund, charge_id in self._refunds_of(order, now):
                refund_id, created = f"re_{refund.id:x}", unix(refund.created_at)
                currency = self._currency_of(order, charge_id)
                amount = minor(order.paid(refund.amount), currency)
                entries["refunds"].append(Entry(created, refund_id, partial(
                    self._refund, refund, order, charge_id, charge_id in linked)))
                available = self._available_on(created)
                entries["balance_transactions"].append(Entry(created, f"txn_{refund.id:x}r", partial(
                    self._balance_transaction, f"txn_{refund.id:x}r", "refund", -amount, 0, currency,
                    refund_id, created, available, now)))
                payable[(available, currency)].append(-amount)
        self.account_fees = {}
        for (day, currency), nets in sorted(payable.items()):
            total = sum(nets)
            if day > now or total <= 0:
                continue  # not paid out yet, or a negative balance carried forward
            payout_id = f"po_{datetime.fromtimestamp(day, UTC):%Y%m%d}{currency.lower()}"
            if not self.account_fees and len(self.world.orders) >= PLANT_MIN_ORDERS and total > ACCOUNT_FEE:
                fee_id, total = f"txn_fee_{payout_id}", total - ACCOUNT_FEE
                self.account_fees[payout_id] = ACCOUNT_FEE
                entries["balance_transactions"].append(Entry(day - 3600, fee_id, partial(
                    self._balance_transaction, fee_id, "stripe_fee", -ACCOUNT_FEE, 0, currency, None, day - 3600,
                    day, now)))
            entries["payouts"].append(Entry(day, payout_id, partial(self._payout, payout_id, total, currency, day,
                                                                    now)))
            entries["balance_transactions"].append(Entry(day, f"txn_{payout_id}", partial(
                self._balance_transaction, f"txn_{payout_id}", "payout", -total, 0, currency, payout_id, day, day,
                now)))
        for customer in payers.values():
            if f"cus_{customer.id}" not in self._deleted_customers:
                entries["customers"].append(Entry(unix(customer.created_at), f"cus_{customer.id}",
                                                  partial(self._customer, customer)))
        return {kind: Listing(entries[kind]) for kind in SINGULAR}

    def _charge_events(self, order: Order, now: int, events: list[Entry]) -> None:
        """What a client following ``/v1/events`` learns of the order's charges: ``charge.succeeded``
        and ``payment_intent.succeeded`` at capture, then per refund ``refund.created`` and
        ``charge.refunded`` with the charge as that refund left it. Older than 30 days: gone."""
        def add(type_: str, created: int, object_id: str, render: Callable[[], dict[str, Any]],
                previous: dict[str, Any] | None = None) -> None:
            if created >= now - EVENT_RETENTION:
                event_id = stripe_id("evt_", type_, object_id, created)
                events.append(Entry(created, event_id, partial(self._event, event_id, type_, created, render,
                                                                previous)))

        refunds = sorted(self._refunds_of(order, now), key=lambda pair: pair[0].created_at)
        if max([unix(order.created_at), *(unix(refund.created_at) for refund, _ in refunds)]) < now - EVENT_RETENTION:
            return  # all of it older than the events kept
        charges = {charge.id: replace(charge, refunded=0) for charge in self._charges_of(order, now)}
        for charge in charges.values():
            add("charge.succeeded", charge.created, charge.id, partial(self._charge, replace(charge)))
            add("payment_intent.succeeded", charge.created, f"pi_{charge.suffix}",
                partial(self._payment_intent, charge))
        linked = {charge.id for charge in order.charges if charge.order_linked}
        for refund, charge_id in refunds:
            created, charge = unix(refund.created_at), charges[charge_id]
            add("refund.created", created, f"re_{refund.id:x}",
                partial(self._refund, refund, order, charge_id, charge_id in linked))
            before = charge.refunded
            charge.refunded = min(charge.amount, before + minor(order.paid(refund.amount), charge.currency))
            previous = {"amount_refunded": before, "refunded": before >= charge.amount}
            add("charge.refunded", created, f"re_{refund.id:x}", partial(self._charge, replace(charge)), previous)

    @classmethod
    def _charges_of(cls, order: Order, now: int) -> list[_Charge]:
        """Each charge captures its own amount (the order total unless the World says otherwise)."""
        created = unix(order.created_at)
        if not order.charges or created > now:
            return []
        refunded: dict[str, int] = defaultdict(int)
        for refund, charge_id in cls._refunds_of(order, now):
            refunded[charge_id] += minor(order.paid(refund.amount), cls._currency_of(order, charge_id))
        charges = []
        for charge in order.charges:
            currency = charge.currency or order.paid_currency
            amount = minor(order.paid(order.total) if charge.amount is None else charge.amount, currency)
            charges.append(_Charge(charge.id, order, amount, min(amount, refunded[charge.id]), created,
                                   charge.order_linked, currency, charge.disputed, charge.failed))
        return charges

    @staticmethod
    def _in_shop_currency(order: Order, amount: int, currency: str) -> Decimal:
        """A refund of ``amount`` minor units of a charge in ``currency`` as the World keeps it: in the
        shop's currency (back through the presentment rate when the customer paid in another)."""
        paid = Decimal(amount).scaleb(-exponent(currency))
        if order.presentment_currency is None:
            return paid
        return (paid / order.presentment_rate).quantize(quantum(order.currency))

    @staticmethod
    def _currency_of(order: Order, charge_id: str) -> str:
        charge = next((charge for charge in order.charges if charge.id == charge_id), None)
        return (charge and charge.currency) or order.paid_currency

    @staticmethod
    def _refunds_of(order: Order, now: int) -> list[tuple[Refund, str]]:
        """Stripe's refunds of the order with the charge each refunds (by default its first linked one)."""
        if unix(order.created_at) > now:
            return []
        first = next((charge.id for charge in order.charges if charge.order_linked), None)
        refunds = order.refunds if order.stripe_refunds is None else order.stripe_refunds
        return [(refund, refund.charge_id or first) for refund in refunds
                if (refund.charge_id or first) and unix(refund.created_at) <= now]

    @staticmethod
    def _available_on(created: int) -> int:
        """Funds settle at 00:00 UTC two days after the transaction."""
        return created - created % DAY + 2 * DAY

    # -- rendering ---------------------------------------------------------------------------------
    @staticmethod
    def _metadata(order: Order) -> dict[str, str]:
        return {"order_id": str(order.id), "shop": order.shop, "order_number": str(order.number)}

    def _charge(self, charge: _Charge) -> dict[str, Any]:
        order, customer = charge.order, charge.order.customer
        linked, ok = charge.order_linked, not charge.failed
        return {
            "id": charge.id, "object": "charge", "amount": charge.amount,
            "amount_captured": charge.amount if ok else 0, "amount_refunded": charge.refunded,
            "balance_transaction": f"txn_{charge.suffix}" if ok else None, "captured": ok,
            "created": charge.created, "currency": charge.currency.lower(), "customer": f"cus_{customer.id}",
            "description": f"{order.shop} order #{order.number}" if linked else None, "disputed": charge.disputed,
            "failure_code": None if ok else "card_declined",
            "failure_message": None if ok else "Your card was declined.",
            "livemode": False, "metadata": self._metadata(order) if linked else {}, "paid": ok,
            "payment_intent": f"pi_{charge.suffix}",
            "payment_method": f"pm_{charge.suffix}", "receipt_email": customer.email,
            "refunded": ok and charge.refunded >= charge.amount, "status": "succeeded" if ok else "failed",
            "billing_details": {"email": customer.email, "name": f"{customer.first_name} {customer.last_name}",
                                "phone": customer.phone, "address": {"country": None}},
            "outcome": {"network_status": "approved_by_network", "risk_level": "normal", "seller_message":
                        "Payment complete.", "type": "authorized"} if ok else {
                        "network_status": "declined_by_network", "reason": "generic_decline", "risk_level": "normal",
                        "seller_message": "The bank did not return any further details with this decline.",
                        "type": "issuer_declined"},
        }

    def _payment_intent(self, charge: _Charge) -> dict[str, Any]:
        order = charge.order
        return {
            "id": f"pi_{charge.suffix}", "object": "payment_intent", "amount": charge.amount,
            "amount_capturable": 0, "amount_received": 0 if charge.failed else charge.amount,
            "capture_method": "automatic", "created": charge.created, "currency": charge.currency.lower(),
            "customer": f"cus_{order.customer.id}",
            "description": f"{order.shop} order #{order.number}" if charge.order_linked else None,
            "latest_charge": charge.id, "livemode": False,
            "metadata": self._metadata(order) if charge.order_linked else {},
            "payment_method": f"pm_{charge.suffix}",
            "payment_method_types": ["card"], "status": "requires_payment_method" if charge.failed else "succeeded",
        }

    def _refund(self, refund: Refund, order: Order, charge_id: str, order_linked: bool) -> dict[str, Any]:
        details = self._refund_details.get(refund.id, {})
        metadata = self._metadata(order) if order_linked else {}
        return {
            "id": f"re_{refund.id:x}", "object": "refund",
            "amount": minor(order.paid(refund.amount), self._currency_of(order, charge_id)),
            "balance_transaction": f"txn_{refund.id:x}r", "charge": charge_id, "created": unix(refund.created_at),
            "currency": self._currency_of(order, charge_id).lower(), "metadata": {**metadata, **details.get("metadata", {})},
            "payment_intent": f"pi_{charge_id.removeprefix('ch_')}",
            "reason": details.get("reason", "requested_by_customer"),
            "status": "succeeded",
        }

    @staticmethod
    def _balance_transaction(txn_id: str, type_: str, amount: int, fee: int, currency: str, source: str,
                             created: int, available_on: int, now: int) -> dict[str, Any]:
        return {
            "id": txn_id, "object": "balance_transaction", "amount": amount, "available_on": available_on,
            "created": created, "currency": currency.lower(), "description": None, "fee": fee,
            "fee_details": [{"amount": fee, "currency": currency.lower(), "description": "Stripe processing fees",
                             "type": "stripe_fee"}] if fee else [],
            "net": amount - fee, "reporting_category": type_, "source": source,
            "status": "available" if available_on <= now else "pending", "type": type_,
        }

    @staticmethod
    def _payout(payout_id: str, amount: int, currency: str, created: int, now: int) -> dict[str, Any]:
        arrival = created + DAY
        return {
            "id": payout_id, "object": "payout", "amount": amount, "arrival_date": arrival, "automatic": True,
            "balance_transaction": f"txn_{payout_id}", "created": created, "currency": currency.lower(),
            "destination": "ba_1SandboxBankAccount", "livemode": False, "metadata": {}, "method": "standard",
            "status": "paid" if arrival <= now else "in_transit", "type": "bank_account",
        }

    @staticmethod
    def _customer(customer: Customer) -> dict[str, Any]:
        return {
            "id": f"cus_{customer.id}", "object": "customer", "balance": 0, "created": unix(customer.created_at),
            "currency": None, "delinquent": False, "description": None, "email": customer.email,
            "livemode": False, "metadata": {"customer_id": str(customer.id)},
            "name": f"{customer.first_name} {customer.last_name}", "phone": customer.phone,
        }

    @staticmethod
    def _event(event_id: str, type_: str, created: int, render: Callable[[], dict[str, Any]],
               previous: dict[str, Any] | None) -> dict[str, Any]:
        data = {"object": render(), **({"previous_attributes": previous} if previous else {})}
        return {"id": event_id, "object": "event", "api_version": API_VERSION, "created": created, "data": data,
                "livemode": False, "pending_webhooks": 0, "request": {"id": None, "idempotency_key": None},
                "type": type_}

    def _account(self) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID, "object": "account", "business_type": "company", "charges_enabled": True,
            "country": "US", "created": unix(datetime(2025, 6, 1, tzinfo=UTC)),
            "default_currency": "usd", "details_submitted": True, "email": "payments@example.com",
            "payouts_enabled": True, "type": "standard",
            "business_profile": {"name": "Channelhub Sandbox Merchant", "url": "https://example.com"},
            "settings": {"dashboard": {"display_name": "Channelhub Sandbox", "timezone": "Etc/UTC"}},
        }

    # -- endpoints ---------------------------------------------------------------------------------
    def get_account(self, request: Request, account_id: str | None = None) -> Response:
        if account_id not in (None, ACCOUNT_ID):
            raise StripeError(403, f"The provided key does not have access to account '{account_id}' (or that "
                                   "account does not exist). Application access may have been revoked.",
                              code="account_invalid")
        return json_response(self._account())

    def list_accounts(self, request: Request) -> Response:
        """Connect's connected accounts: the World's merchant has none."""
        return json_response({"object": "list", "url": "/v1/accounts", "has_more": False, "data": []})

    def delete_customer(self, request: Request, object_id: str) -> Response:
        """``DELETE /v1/customers/<id>``: Stripe's deleted object; the customer leaves lists and retrieval
        (its charges keep naming it, as Stripe's do)."""
        if object_id not in self.listing("customers").position:
            raise StripeError(404, f"No such customer: '{object_id}'", code="resource_missing", param="id")
        with self._index_lock:
            self._deleted_customers.add(object_id)
            self._writes += 1
        return json_response({"id": object_id, "object": "customer", "deleted": True})

    def retrieve_object(self, request: Request, kind: str, object_id: str) -> Response:
        expand = self._expansions(kind, request.args, prefix="")
        listing = self.listing(kind)
        position = listing.position.get(object_id)
        if position is None:
            raise StripeError(404, f"No such {SINGULAR[kind]}: '{object_id}'", code="resource_missing", param="id")
        self.count_records(kind, 1)
        return json_response(self._expand(kind, listing.entries[position].render(), expand))

    def _expansions(self, kind: str, args: MultiDict, prefix: str) -> list[str]:
        """The fields ``expand[]`` names, checked before anything is read: a path the object cannot expand
        is Stripe's 400, naming it (and, on a list, the ``data.`` path meant)."""
        fields = []
        for path in array_param(args, "expand"):
            field = path.removeprefix(prefix) if path.startswith(prefix) else None
            if field not in EXPANDABLE.get(kind, {}):
                hint = (f" You may want to try expanding '{prefix}{path}' instead."
                        if prefix and path in EXPANDABLE.get(kind, {}) else "")
                raise StripeError(400, f"This property cannot be expanded ({path}).{hint}")
            fields.append(field)
        return fields

    def _expand(self, kind: str, obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        for field in fields:
            listing = self.listing(EXPANDABLE[kind][field])
            position = listing.position.get(obj[field]) if isinstance(obj[field], str) else None
            if position is not None:
                obj[field] = listing.entries[position].render()
        return obj

    def list_objects(self, request: Request, kind: str) -> Response:
        args = request.args
        limit = self._integer(args, "limit", 10)
        if not 1 <= limit <= 100:
            raise StripeError(400, "Invalid limit: must be between 1 and 100", param="limit")
        created, filters = self._list_params(kind, args)
        expand = self._expansions(kind, args, prefix="data.")
        starting_after, ending_before = args.get("starting_after"), args.get("ending_before")
        if starting_after and ending_before:
            raise StripeError(400, "You may only specify one of these parameters: ending_before, starting_after.",
                              param="ending_before")
        listing = self.listing(kind)
        lo, hi = listing.created_bounds(created)
        entries = listing.entries
        if filters:
            entries = [e for e in entries[lo:hi] if self._matches(e, filters)]
            lo, hi = 0, len(entries)
        cursor = starting_after or ending_before
        if cursor:
            if cursor not in listing.position:
                raise StripeError(404, f"No such {SINGULAR[kind]}: '{cursor}'", code="resource_missing",
                                  param="starting_after" if starting_after else "ending_before")
            newer, older = self._split_at(entries, listing.entries[listing.position[cursor]], filtered=bool(filters),
                                          position=listing.position[cursor])
            if starting_after:
                lo = max(lo, older)
            else:
                hi = min(hi, newer)
        if ending_before:
            start = max(lo, hi - limit)
            page, has_more = entries[start:hi], start > lo
        else:
            page, has_more = entries[lo:min(lo + limit, hi)], lo + limit < hi
        self.count_records(kind, len(page))
        return json_response({"object": "list", "url": f"/v1/{kind}", "has_more": has_more,
                              "data": [self._expand(kind, entry.render(), expand) for entry in page]})

    def _list_params(self, kind: str, args: MultiDict) -> tuple[dict[str, int], dict[str, Any]]:
        created: dict[str, int] = {}
        filters: dict[str, Any] = {}
        for name in args:
            base = name.split("[", 1)[0]
            if base == "created":
                op = name[len("created["):-1] if name != "created" else "eq"
                if op not in ("eq", "gt", "gte", "lt", "lte"):
                    raise StripeError(400, f"Received unknown parameter: {name}", param=name)
                created[op] = self._integer(args, name, 0)
            elif base == "types" and kind == "events":
                filters["types"] = array_param(args, "types")
            elif base in LIST_FILTERS[kind]:
                filters[base] = args[name]
            elif base not in LIST_PARAMS:
                raise StripeError(400, f"Received unknown parameter: {name}", param=name)
        if "type" in filters and "types" in filters:
            raise StripeError(400, "You may only specify one of these parameters: type, types.", param="types")
        return created, filters

    @staticmethod
    def _integer(args: MultiDict, name: str, default: int) -> int:
        raw = args.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise StripeError(400, f"Invalid integer: {raw}", param=name) from None

    @staticmethod
    def _matches(entry: Entry, filters: dict[str, Any]) -> bool:
        """Equality on the rendered object. An event's ``type`` takes ``*`` wildcards, ``types`` any of a
        list; ``delivery_success=false`` finds none, as no webhook endpoint is configured to fail."""
        obj = entry.render()
        if entry.id.startswith("evt_"):
            typed = obj["type"] in filters["types"] if "types" in filters else fnmatchcase(obj["type"], filters.get("type", "*"))
            return typed and filters.get("delivery_success", "true") == "true"
        return all(str(obj.get(key)) == value for key, value in filters.items())

    @staticmethod
    def _split_at(entries: list[Entry], anchor: Entry, *, filtered: bool, position: int) -> tuple[int, int]:
        """(end of the entries newer than ``anchor``, start of those older). In a filtered window the
        anchor may be absent, so it is placed by its sort key instead of its index."""
        if not filtered:
            return position, position + 1
        key = (anchor.created, anchor.id)
        newer = next((i for i, e in enumerate(entries) if (e.created, e.id) <= key), len(entries))
        older = newer + 1 if newer < len(entries) and entries[newer].id == anchor.id else newer
        return newer, older

    # -- writes ------------------------------------------------------------------------------------
    def create_refund(self, request: Request) -> Response:
        """``POST /v1/refunds`` with Idempotency-Key: the first executed response is stored and replayed
        for the same key and parameters; other parameters under the same key are a 400."""
        params = request.form
        for name in params:
            if name.split("[", 1)[0] not in REFUND_PARAMS:
                raise StripeError(400, f"Received unknown parameter: {name}", param=name)
        key = request.headers.get("Idempotency-Key")
        if key is not None and len(key) > 255:
            raise StripeError(400, "Idempotency keys must be 255 characters or less.", param="Idempotency-Key")
        fingerprint = tuple(sorted(params.items(multi=True)))
        if key is not None:
            with self._lock:
                stored = self.idempotency.get(key)
            if stored is not None:
                path, stored_params, status, body = stored
                if (path, stored_params) != (request.path, fingerprint):
                    raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters "
                                           f"they were first used with. Try using a key other than '{key}' if you "
                                           "meant to execute a different request.", type_="idempotency_error")
                return Response(body, status, headers={"Idempotent-Replayed": "true"},
                                content_type="application/json; charset=utf-8")
        amount = self._integer(params, "amount", -1) if "amount" in params else None
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeError(400, f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}",
                              param="reason")
        try:
            response = self._execute_refund(params, amount)
        except StripeError as exc:
            response = exc.response()
        if key is not None:
            with self._lock:
                self.idempotency[key] = (request.path, fingerprint, response.status_code, response.get_data())
        return response

    def _execute_refund(self, params: MultiDict, amount: int | None) -> Response:
        charge_id, intent_id = params.get("charge"), params.get("payment_intent")
        if not charge_id and not intent_id:
            raise StripeError(400, "One of the following params should be provided for this request: "
                                   "payment_intent or charge.", param="charge")
        if not charge_id:
            charge_id = "ch_" + intent_id.removeprefix("pi_")
        listing = self.listing("charges")
        position = listing.position.get(charge_id)
        if position is None:
            param = "charge" if params.get("charge") else "payment_intent"
            raise StripeError(404, f"No such {param}: '{params.get(param)}'", code="resource_missing", param=param)
        charge = listing.entries[position].render()
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeError(400, f"Charge {charge_id} has already been refunded.", code="charge_already_refunded")
        amount = remaining if amount is None else amount
        if not 1 <= amount <= remaining:
            raise StripeError(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                                   f"({remaining})", code="amount_too_large", param="amount")
        order, made = next((o, c) for o in self.world.orders for c in o.charges if c.id == charge_id)
        known = order.refunds + (order.stripe_refunds or [])
        refund = Refund(id=order.id * 100 + max((r.id % 100 for r in known), default=0) + 1,
                        created_at=self.world.now, amount=self._in_shop_currency(order, amount, charge["currency"]),
                        lines=[],
                        charge_id=charge_id)
        self._refund_details[refund.id] = {
            "reason": params.get("reason"),
            "metadata": {name[len("metadata["):-1]: value for name, value in params.items()
                         if name.startswith("metadata[")},
        }
        if made.order_linked:  # Shopify Payments records the refund on the order too
            order.refunds.append(refund)
            order.financial_status = "refunded" if order.refunded >= order.total else "partially_refunded"
            if order.stripe_refunds is not None:
                order.stripe_refunds.append(refund)
        else:  # a charge without order metadata: no shop hears of its refund
            if order.stripe_refunds is None:
                order.stripe_refunds = list(order.refunds)
            order.stripe_refunds.append(refund)
        self.invalidate()
        return json_response(self._refund(refund, order, charge_id, made.order_linked))


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = StripeSandbox(world, api_key=credentials["api_key"])
    return Running(account, "stripe", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"api_key": "sk_test_"})
