"""Amazon Selling Partner API (SP-API) emulator: one seller in one marketplace of the World.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 3, from Amazon's
API models ``ordersV0.json``, ``listingsItems_2021-08-01.json``, ``fbaInventory.json``; what was not
found is marked *assumed*):

* Login with Amazon at ``POST /auth/o2/token`` (form body, ``grant_type=refresh_token``; the kit's
  :class:`TokenIssuer`), tokens ``Atza|…`` living an hour; every API call carries one in
  ``x-amz-access-token`` (no SigV4: Amazon dropped it, and SigV4 headers are ignored if sent). A missing,
  unknown or expired token is 403 ``Unauthorized``;
* errors as ``{"errors": [{"code", "message", "details"}]}``: 400 ``InvalidInput``, 403
  ``Unauthorized``, 404 ``NotFound``, 429 ``QuotaExceeded``, 500 ``InternalFailure``;
* rate limits per operation: a token bucket of the default usage plan (rate, burst) per operation, every
  answer saying the rate in ``x-amzn-RateLimit-Limit`` (also on a 429), with an ``x-amzn-RequestId``.
  ``quota_scale`` multiplies the rates (a test's clock is not Amazon's; the bursts stay documented);
* ``getOrders`` (``GET /orders/v0/orders``): ``MarketplaceIds`` required (comma-separated or repeated,
  and the spellings python-amazon-sp-api sends alongside: ``MarketplaceId``, ``marketplaceIds``,
  ``marketplace_ids``), exactly one of ``CreatedAfter``/``LastUpdatedAfter``, ``Created*`` and
  ``LastUpdated*`` never together, the After value and the Before value no later than two minutes
  before now (Before defaults to that, and is echoed in the payload), Before not earlier than After;
  ``OrderStatuses``, ``FulfillmentChannels``, ``MaxResultsPerPage`` 1..100 (default 100); the orders by
  update time (*assumed*: the model does not say the order), ``NextToken`` opaque, carrying the filters
  (a request with a ``NextToken`` needs nothing else; other parameters sent with it are ignored).
  ``Pending`` orders have no ``OrderTotal`` (as Amazon sends them); buyer and address PII need a
  restricted data token: only city, region, postal code and country are served;
* ``getOrderItems`` (``…/orders/{orderId}/orderItems``): ``ItemPrice`` is the price of the *quantity*
  ordered, money ``{"CurrencyCode", "Amount"}`` with the amount a string; the order's shipping and
  promotion discount are carried by its first item (``ShippingPrice``, ``PromotionDiscount``);
* Listings Items 2021-08-01: ``searchListingsItems`` (``GET /listings/2021-08-01/items/{sellerId}``,
  ``pageSize`` ≤ 20, ``pageToken``), ``getListingsItem`` and ``patchListingsItem`` (``…/{sellerId}/{sku}``)
  with ``includedData`` (summaries, offers, fulfillmentAvailability, issues). A seller-fulfilled SKU's
  quantity is ``fulfillment_availability`` with channel ``DEFAULT``; a patch answers
  ``ACCEPTED``/``INVALID`` (``mode=VALIDATION_PREVIEW``: ``VALID``, nothing applied) and is applied at
  once here (Amazon applies accepted submissions within minutes: *assumed* immediate). Setting the
  quantity of an Amazon-fulfilled SKU is ``INVALID`` (*assumed* wording);
* FBA inventory (``GET /fba/inventory/v1/summaries``): ``granularityType=Marketplace``, ``granularityId``
  and ``marketplaceIds`` (exactly one) required, ``details``, ``sellerSkus``, ``nextToken`` (pages of 50);
  quantities Amazon holds (read-only for the seller);
* Finances v0 ``listFinancialEvents`` (``GET /finances/v0/financialEvents``): ``PostedAfter`` and
  ``PostedBefore`` under the same two-minute rule, ``MaxResultsPerPage`` 1..100, ``NextToken``; the
  World's refunds as ``RefundEventList`` events (``PostedDate``, one ``ShipmentItemAdjustment`` per
  refunded line with its SKU and quantity, the money as ``ItemChargeAdjustmentList`` charges whose
  ``ChargeAmount`` is ``{"CurrencyCode", "CurrencyAmount"}`` with the amount a JSON *number*, negative
  for money back to the buyer). Shipment events and fees are not rendered;
* Reports 2021-06-30: ``createReport`` (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` only,
  ``marketplaceIds``, ``dataStartTime``/``dataEndTime``) answers 202 ``{"reportId"}``; ``getReport``
  walks ``IN_QUEUE`` -> ``IN_PROGRESS`` -> ``DONE`` one call at a time (``report_endings`` makes the next
  reports end ``CANCELLED`` or ``FATAL``, as Amazon's do); ``getReportDocument`` gives a pre-signed
  ``url`` (served here at ``/__documents__/…``, without the access token, as S3 serves it) and
  ``compressionAlgorithm: GZIP``. The document is tab-separated, UTF-8, one row per order item, its
  dates ISO 8601 with ``+00:00``, ``fulfillment-channel`` ``Amazon``/``Merchant`` and a cancelled order
  ``Cancelled`` (the flat files' spellings: *assumed* from sample files, not the API models);
* Feeds 2021-06-30 with ``JSON_LISTINGS_FEED``: ``createFeedDocument`` (a pre-signed upload ``url``, PUT
  without the token), ``createFeed`` (``feedType``, ``marketplaceIds``, ``inputFeedDocumentId``: 202
  ``{"feedId"}``), ``getFeed`` walking ``IN_QUEUE`` -> ``IN_PROGRESS`` -> ``DONE`` with a
  ``resultFeedDocumentId``, ``getFeedDocument``. The feed's messages (``header.sellerId``,
  ``messageId``, ``sku``, ``operationType`` ``PATCH`` with ``patches`` or ``PARTIAL_UPDATE`` with
  ``attributes``) are applied as patchListingsItem applies one; the processing report lists each
  refused message's issues by ``messageId`` with a ``summary`` of the counts.

Every SKU whose index is 3 mod 4 (the XL variant) is fulfilled by Amazon (FBA, ``AMAZON_NA`` and
its regional siblings); the others are seller-fulfilled (MFN), selling what the World's stock holds.
Orders: ``pending`` -> ``Pending``, ``voided`` -> ``Canceled``, fulfilled -> ``Shipped``, else
``Unshipped``; an order is AFN when all its items are FBA SKUs. A marketplace shop of the World shows
no tax (prices include VAT): ``ItemTax`` is zero.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .kit.paging import OpaqueCursor
from .kit.stock import StockBook
from .kit.tokens import TokenIssuer
from .launch import Launcher, Running, local_port
from .world import Order, Refund, Sku, World
from .world.catalog import quantum

FIRST_ORDER = 5_000_000_000  # World order ids start after this
MARKETPLACES = {"USD": ("ATVPDKIKX0DER", "Amazon.com", "AMAZON_NA"), "EUR": ("A1PA6795UKMFR9", "Amazon.de", "AMAZON_EU"),
                "GBP": ("A1F83G8C2ARO7P", "Amazon.co.uk", "AMAZON_EU"), "JPY": ("A1VC38T7YXB528", "Amazon.co.jp", "AMAZON_JP")}
FRESHNESS = timedelta(minutes=2)  # Before values (and After values) no later than now - 2 minutes
MAX_ORDERS_PAGE, MAX_LISTINGS_PAGE, INVENTORY_PAGE = 100, 20, 50
# operation -> (requests per second, burst): Amazon's default usage plans
RATE_LIMITS = {"getOrders": (0.0167, 20), "getOrderItems": (0.5, 30), "searchListingsItems": (5, 5),
               "getListingsItem": (5, 10), "patchListingsItem": (5, 5), "getInventorySummaries": (2, 2),
               "listFinancialEvents": (0.5, 30), "createReport": (0.0167, 15), "getReport": (2, 15),
               "getReportDocument": (0.0167, 15), "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15),
               "getFeed": (2, 15), "getFeedDocument": (0.0222, 10)}
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
REPORT_COLUMNS = ("amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
                  "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku",
                  "asin", "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price",
                  "shipping-tax", "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount",
                  "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code", "ship-country",
                  "promotion-ids", "is-business-order", "purchase-order-number", "price-designation")
PROCESSING = ("IN_QUEUE", "IN_PROGRESS")  # a report's states before DONE, one getReport call each
MARKETPLACE_SPELLINGS = ("MarketplaceIds", "MarketplaceId", "marketplaceIds", "marketplace_ids")
STATUSES = frozenset({"PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped",
                      "InvoiceUnconfirmed", "Canceled", "Unfulfillable"})
# The demo's seller has a usage plan 100 times Amazon's default (Amazon raises plans on request; the
# rate is told in x-amzn-RateLimit-Limit, which clients follow): a demo account loads in seconds.
DEMO_PLAN = 100.0


class Refused(Exception):
    """An SP-API error answer: HTTP status, code, message."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def invalid(message: str) -> Refused:
    return Refused(400, "InvalidInput", message)


def stamp(when: datetime) -> str:
    """Amazon's ISO 8601 in UTC, to the second, with ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(name: str, value: str) -> datetime:
    """An ISO 8601 parameter (``2024-05-01T10:00:00Z``, an offset, milliseconds, or a bare date); a value
    without a zone is UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise invalid(f"Invalid {name}: {value!r} is not an ISO 8601 date-time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(amount.quantize(quantum(currency)))}


def is_fba(sku: Sku) -> bool:
    return sku.index % 4 == 3


def amazon_order_id(order: Order) -> str:
    """``3-7-7`` digits as Amazon writes them; the last group is the World's order number, so ids are unique."""
    n = order.id - FIRST_ORDER
    return f"{111 + n % 9:03d}-{n * 7919 % 10**7:07d}-{n:07d}"


def asin(sku: Sku) -> str:
    return f"B0{sku.index:08X}"


class AmazonSandbox(HttpSandbox):
    name = "amazon"
    routes = Map([
        Rule("/auth/o2/token", endpoint="token", methods=["POST"]),
        Rule("/orders/v0/orders", endpoint="getOrders", methods=["GET"]),
        Rule("/orders/v0/orders/<order_id>/orderItems", endpoint="getOrderItems", methods=["GET"]),
        Rule("/listings/2021-08-01/items/<seller_id>", endpoint="searchListingsItems", methods=["GET"]),
        Rule("/listings/2021-08-01/items/<seller_id>/<sku>", endpoint="getListingsItem", methods=["GET"]),
        Rule("/listings/2021-08-01/items/<seller_id>/<sku>", endpoint="patchListingsItem", methods=["PATCH"]),
        Rule("/fba/inventory/v1/summaries", endpoint="getInventorySummaries", methods=["GET"]),
        Rule("/finances/v0/financialEvents", endpoint="listFinancialEvents", methods=["GET"]),
        Rule("/reports/2021-06-30/reports", endpoint="createReport", methods=["POST"]),
        Rule("/reports/2021-06-30/reports/<report_id>", endpoint="getReport", methods=["GET"]),
        Rule("/reports/2021-06-30/documents/<document_id>", endpoint="getReportDocument", methods=["GET"]),
        Rule("/__documents__/<document_id>", endpoint="download", methods=["GET"]),
        Rule("/feeds/2021-06-30/documents", endpoint="createFeedDocument", methods=["POST"]),
        Rule("/__uploads__/<document_id>", endpoint="upload", methods=["PUT"]),
        Rule("/feeds/2021-06-30/feeds", endpoint="createFeed", methods=["POST"]),
        Rule("/feeds/2021-06-30/feeds/<feed_id>", endpoint="getFeed", methods=["GET"]),
        Rule("/feeds/2021-06-30/documents/<document_id>", endpoint="getFeedDocument", methods=["GET"]),
    ])

    def __init__(self, world: World, shop: str, *, client_id: str, client_secret: str, refresh_token: str,
                 seller_id: str, quota_scale: float = 1.0) -> None:
        super().__init__(world)
        self.shop = world.shop(shop)
        self.marketplace_id, self.sales_channel, self.fba_channel = MARKETPLACES[self.shop.currency]
        self.seller_id = seller_id
        self.issuer = TokenIssuer(client_id, client_secret, frozenset({refresh_token}))
        self.buckets = {operation: Bucket(size=burst, rate=rate * quota_scale)
                        for operation, (rate, burst) in RATE_LIMITS.items()}
        self.stock = StockBook(world)
        self.fba_quantities = {sku.index: self.stock.quantities[sku.index] // 3 for sku in world.skus if is_fba(sku)}
        self.sku_of = {sku.code: sku for sku in world.skus}
        self.calls: list[tuple[str, MultiDict[str, str]]] = []  # (operation, query) of every API call served
        self.patches: list[dict[str, Any]] = []  # the bodies patchListingsItem accepted
        self.quota_refusals: Counter[str] = Counter()  # QuotaExceeded answered, by operation (not the faults)
        self.reports: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, bytes] = {}
        self.report_endings: list[str] = []  # how the next reports end instead of DONE: CANCELLED, FATAL
        self.uploads: dict[str, bytes | None] = {}  # feed documents: what was put at each upload URL
        self.feeds: dict[str, dict[str, Any]] = {}
        self._calls_lock = threading.Lock()

    # -- the platform's shapes -------------------------------------------------------------------------
    def operation(self, request: Request) -> str | None:
        try:
            endpoint, _ = self.routes.bind_to_environ(request.environ).match()
        except Exception:  # noqa: BLE001 (no route, or a method the path does not take: answered by dispatch)
            return None
        return str(endpoint)

    def error(self, refused: Refused, operation: str | None = None) -> Response:
        body = {"errors": [{"code": refused.code, "message": refused.message, "details": refused.details}]}
        return json_response(body, refused.status, self.headers(operation))

    def headers(self, operation: str | None) -> dict[str, str]:
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        if operation in self.buckets:
            headers["x-amzn-RateLimit-Limit"] = f"{self.buckets[operation].rate:g}"
        return headers

    def rate_limited(self, request: Request) -> Response:
        return self.error(Refused(429, "QuotaExceeded", "You exceeded your quota for the requested resource."),
                          self.operation(request))

    def server_error(self, request: Request) -> Response:
        return self.error(Refused(500, "InternalFailure", "We encountered an internal error. Please try again."),
                          self.operation(request))

    def not_found(self, request: Request) -> Response:
        return self.error(Refused(404, "NotFound", "The requested resource was not found."))

    def authenticate(self, request: Request) -> Response | None:
        operation = self.operation(request)
        if operation in (None, "token", "download", "upload"):  # a pre-signed URL carries its own authority
            return None
        refused = self.issuer.check(request.headers.get("x-amz-access-token"))
        if refused is not None:
            details = {"missing": "Access token is missing in the request header.",
                       "expired": "The access token you provided has expired."}.get(refused, "The access token is invalid.")
            return self.error(Refused(403, "Unauthorized", "Access to requested resource is denied.", details), operation)
        return None

    def before_request(self, request: Request) -> Response | None:
        operation = self.operation(request)
        if operation in self.buckets and not self.buckets[operation].take():
            self.quota_refusals[operation] += 1
            return self.rate_limited(request)
        return None

    def answer(self, operation: str, body: Any) -> Response:
        return json_response(body, 200, self.headers(operation))

    def served(self, operation: str, request: Request, handler: Callable[[], Any]) -> Response:
        """Record the call, run ``handler`` and answer its body, or the error it refused with."""
        with self._calls_lock:
            self.calls.append((operation, request.args))
        try:
            return self.answer(operation, handler())
        except Refused as refused:
            return self.error(refused, operation)

    def calls_to(self, operation: str) -> list[MultiDict[str, str]]:
        with self._calls_lock:
            return [query for name, query in self.calls if name == operation]

    # -- parameters -------------------------------------------------------------------------------------
    @staticmethod
    def listed(args: MultiDict[str, str], *names: str) -> list[str]:
        """A list parameter under any of ``names``, repeated or comma-separated."""
        return [part.strip() for name in names for value in args.getlist(name) for part in value.split(",")
                if part.strip()]

    def marketplaces(self, args: MultiDict[str, str], *names: str, at_most: int = 50) -> list[str]:
        found = list(dict.fromkeys(self.listed(args, *names)))
        if not found:
            raise invalid(f"Missing required parameter: {names[0]}")
        if len(found) > at_most:
            raise invalid(f"{names[0]} accepts at most {at_most} values")
        unknown = [marketplace for marketplace in found if marketplace not in {m for m, _, _ in MARKETPLACES.values()}]
        if unknown:
            raise invalid(f"Invalid {names[0]}: {', '.join(unknown)}")
        return found

    @staticmethod
    def number(args: MultiDict[str, str], name: str, default: int, low: int, high: int) -> int:
        value = args.get(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise invalid(f"Invalid {name}: must be between {low} and {high}")
        return int(value)

    @staticmethod
    def cursor(token: str) -> dict[str, Any]:
        try:
            return OpaqueCursor.decode(token)
        except ValueError:
            raise invalid("Invalid NextToken") from None

    def check_seller(self, seller_id: str) -> None:
        if seller_id != self.seller_id:
            raise Refused(403, "Unauthorized", "Access to requested resource is denied.",
                          "The seller id does not match the authorised selling partner.")

    # -- LWA -----------------------------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        status, body = self.issuer.grant(request.form)
        return json_response(body, status)

    # -- orders ---------------------------------------------------------------------------------------------
    def getOrders(self, request: Request) -> Response:
        return self.served("getOrders", request, lambda: self.get_orders(request.args))

    def get_orders(self, args: MultiDict[str, str]) -> dict[str, Any]:
        token = args.get("NextToken")
        query = self.cursor(token) if token else self.order_query(args)
        before = datetime.fromisoformat(query["before"])
        after = datetime.fromisoformat(query["after"])
        by = "updated" if query["by"] == "LastUpdated" else "created"
        statuses, channels = set(query["statuses"]), set(query["channels"])

        def when(order: Order) -> datetime:
            return (order.updated_at if by == "updated" else order.created_at).replace(microsecond=0)

        def key(order: Order) -> tuple[str, int]:
            return stamp(when(order)), order.id

        last = tuple(query["last"]) if query.get("last") else None
        chosen = sorted((order for order in self.world.orders_of(self.shop.name)
                         if after <= when(order) <= before and self.marketplace_id in query["marketplaces"]
                         and (not statuses or self.status(order) in statuses)
                         and (not channels or self.channel(order) in channels)
                         and (last is None or key(order) > last)), key=key)
        page = chosen[:query["size"]]
        self.count_records("orders", len(page))
        payload: dict[str, Any] = {"Orders": [self.render_order(order) for order in page]}
        if len(chosen) > len(page):
            payload["NextToken"] = OpaqueCursor.encode({**query, "last": list(key(page[-1]))})
        payload["LastUpdatedBefore" if by == "updated" else "CreatedBefore"] = stamp(before)
        return {"payload": payload}

    def order_query(self, args: MultiDict[str, str]) -> dict[str, Any]:
        """The filters of a first getOrders call, validated as Amazon documents them."""
        marketplaces = self.marketplaces(args, *MARKETPLACE_SPELLINGS)
        created, updated = args.get("CreatedAfter"), args.get("LastUpdatedAfter")
        if (created is None) == (updated is None):
            raise invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required")
        by = "Created" if created is not None else "LastUpdated"
        other = "LastUpdated" if by == "Created" else "Created"
        if args.get(f"{other}Before"):
            raise invalid(f"{other}Before cannot be combined with {by}After")
        latest = datetime.now(UTC) - FRESHNESS
        after = parse_time(f"{by}After", created or updated or "")
        before = parse_time(f"{by}Before", args[f"{by}Before"]) if args.get(f"{by}Before") else latest
        if after > latest:
            raise invalid(f"{by}After must be no later than two minutes before the time of the request")
        if before > latest:
            raise invalid(f"{by}Before must be no later than two minutes before the time of the request")
        if before < after:
            raise invalid(f"{by}Before must be after {by}After")
        statuses = self.listed(args, "OrderStatuses")
        if set(statuses) - STATUSES:
            raise invalid(f"Invalid OrderStatuses: {', '.join(sorted(set(statuses) - STATUSES))}")
        channels = self.listed(args, "FulfillmentChannels")
        if set(channels) - {"AFN", "MFN"}:
            raise invalid("Invalid FulfillmentChannels: AFN or MFN")
        size = self.number(args, "MaxResultsPerPage", MAX_ORDERS_PAGE, 1, MAX_ORDERS_PAGE)
        return {"by": by, "after": after.isoformat(), "before": before.isoformat(), "marketplaces": marketplaces,
                "statuses": statuses, "channels": channels, "size": size}

    @staticmethod
    def status(order: Order) -> str:
        if order.financial_status == "pending":
            return "Pending"
        if order.financial_status == "voided":
            return "Canceled"
        return "Shipped" if order.fulfillment_status == "fulfilled" else "Unshipped"

    @staticmethod
    def channel(order: Order) -> str:
        return "AFN" if all(is_fba(line.sku) for line in order.lines) else "MFN"

    def render_order(self, order: Order) -> dict[str, Any]:
        status, count = self.status(order), sum(line.quantity for line in order.lines)
        shipped = count if status == "Shipped" else 0
        rendered: dict[str, Any] = {
            "AmazonOrderId": amazon_order_id(order), "SellerOrderId": str(order.number),
            "PurchaseDate": stamp(order.created_at), "LastUpdateDate": stamp(order.updated_at), "OrderStatus": status,
            "FulfillmentChannel": self.channel(order), "SalesChannel": self.sales_channel, "OrderType": "StandardOrder",
            "NumberOfItemsShipped": shipped, "NumberOfItemsUnshipped": 0 if status == "Canceled" else count - shipped,
            "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "MarketplaceId": self.marketplace_id,
            "ShipServiceLevel": "Std Dom", "ShipmentServiceLevelCategory": "Standard",
            "EarliestShipDate": stamp(order.created_at + timedelta(days=1)),
            "LatestShipDate": stamp(order.created_at + timedelta(days=3)),
            "IsBusinessOrder": False, "IsPrime": order.id % 3 == 0, "IsPremiumOrder": False, "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": "false", "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False,
            "ShippingAddress": {"City": "Seattle", "StateOrRegion": "WA", "PostalCode": "98109", "CountryCode": "US"},
            "BuyerInfo": {},
        }
        if status != "Pending":  # Amazon computes no total before the payment is authorised
            rendered["OrderTotal"] = money(order.total, order.currency)
        return rendered

    def getOrderItems(self, request: Request, order_id: str) -> Response:
        return self.served("getOrderItems", request, lambda: self.get_order_items(order_id))

    def get_order_items(self, order_id: str) -> dict[str, Any]:
        order = next((o for o in self.world.orders_of(self.shop.name) if amazon_order_id(o) == order_id), None)
        if order is None:
            raise Refused(404, "NotFound", f"Invalid AmazonOrderId: {order_id}")
        self.count_records("order_items", len(order.lines))
        shipped = self.status(order) == "Shipped"
        zero = Decimal(0)
        items = [{
            "ASIN": asin(line.sku), "SellerSKU": line.sku.code, "OrderItemId": f"{line.id:014d}",
            "Title": f"{line.sku.product} {line.sku.variant}", "QuantityOrdered": line.quantity,
            "QuantityShipped": line.quantity if shipped else 0, "ProductInfo": {"NumberOfItems": "1"},
            "ItemPrice": money(line.amount, order.currency), "ItemTax": money(zero, order.currency),
            "ShippingPrice": money(order.shipping if n == 0 else zero, order.currency),
            "ShippingTax": money(zero, order.currency),
            "PromotionDiscount": money(order.discount if n == 0 else zero, order.currency),
            "PromotionDiscountTax": money(zero, order.currency), "IsGift": "false", "ConditionId": "New",
            "ConditionSubtypeId": "New", "IsTransparency": False, "SerialNumberRequired": False,
        } for n, line in enumerate(order.lines)]
        return {"payload": {"AmazonOrderId": order_id, "OrderItems": items}}

    # -- listings -------------------------------------------------------------------------------------------
    def included(self, args: MultiDict[str, str]) -> set[str]:
        known = {"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                 "relationships", "productTypes"}
        included = set(self.listed(args, "includedData")) or {"summaries"}
        if included - known:
            raise invalid(f"Invalid includedData: {', '.join(sorted(included - known))}")
        return included

    def render_listing(self, sku: Sku, included: set[str]) -> dict[str, Any]:
        rendered: dict[str, Any] = {"sku": sku.code}
        if "summaries" in included:
            rendered["summaries"] = [{
                "marketplaceId": self.marketplace_id, "asin": asin(sku), "productType": "SHIRT",
                "conditionType": "new_new", "status": ["BUYABLE", "DISCOVERABLE"],
                "itemName": f"{sku.product} {sku.variant}", "createdDate": stamp(sku.modified_at),
                "lastUpdatedDate": stamp(self.stock.modified[sku.index])}]
        if "offers" in included:
            price = sku.price(self.shop.currency)
            rendered["offers"] = [{"marketplaceId": self.marketplace_id, "offerType": "B2C",
                                   "price": {"currencyCode": self.shop.currency,
                                             "amount": str(price.quantize(quantum(self.shop.currency)))}}]
        if "fulfillmentAvailability" in included:
            rendered["fulfillmentAvailability"] = (
                [{"fulfillmentChannelCode": self.fba_channel}] if is_fba(sku)
                else [{"fulfillmentChannelCode": "DEFAULT", "quantity": self.stock.quantities[sku.index]}])
        if "issues" in included:
            rendered["issues"] = []
        return rendered

    def searchListingsItems(self, request: Request, seller_id: str) -> Response:
        return self.served("searchListingsItems", request, lambda: self.search_listings(seller_id, request.args))

    def search_listings(self, seller_id: str, args: MultiDict[str, str]) -> dict[str, Any]:
        self.check_seller(seller_id)
        self.marketplaces(args, "marketplaceIds", "MarketplaceIds", at_most=1)
        included, size = self.included(args), self.number(args, "pageSize", 10, 1, MAX_LISTINGS_PAGE)
        offset = self.cursor(args["pageToken"])["offset"] if args.get("pageToken") else 0
        wanted = self.listed(args, "identifiers")
        if wanted and (args.get("identifiersType") != "SKU" or len(wanted) > MAX_LISTINGS_PAGE):
            raise invalid("identifiers need identifiersType (SKU here) and are at most 20")
        chosen = [sku for sku in sorted(self.world.skus, key=lambda s: s.index) if not wanted or sku.code in wanted]
        page = chosen[offset:offset + size]
        self.count_records("listings", len(page))
        body: dict[str, Any] = {"numberOfResults": len(chosen),
                                "items": [self.render_listing(sku, included) for sku in page], "pagination": {}}
        if offset + size < len(chosen):
            body["pagination"]["nextToken"] = OpaqueCursor.encode({"offset": offset + size})
        if offset:
            body["pagination"]["previousToken"] = OpaqueCursor.encode({"offset": max(0, offset - size)})
        return body

    def listed_sku(self, seller_id: str, sku_code: str, args: MultiDict[str, str]) -> Sku:
        self.check_seller(seller_id)
        self.marketplaces(args, "marketplaceIds", "MarketplaceIds", at_most=1)
        sku = self.sku_of.get(sku_code)
        if sku is None:
            raise Refused(404, "NOT_FOUND", f"SKU '{sku_code}' not found in marketplace {self.marketplace_id}")
        return sku

    def getListingsItem(self, request: Request, seller_id: str, sku: str) -> Response:
        return self.served("getListingsItem", request, lambda: self.render_listing(
            self.listed_sku(seller_id, sku, request.args), self.included(request.args)))

    def patchListingsItem(self, request: Request, seller_id: str, sku: str) -> Response:
        return self.served("patchListingsItem", request, lambda: self.patch_listing(seller_id, sku, request))

    def patch_listing(self, seller_id: str, sku_code: str, request: Request) -> dict[str, Any]:
        sku = self.listed_sku(seller_id, sku_code, request.args)
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            raise invalid("The request body is not valid JSON") from None
        if not isinstance(body, dict) or not body.get("productType") or not isinstance(body.get("patches"), list) \
                or not body["patches"]:
            raise invalid("productType and a non-empty patches array are required")
        quantity, issues = self.availability(sku, body["patches"])
        submission = {"sku": sku.code, "submissionId": uuid.uuid4().hex, "issues": issues}
        if issues:
            return {**submission, "status": "INVALID"}
        if request.args.get("mode") == "VALIDATION_PREVIEW":
            return {**submission, "status": "VALID"}
        if quantity is not None:
            self.stock.settle({sku.index: quantity})
        self.patches.append(body)
        return {**submission, "status": "ACCEPTED"}

    def availability(self, sku: Sku, patches: list[Any]) -> tuple[int | None, list[dict[str, Any]]]:
        """The seller quantity ``patches`` set (None: they set none), and the issues refusing them."""
        issues, quantity = [], None
        for patch in patches:
            if not isinstance(patch, dict) or patch.get("op") not in ("add", "replace", "merge", "delete") \
                    or not str(patch.get("path", "")).startswith("/attributes/"):
                raise invalid("Each patch needs op (add, replace, merge, delete) and an /attributes/ path")
            if patch["path"] != "/attributes/fulfillment_availability":
                continue
            for availability in patch.get("value") or []:
                amount = availability.get("quantity") if isinstance(availability, dict) else None
                if not isinstance(availability, dict) or availability.get("fulfillment_channel_code") != "DEFAULT":
                    issues.append(self.issue("fulfillment_channel_code must be DEFAULT for a seller's quantity"))
                elif isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                    issues.append(self.issue(f"quantity must be a whole number of 0 or more, not {amount!r}"))
                else:
                    quantity = amount
        if is_fba(sku) and quantity is not None:
            issues.append(self.issue("The quantity of an Amazon-fulfilled (FBA) listing is Amazon's: it cannot be set"))
        return quantity, issues

    @staticmethod
    def issue(message: str) -> dict[str, Any]:
        return {"code": "90220", "message": message, "severity": "ERROR", "attributeNames": ["fulfillment_availability"]}

    # -- FBA inventory ------------------------------------------------------------------------------------------
    def getInventorySummaries(self, request: Request) -> Response:
        return self.served("getInventorySummaries", request, lambda: self.inventory_summaries(request.args))

    def inventory_summaries(self, args: MultiDict[str, str]) -> dict[str, Any]:
        if args.get("granularityType") != "Marketplace":
            raise invalid("granularityType is required and must be Marketplace")
        [marketplace] = self.marketplaces(args, "marketplaceIds", at_most=1)
        if args.get("granularityId") != marketplace:
            raise invalid("granularityId must be the marketplace id")
        details = args.get("details", "false").lower() == "true"
        wanted = set(self.listed(args, "sellerSkus")) | set(self.listed(args, "sellerSku"))
        offset = self.cursor(args["nextToken"])["offset"] if args.get("nextToken") else 0
        chosen = [sku for sku in self.world.skus if is_fba(sku) and (not wanted or sku.code in wanted)]
        page = chosen[offset:offset + INVENTORY_PAGE]
        self.count_records("fba_inventory", len(page))
        body: dict[str, Any] = {
            "payload": {"granularity": {"granularityType": "Marketplace", "granularityId": marketplace},
                        "inventorySummaries": [self.render_summary(sku, details) for sku in page]}}
        if offset + INVENTORY_PAGE < len(chosen):
            body["pagination"] = {"nextToken": OpaqueCursor.encode({"offset": offset + INVENTORY_PAGE})}
        return body

    def render_summary(self, sku: Sku, details: bool) -> dict[str, Any]:
        quantity = self.fba_quantities[sku.index]
        summary: dict[str, Any] = {"asin": asin(sku), "fnSku": f"X00{sku.index:07X}", "sellerSku": sku.code,
                                   "condition": "NewItem", "lastUpdatedTime": stamp(self.stock.modified[sku.index]),
                                   "productName": f"{sku.product} {sku.variant}", "totalQuantity": quantity,
                                   "stores": []}
        if details:
            summary["inventoryDetails"] = {
                "fulfillableQuantity": quantity, "inboundWorkingQuantity": 0, "inboundShippedQuantity": 0,
                "inboundReceivingQuantity": 0,
                "reservedQuantity": {"totalReservedQuantity": 0, "pendingCustomerOrderQuantity": 0,
                                     "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
                "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
                "unfulfillableQuantity": {"totalUnfulfillableQuantity": 0, "customerDamagedQuantity": 0,
                                          "warehouseDamagedQuantity": 0, "distributorDamagedQuantity": 0,
                                          "carrierDamagedQuantity": 0, "defectiveQuantity": 0, "expiredQuantity": 0}}
        return summary


    # -- finances -------------------------------------------------------------------------------------------
    def listFinancialEvents(self, request: Request) -> Response:
        return self.served("listFinancialEvents", request, lambda: self.financial_events(request.args))

    def financial_events(self, args: MultiDict[str, str]) -> dict[str, Any]:
        token = args.get("NextToken")
        query = self.cursor(token) if token else self.posted_query(args)
        after, before = datetime.fromisoformat(query["after"]), datetime.fromisoformat(query["before"])
        last = tuple(query["last"]) if query.get("last") else None

        def key(pair: tuple[Order, Refund]) -> tuple[str, int]:
            return stamp(pair[1].created_at), pair[1].id

        chosen = sorted(((order, refund) for order in self.world.orders_of(self.shop.name) for refund in order.refunds
                         if after <= refund.created_at.replace(microsecond=0) <= before
                         and (last is None or key((order, refund)) > last)), key=key)
        page = chosen[:query["size"]]
        self.count_records("refunds", len(page))
        payload: dict[str, Any] = {"FinancialEvents": {"RefundEventList": [self.render_refund(*pair) for pair in page],
                                                       "ShipmentEventList": []}}
        if len(chosen) > len(page):
            payload["NextToken"] = OpaqueCursor.encode({**query, "last": list(key(page[-1]))})
        return {"payload": payload}

    def posted_query(self, args: MultiDict[str, str]) -> dict[str, Any]:
        latest = datetime.now(UTC) - FRESHNESS
        after = parse_time("PostedAfter", args["PostedAfter"]) if args.get("PostedAfter") else latest - timedelta(days=2)
        before = parse_time("PostedBefore", args["PostedBefore"]) if args.get("PostedBefore") else latest
        if after > latest or before > latest:
            raise invalid("PostedAfter and PostedBefore must be no later than two minutes before the time of the request")
        if before < after:
            raise invalid("PostedBefore must be after PostedAfter")
        size = self.number(args, "MaxResultsPerPage", MAX_ORDERS_PAGE, 1, MAX_ORDERS_PAGE)
        return {"after": after.isoformat(), "before": before.isoformat(), "size": size}

    def render_refund(self, order: Order, refund: Refund) -> dict[str, Any]:
        lines = {line.id: line for line in order.lines}
        refunded = [(lines[line_id], quantity) for line_id, quantity in refund.lines]
        shares = [refund.amount if n == 0 else Decimal(0) for n in range(len(refunded))]  # the money on the first
        return {"AmazonOrderId": amazon_order_id(order), "SellerOrderId": str(order.number),
                "MarketplaceName": self.sales_channel, "PostedDate": stamp(refund.created_at),
                "ShipmentItemAdjustmentList": [{
                    "SellerSKU": line.sku.code, "OrderAdjustmentItemId": f"{line.id:014d}", "QuantityShipped": quantity,
                    "ItemChargeAdjustmentList": [{"ChargeType": "Principal", "ChargeAmount": {
                        "CurrencyCode": order.currency, "CurrencyAmount": float(-share)}}]}
                    for (line, quantity), share in zip(refunded, shares, strict=True)]}


    # -- reports ----------------------------------------------------------------------------------------------
    def createReport(self, request: Request) -> Response:
        answered = self.served("createReport", request, lambda: self.create_report(request))
        if answered.status_code == 200:
            answered.status_code = 202
        return answered

    def create_report(self, request: Request) -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("reportType") != ALL_ORDERS:
            raise invalid(f"reportType must be {ALL_ORDERS} (the only report this sandbox makes)")
        marketplaces = [m for m in body.get("marketplaceIds") or [] if isinstance(m, str)]
        if not marketplaces:
            raise invalid("Missing required parameter: marketplaceIds")
        latest = datetime.now(UTC)
        start = parse_time("dataStartTime", body["dataStartTime"]) if body.get("dataStartTime") else latest - timedelta(days=30)
        end = parse_time("dataEndTime", body["dataEndTime"]) if body.get("dataEndTime") else latest
        if end < start:
            raise invalid("dataEndTime must be after dataStartTime")
        report_id = str(50_000_000_000 + len(self.reports) + 1)
        ending = self.report_endings.pop(0) if self.report_endings else "DONE"
        self.reports[report_id] = {"reportId": report_id, "reportType": ALL_ORDERS, "marketplaceIds": marketplaces,
                                   "dataStartTime": stamp(start), "dataEndTime": stamp(end),
                                   "createdTime": stamp(latest), "processingStatus": PROCESSING[0], "_ending": ending}
        return {"reportId": report_id}

    def getReport(self, request: Request, report_id: str) -> Response:
        return self.served("getReport", request, lambda: self.get_report(report_id))

    def get_report(self, report_id: str) -> dict[str, Any]:
        report = self.reports.get(report_id)
        if report is None:
            raise Refused(404, "NotFound", f"Report {report_id} not found")
        if report["processingStatus"] in PROCESSING:  # one step further each time it is asked
            step = PROCESSING.index(report["processingStatus"]) + 1
            report["processingStatus"] = PROCESSING[step] if step < len(PROCESSING) else report["_ending"]
            if report["processingStatus"] == "DONE":
                report["reportDocumentId"] = self.store(self.report_document(report))
            if report["processingStatus"] == "FATAL":
                report["reportDocumentId"] = self.store(json.dumps({"errorDetails": "The report could not be "
                                                                    "generated (internal error)."}).encode())
        return {key: value for key, value in report.items() if not key.startswith("_")}

    def store(self, content: bytes) -> str:
        document_id = f"amzn1.spdoc.1.4.na.{uuid.uuid4()}"
        self.documents[document_id] = gzip.compress(content)
        return document_id

    def report_document(self, report: dict[str, Any]) -> bytes:
        start, end = parse_time("", report["dataStartTime"]), parse_time("", report["dataEndTime"])
        chosen = sorted((o for o in self.world.orders_of(self.shop.name)
                         if start <= o.updated_at.replace(microsecond=0) <= end
                         and self.marketplace_id in report["marketplaceIds"]), key=lambda o: (o.updated_at, o.id))
        self.count_records("orders", len(chosen))
        out = io.StringIO()
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(REPORT_COLUMNS)
        for order in chosen:
            writer.writerows(self.report_rows(order))
        return out.getvalue().encode()

    def report_rows(self, order: Order) -> list[list[str]]:
        status, zero = self.status(order), Decimal(0)
        flat_status = {"Canceled": "Cancelled"}.get(status, status)
        when = {"purchase": order.created_at.replace(microsecond=0).isoformat(),
                "updated": order.updated_at.replace(microsecond=0).isoformat()}

        def amount(value: Decimal) -> str:
            return str(value.quantize(quantum(order.currency)))

        return [[amazon_order_id(order), str(order.number), when["purchase"], when["updated"], flat_status,
                 "Amazon" if self.channel(order) == "AFN" else "Merchant", self.sales_channel, "", "Std Dom",
                 f"{line.sku.product} {line.sku.variant}", line.sku.code, asin(line.sku),
                 "Shipped" if status == "Shipped" else flat_status, str(line.quantity), order.currency,
                 amount(line.amount), amount(zero), amount(order.shipping if n == 0 else zero), amount(zero), "", "",
                 amount(-order.discount if n == 0 else zero), amount(zero), "Seattle", "WA", "98109", "US", "",
                 "false", "", ""] for n, line in enumerate(order.lines)]

    def getReportDocument(self, request: Request, document_id: str) -> Response:
        def document() -> dict[str, Any]:
            if document_id not in self.documents:
                raise Refused(404, "NotFound", f"Report document {document_id} not found")
            return {"reportDocumentId": document_id, "compressionAlgorithm": "GZIP",
                    "url": f"{request.host_url.rstrip('/')}/__documents__/{document_id}"}
        return self.served("getReportDocument", request, document)

    def download(self, request: Request, document_id: str) -> Response:
        if document_id not in self.documents:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", 404, content_type="application/xml")
        return Response(self.documents[document_id], 200, content_type="text/tab-separated-values; charset=UTF-8")


    # -- feeds ---------------------------------------------------------------------------------------------------
    def createFeedDocument(self, request: Request) -> Response:
        def create() -> dict[str, Any]:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not body.get("contentType"):
                raise invalid("Missing required parameter: contentType")
            document_id = f"amzn1.tortuga.4.na.{uuid.uuid4()}"
            self.uploads[document_id] = None
            return {"feedDocumentId": document_id, "url": f"{request.host_url.rstrip('/')}/__uploads__/{document_id}"}
        answered = self.served("createFeedDocument", request, create)
        if answered.status_code == 200:
            answered.status_code = 201
        return answered

    def upload(self, request: Request, document_id: str) -> Response:
        if document_id not in self.uploads:
            return Response(b"<Error><Code>NoSuchUpload</Code></Error>", 404, content_type="application/xml")
        self.uploads[document_id] = request.get_data()
        return Response(b"", 200)

    def createFeed(self, request: Request) -> Response:
        answered = self.served("createFeed", request, lambda: self.create_feed(request))
        if answered.status_code == 200:
            answered.status_code = 202
        return answered

    def create_feed(self, request: Request) -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("feedType") != "JSON_LISTINGS_FEED":
            raise invalid("feedType must be JSON_LISTINGS_FEED (the only feed this sandbox takes)")
        if not body.get("marketplaceIds") or self.uploads.get(body.get("inputFeedDocumentId", "")) is None:
            raise invalid("marketplaceIds and the inputFeedDocumentId of an uploaded document are required")
        feed_id = str(60_000_000_000 + len(self.feeds) + 1)
        self.feeds[feed_id] = {"feedId": feed_id, "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": body["marketplaceIds"],
                               "createdTime": stamp(datetime.now(UTC)), "processingStatus": PROCESSING[0],
                               "_input": body["inputFeedDocumentId"]}
        return {"feedId": feed_id}

    def getFeed(self, request: Request, feed_id: str) -> Response:
        return self.served("getFeed", request, lambda: self.get_feed(feed_id))

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        feed = self.feeds.get(feed_id)
        if feed is None:
            raise Refused(404, "NotFound", f"Feed {feed_id} not found")
        if feed["processingStatus"] in PROCESSING:
            step = PROCESSING.index(feed["processingStatus"]) + 1
            feed["processingStatus"] = PROCESSING[step] if step < len(PROCESSING) else "DONE"
            if feed["processingStatus"] == "DONE":
                feed["resultFeedDocumentId"] = self.store(json.dumps(self.process(feed)).encode())
        return {key: value for key, value in feed.items() if not key.startswith("_")}

    def process(self, feed: dict[str, Any]) -> dict[str, Any]:
        """Apply a JSON_LISTINGS_FEED's messages; its processing report."""
        try:
            content = json.loads(self.uploads[feed["_input"]] or b"")
        except ValueError:
            content = None
        if not isinstance(content, dict) or (content.get("header") or {}).get("sellerId") != self.seller_id:
            issues = [{"messageId": 0, "code": "100001", "severity": "ERROR",
                       "message": "The feed is not a JSON_LISTINGS_FEED of this seller"}]
            return self.processing_report(feed, issues, 0)
        issues, messages = [], content.get("messages") or []
        for message in messages:
            sku = self.sku_of.get(str(message.get("sku")))
            operation = message.get("operationType")
            patches = (message.get("patches") if operation == "PATCH" else
                       [{"op": "replace", "path": f"/attributes/{name}", "value": value}
                        for name, value in (message.get("attributes") or {}).items()])
            try:
                quantity, refused = self.availability(sku, patches or []) if sku else (None, [self.issue("SKU not found")])
            except Refused as exc:
                quantity, refused = None, [self.issue(exc.message)]
            issues += [{**issue, "messageId": message.get("messageId")} for issue in refused]
            if sku is not None and not refused and quantity is not None:
                self.stock.settle({sku.index: quantity})
        return self.processing_report(feed, issues, len(messages))

    def processing_report(self, feed: dict[str, Any], issues: list[dict[str, Any]], processed: int) -> dict[str, Any]:
        invalid_messages = len({issue["messageId"] for issue in issues})
        return {"header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]}, "issues": issues,
                "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": processed,
                            "messagesAccepted": processed - invalid_messages, "messagesInvalid": invalid_messages}}

    def getFeedDocument(self, request: Request, document_id: str) -> Response:
        def document() -> dict[str, Any]:
            if document_id not in self.documents:
                raise Refused(404, "NotFound", f"Feed document {document_id} not found")
            return {"feedDocumentId": document_id, "compressionAlgorithm": "GZIP",
                    "url": f"{request.host_url.rstrip('/')}/__documents__/{document_id}"}
        return self.served("getFeedDocument", request, document)


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = AmazonSandbox(world, account, client_id=credentials["client_id"],
                            client_secret=credentials["client_secret"], refresh_token=credentials["refresh_token"],
                            seller_id=str(settings["seller_id"]), quota_scale=DEMO_PLAN)
    return Running(account, "amazon", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"client_id": "amzn1.application-oa2-client.", "client_secret": "amzn1.oa2-cs.v1.",
                             "refresh_token": "Atzr|"})
