"""PayPal REST emulator for the merchant's PayPal account: OAuth 2 client credentials and Transaction
Search (``GET /v1/reporting/transactions``), rendering the World's PayPal payments and their refunds.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 7), written from
PayPal's documents, not from a client:

* ``POST /v1/oauth2/token``: HTTP Basic ``client_id:secret``, form ``grant_type=client_credentials``;
  answers ``scope``, ``access_token``, ``token_type`` Bearer, ``app_id``, ``expires_in`` (9 hours) and
  ``nonce``; a wrong client is 401 ``invalid_client``. A token unknown or expired is 401
  ``invalid_token`` on the API;
* ``start_date``/``end_date`` required, RFC 3339 with seconds and an offset (``-0700``, ``+00:00``, ``Z``),
  at most 31 days apart, else 400 ``INVALID_REQUEST`` naming the field; ``fields`` (``transaction_info``
  by default, ``all``), ``transaction_type`` (an event code), ``page_size`` 1..500, ``page`` from 1;
  ``total_items``, ``total_pages`` and ``links``; more than ``max_results`` matches is 400
  ``RESULTSET_TOO_LARGE`` (narrow the window);
* a transaction is listed only three hours after it was initiated (``last_refreshed_datetime``);
* errors in PayPal's envelope ``{name, message, debug_id, details, links}``; 429 ``RATE_LIMIT_REACHED``
  (PayPal publishes no numbers: a token bucket here, with ``Retry-After``), 500 ``INTERNAL_SERVER_ERROR``.

Event codes: T0006 a checkout payment (gross, fee negative), T1107 a refund (negative, fee not
returned, ``paypal_reference_id`` the payment), T0400 a withdrawal to the bank: each Monday at 06:00 UTC
the balance of each currency (everything initiated before, since the last withdrawal of that currency)
goes to the bank when it is above 0, else it waits for the next Monday. The payment's ``custom_field``
names the shop and ``invoice_id`` its order id.

The first withdrawal sends less than the balance it sweeps: a fee no listed transaction shows
(:attr:`PaypalSandbox.withdrawal_fees`), planted for the settlement reconciliation to find. It changes
no count, so small test Worlds have it too.
"""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.tokens import TokenIssuer
from .launch import Launcher, Running, local_port
from .world import RATES, Order, World
from .world.catalog import quantum

MAX_PAGE_SIZE, MAX_WINDOW, AVAILABLE_AFTER = 500, timedelta(days=31), timedelta(hours=3)
MAX_RESULTS = 10_000
TOKEN_LIFETIME = 32_400  # seconds: "typically 9 hours"
WITHDRAWAL_FEE = Decimal("2.00")  # planted: taken from the first withdrawal, shown by no transaction
SCOPE = "https://uri.paypal.com/services/reporting/search/read"
FEE_RATE, FIXED_FEE_USD = Decimal("0.0349"), Decimal("0.49")  # PayPal checkout: 3.49 % + a fixed fee
ACCOUNT_ID = "6STWC2LSUYYYE"
STAMP = "%Y-%m-%dT%H:%M:%S%z"
DOCS = "https://developer.paypal.com/docs/api/transaction-search/v1/"


@dataclass(frozen=True, slots=True)
class Entry:
    """One transaction of the account: what a search filters and sorts on, and how it renders."""

    when: datetime
    id: str
    event_code: str
    render: Callable[[], dict[str, Any]]


def paypal_error(status: int, name: str, message: str, details: list[dict[str, str]] | None = None) -> Response:
    return json_response({"name": name, "message": message, "debug_id": secrets.token_hex(7),
                          "details": details or [], "links": [{"href": f"{DOCS}#error-{name}",
                                                                "rel": "information_link", "method": "GET"}]}, status)


def invalid(field: str, value: str, issue: str) -> Response:
    return paypal_error(400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates "
                        "schema.", [{"field": field, "value": value, "location": "query", "issue": issue,
                                     "description": issue}])


def money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"currency_code": currency, "value": str(amount.quantize(quantum(currency)))}


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime(STAMP)


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time with seconds and an offset (fractions optional), or None."""
    for pattern in (STAMP, "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def fee(currency: str, amount: Decimal) -> Decimal:
    """PayPal's standard checkout fee: a percentage plus a fixed fee set per currency (USD's, converted)."""
    fixed = FIXED_FEE_USD * RATES.get(currency, Decimal(1))
    return (amount * FEE_RATE + fixed).quantize(quantum(currency))


class PaypalSandbox(HttpSandbox):
    name = "paypal"

    def __init__(self, world: World, client_id: str, client_secret: str, *, rate_limit: float | None = 30.0,
                 max_results: int = MAX_RESULTS) -> None:
        super().__init__(world)
        self.tokens = TokenIssuer(client_id, client_secret, frozenset(), lifetime=TOKEN_LIFETIME, prefix="A21AA")
        self.bucket = Bucket(rate_limit, rate_limit / 2) if rate_limit else None
        self.max_results = max_results
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what "three hours ago" is read from
        self.log: list[dict[str, str]] = []  # query arguments of each transaction search, in arrival order
        self.withdrawal_fees: dict[str, Decimal] = {}  # withdrawal id -> the unlisted fee planted in it
        self.routes = Map([
            Rule("/v1/oauth2/token", endpoint="token_endpoint", methods=["POST"]),
            Rule("/v1/reporting/transactions", endpoint="transactions_endpoint", methods=["GET"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        response = paypal_error(429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting.")
        response.headers["Retry-After"] = "1"
        return response

    def server_error(self, request: Request) -> Response:
        return paypal_error(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.")

    def not_found(self, request: Request) -> Response:
        return paypal_error(404, "RESOURCE_NOT_FOUND", "The specified resource does not exist.")

    def authenticate(self, request: Request) -> Response | None:
        if request.path == "/v1/oauth2/token":
            return None  # Basic, checked by the grant
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):] if header.startswith("Bearer ") else None
        if self.tokens.check(token) is not None:
            return json_response({"error": "invalid_token", "error_description": "Access Token not found in cache"},
                                 401)
        return None

    def before_request(self, request: Request) -> Response | None:
        if self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    def expire_tokens(self) -> None:
        """Every token handed out so far expires now (a run that outlives its token)."""
        self.tokens.expire_all()

    # -- endpoints --------------------------------------------------------------------------------------
    def token_endpoint(self, request: Request) -> Response:
        basic = request.authorization
        client = (basic.username, basic.password) if basic else (None, None)
        status, body = self.tokens.grant_client_credentials(request.form, *client)
        if status == 200:
            body |= {"scope": SCOPE, "token_type": "Bearer", "app_id": "APP-80W284485P519543T",
                     "nonce": f"{stamp(self.clock())}{secrets.token_hex(8)}"}
        return json_response(body, status)

    def transactions_endpoint(self, request: Request) -> Response:
        args = request.args.to_dict()
        with self._lock:
            self.log.append(args)
        bounds = {}
        for field in ("start_date", "end_date"):
            if field not in args:
                return invalid(field, "", "MISSING_REQUIRED_PARAMETER")
            bounds[field] = parse_time(args[field])
            if bounds[field] is None:
                return invalid(field, args[field], "INVALID_PARAMETER_SYNTAX")
        start, end = bounds["start_date"], bounds["end_date"]
        if end < start:
            return invalid("end_date", args["end_date"], "end_date must be after start_date")
        if end - start > MAX_WINDOW:
            return invalid("end_date", args["end_date"], "Date range is greater than 31 days")
        try:
            page, size = int(args.get("page", 1)), int(args.get("page_size", 100))
        except ValueError:
            return invalid("page", args.get("page", ""), "INVALID_PARAMETER_SYNTAX")
        if not 1 <= size <= MAX_PAGE_SIZE or page < 1:
            field = "page" if page < 1 else "page_size"
            return invalid(field, args[field], "INVALID_PARAMETER_VALUE")
        refreshed = self.clock() - AVAILABLE_AFTER
        matches = [entry for entry in self.ledger() if start <= entry.when <= min(end, refreshed)
                   and args.get("transaction_type", entry.event_code) == entry.event_code]
        if len(matches) > self.max_results:
            return paypal_error(400, "RESULTSET_TOO_LARGE", "Result set size is greater than the maximum limit. "
                                "Change the filter criteria and try again.")
        chosen = matches[(page - 1) * size: page * size]
        fields = args.get("fields", "transaction_info")
        details = [{key: value for key, value in entry.render().items() if fields == "all" or key in fields.split(",")}
                   for entry in chosen]
        self.count_records("transactions", len(details))
        pages = max(1, math.ceil(len(matches) / size))
        base = f"{request.host_url.rstrip('/')}{request.path}"
        return json_response({
            "transaction_details": details, "account_number": ACCOUNT_ID, "start_date": stamp(start),
            "end_date": stamp(end), "last_refreshed_datetime": stamp(refreshed), "page": page,
            "total_items": len(matches), "total_pages": pages,
            "links": [{"href": f"{base}?page={n}", "rel": rel, "method": "GET"}
                      for n, rel in ((page, "self"), (page + 1, "next")) if n <= pages],
        })

    # -- the account's ledger ---------------------------------------------------------------------------
    def ledger(self) -> list[Entry]:
        """Every transaction of the account, oldest first: payments, refunds and weekly withdrawals, each
        rendered only when a page shows it (a search reads the whole ledger to count it)."""
        entries: list[Entry] = []
        nets: dict[tuple[datetime, str], Decimal] = defaultdict(Decimal)  # (withdrawal day, currency) -> net
        for order in self.world.orders:
            for payment in order.paypal:
                currency = payment.currency or order.paid_currency
                amount = order.paid(order.total) if payment.amount is None else payment.amount
                payment_fee = fee(currency, amount)
                entries.append(Entry(order.created_at, payment.id, "T0006",
                                     partial(self.payment, order, payment.id, currency, amount, payment_fee)))
                nets[self._withdrawn_on(order.created_at), currency] += amount - payment_fee
                for refund in order.refunds:
                    refunded = order.paid(refund.amount)
                    entries.append(Entry(refund.created_at, f"RF{refund.id:015X}", "T1107", partial(
                        self.refund, order, payment.id, refund.id, refund.created_at, refunded)))
                    nets[self._withdrawn_on(refund.created_at), currency] -= refunded
        entries += self._withdrawals(nets)
        return sorted(entries, key=lambda entry: (entry.when, entry.id))

    def _withdrawals(self, nets: dict[tuple[datetime, str], Decimal]) -> list[Entry]:
        """Each Monday, each currency's balance (carried over while it is not above 0) to the bank."""
        self.withdrawal_fees = {}
        balance: dict[str, Decimal] = defaultdict(Decimal)
        entries = []
        for (day, currency), net in sorted(nets.items()):
            balance[currency] += net
            if day > self.world.now or balance[currency] <= 0:
                continue
            entry_id = f"WD{int(day.timestamp()) // 86_400:06d}{currency}000000"
            amount, balance[currency] = balance[currency], Decimal(0)
            if not self.withdrawal_fees and amount > WITHDRAWAL_FEE:
                self.withdrawal_fees[entry_id] = WITHDRAWAL_FEE
                amount -= WITHDRAWAL_FEE
            entries.append(Entry(day, entry_id, "T0400", partial(self.withdrawal, entry_id, day, currency, amount)))
        return entries

    def transactions(self) -> list[tuple[datetime, dict[str, Any]]]:
        """The whole ledger rendered (``fields=all``): what tests compare the warehouse with."""
        return [(entry.when, entry.render()) for entry in self.ledger()]

    @staticmethod
    def _withdrawn_on(when: datetime) -> datetime:
        """The Monday 06:00 UTC after ``when``: the week's balance goes to the bank then."""
        monday = (when - timedelta(days=when.weekday())).replace(hour=6, minute=0, second=0, microsecond=0)
        return monday if monday > when else monday + timedelta(days=7)

    def payment(self, order: Order, txn_id: str, currency: str, amount: Decimal, payment_fee: Decimal) -> dict[str, Any]:
        customer = order.customer
        return {
            "transaction_info": {
                "paypal_account_id": f"P{customer.id:012d}", "transaction_id": txn_id,
                "transaction_event_code": "T0006", "transaction_initiation_date": stamp(order.created_at),
                "transaction_updated_date": stamp(order.created_at + timedelta(seconds=5)),
                "transaction_amount": money(currency, amount), "fee_amount": money(currency, -payment_fee),
                "transaction_status": "S", "invoice_id": str(order.id), "custom_field": order.shop,
                "protection_eligibility": "01"},
            "payer_info": {"account_id": f"P{customer.id:012d}", "email_address": customer.email,
                           "address_status": "Y", "payer_status": "Y",
                           "payer_name": {"given_name": customer.first_name, "surname": customer.last_name}},
            "shipping_info": {"name": f"{customer.first_name}, {customer.last_name}"},
            "cart_info": {"item_details": [{
                "item_code": line.sku.code, "item_name": line.sku.product, "item_quantity": str(line.quantity),
                "item_unit_price": money(order.paid_currency, order.paid(line.unit_price)),
                "total_item_amount": money(order.paid_currency, order.paid(line.amount))} for line in order.lines]},
            "store_info": {}, "auction_info": {}, "incentive_info": {},
        }

    def refund(self, order: Order, payment_id: str, refund_id: int, when: datetime, amount: Decimal) -> dict[str, Any]:
        currency = order.paid_currency
        return {"transaction_info": {
            "paypal_account_id": f"P{order.customer.id:012d}", "transaction_id": f"RF{refund_id:015X}",
            "paypal_reference_id": payment_id, "paypal_reference_id_type": "TXN", "transaction_event_code": "T1107",
            "transaction_initiation_date": stamp(when), "transaction_updated_date": stamp(when),
            "transaction_amount": money(currency, -amount), "transaction_status": "S", "invoice_id": str(order.id),
            "custom_field": order.shop}, "payer_info": {}, "shipping_info": {}, "cart_info": {}, "store_info": {},
            "auction_info": {}, "incentive_info": {}}

    @staticmethod
    def withdrawal(entry_id: str, day: datetime, currency: str, amount: Decimal) -> dict[str, Any]:
        return {"transaction_info": {
            "transaction_id": entry_id,
            "transaction_event_code": "T0400", "transaction_initiation_date": stamp(day),
            "transaction_updated_date": stamp(day), "transaction_amount": money(currency, -amount),
            "transaction_status": "S"}, "payer_info": {}, "shipping_info": {}, "cart_info": {}, "store_info": {},
            "auction_info": {}, "incentive_info": {}}


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = PaypalSandbox(world, credentials["client_id"], credentials["client_secret"])
    return Running(account, "paypal", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"client_id": "A", "client_secret": "E"})
