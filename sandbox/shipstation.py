"""ShipStation emulator (API V1, ``ssapi.shipstation.com``): ``GET /shipments`` and ``GET /orders``,
rendering the World's parcels of the shops ShipStation ships for (``world.shipments_of("shipstation")``)
and those shops' orders, as ShipStation shows them when the World's clock reads ``world.now``.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 9a), written from
ShipStation's documents, not from a client:

* HTTP Basic, API key as user and API secret as password; a missing or wrong pair is 401
  ``{"message": "Invalid API credentials"}``;
* 40 requests a minute per key and secret: every answer carries ``X-Rate-Limit-Limit``,
  ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds until the window resets); beyond it, 429
  with the same headers. The window here is fixed (``rate_limit`` requests per ``window`` seconds;
  ``rate_limit=None`` turns the limit and its headers off);
* lists ``{"<objects>": [...], "total", "page", "pages"}``; ``page`` from 1, ``pageSize`` up to 500
  (default 100), ``sortBy`` (shipments: ``CreateDate``, ``ShipDate``; orders: ``CreateDate``,
  ``ModifyDate``, ``OrderDate``) and ``sortDir``; ``createDateStart``/``End`` and
  ``voidDateStart``/``End`` on shipments (a void bound lists only voided labels),
  ``createDateStart``/``End`` and ``modifyDateStart``/``End`` on orders, ``orderNumber``,
  ``trackingNumber``, ``orderStatus``; shipment items only with ``includeShipmentItems=true``. Every date
  bound is inclusive at both ends: ShipStation's documents name the filters without saying, so the
  sandbox takes the reading its other date filters have;
* times are US Pacific wall clock without an offset (``2026-03-01T10:00:00.0000000``, as ShipStation
  writes them), and the ``…DateStart`` filters are read in the same zone (``2026-03-01 10:00:00``);
* a bad parameter is 400 ``{"message": "Invalid request parameters"}``; a server fault is 500 in
  ASP.NET's shape (``{"Message": "An error has occurred."}``).

What a store integration fills (the Shopify one; README of the connector): ``orderKey`` is the shop's
order id, ``orderNumber`` the number the shop shows, ``advancedOptions.storeId`` the connected store, and
``advancedOptions.customField1`` the hub's shop account, which the merchant's automation rule sets per
store. Carriers are ShipStation's codes (``stamps_com`` for USPS, ``ups``, ``fedex``, ``dhl_express``).
A label is ``voided`` (with ``voidDate``) where the shipper voided it: one parcel in ``VOID_EVERY`` had a
first label voided before the one it travels under, which ShipStation lists too; and a label the merchant
voids later (:meth:`ShipstationSandbox.void`), however long after it was made.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import Order, Shipment, World

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 500
RATE_LIMIT, WINDOW = 40, 60.0  # requests per minute per API key and secret
DEFAULT_KEY, DEFAULT_SECRET = "ss_key_sandbox", "ss_secret_sandbox"
VOID_EVERY = 15  # one parcel in this many had a label voided first
CARRIER_CODES = {"USPS": "stamps_com", "UPS": "ups", "FedEx": "fedex", "DHLExpress": "dhl_express"}
SERVICE_CODES = {"GroundAdvantage": "usps_ground_advantage", "Priority": "usps_priority_mail", "Ground": "ups_ground",
                 "Standard": "ups_standard_international", "FEDEX_GROUND": "fedex_ground",
                 "ExpressWorldwide": "express_worldwide"}
SORTS = {"shipments": ("CreateDate", "ShipDate"), "orders": ("CreateDate", "ModifyDate", "OrderDate")}
FILTERS = {"shipments": ("createDate", "voidDate"), "orders": ("createDate", "modifyDate")}


def stamp(when: datetime) -> str:
    """ShipStation's time: Pacific wall clock, seven decimals, no offset."""
    return when.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def message(status: int, text: str, key: str = "message") -> Response:
    return json_response({key: text}, status)


def parse_bound(text: str) -> datetime | None:
    """A ``…DateStart``/``End`` value, Pacific wall clock (``2026-03-01 10:00:00`` or ISO), or None."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=PACIFIC)


class Label:
    """One ShipStation label: a World parcel's, or the one voided before it (``voided_at``)."""

    __slots__ = ("created_at", "number", "shipment", "tracking_code", "voided_at")

    def __init__(self, number: int, shipment: Shipment, created_at: datetime, tracking_code: str,
                 voided_at: datetime | None = None) -> None:
        self.number, self.shipment, self.created_at = number, shipment, created_at
        self.tracking_code, self.voided_at = tracking_code, voided_at


class ShipstationSandbox(HttpSandbox):
    name = "shipstation"

    def __init__(self, world: World, api_key: str = DEFAULT_KEY, api_secret: str = DEFAULT_SECRET, *,
                 rate_limit: int | None = RATE_LIMIT, window: float = WINDOW) -> None:
        super().__init__(world)
        self.api_key, self.api_secret = api_key, api_secret
        self.rate_limit, self.window = rate_limit, window
        self._window_start, self._window_used = time.monotonic(), 0
        self._spent_next = False
        self._window_lock = threading.Lock()
        self.voided: dict[int, datetime] = {}  # label number → when the merchant voided it (:meth:`void`)
        # each authenticated request as it arrived: path, query, monotonic time, the headers answered
        self.log: list[dict[str, Any]] = []
        self.routes = Map([
            Rule("/shipments", endpoint="list_endpoint", defaults={"kind": "shipments"}, methods=["GET"]),
            Rule("/orders", endpoint="list_endpoint", defaults={"kind": "orders"}, methods=["GET"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        response = message(429, "Too Many Requests")
        limit = self.rate_limit or RATE_LIMIT
        response.headers.update({"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": "0",
                                 "X-Rate-Limit-Reset": str(self.seconds_to_reset() if self.rate_limit else 1)})
        return response

    def server_error(self, request: Request) -> Response:
        return message(500, "An error has occurred.", "Message")

    def not_found(self, request: Request) -> Response:
        return message(404, "No HTTP resource was found that matches the request URI.", "Message")

    def authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        if auth is None or auth.type != "basic" or (auth.username, auth.password) != (self.api_key, self.api_secret):
            return message(401, "Invalid API credentials")
        return None

    def spend_next_window(self) -> None:
        """Another client of the same key spends the next window at once: the next request opens a window
        with nothing left in it (429, and a whole window to wait)."""
        self._spent_next = True

    def seconds_to_reset(self) -> int:
        """Whole seconds until the window resets, as ShipStation's ``X-Rate-Limit-Reset`` says (rounded up,
        so waiting that long always reaches the next window)."""
        return max(1, math.ceil(self._window_start + self.window - time.monotonic()))

    def before_request(self, request: Request) -> Response | None:
        """Counts the request in the key's window: refused with 429 once the window's requests are spent."""
        headers: dict[str, str] = {}
        if self.rate_limit:
            with self._window_lock:
                if self._spent_next or time.monotonic() >= self._window_start + self.window:
                    self._window_start = time.monotonic()
                    self._window_used, self._spent_next = self.rate_limit if self._spent_next else 0, False
                allowed = self._window_used < self.rate_limit
                self._window_used += allowed
                headers = {"X-Rate-Limit-Limit": str(self.rate_limit),
                           "X-Rate-Limit-Remaining": str(self.rate_limit - self._window_used),
                           "X-Rate-Limit-Reset": str(self.seconds_to_reset())}
        with self._lock:
            self.log.append({"path": request.path, **request.args.to_dict(), "at": time.monotonic(),
                             "refused": bool(headers) and not allowed, **headers})
        request.environ["shipstation.headers"] = headers
        if headers and not allowed:
            self.stats.faults_served["throttled"] += 1
            response = message(429, "Too Many Requests")
            response.headers.update(headers)
            return response
        return None

    def after_request(self, request: Request, response: Response) -> Response:
        if response.status_code != 429:
            response.headers.update(request.environ.get("shipstation.headers") or {})
        return response

    # -- endpoints --------------------------------------------------------------------------------------
    def list_endpoint(self, request: Request, kind: str) -> Response:
        args = request.args
        try:
            page, size = int(args.get("page", 1)), int(args.get("pageSize", DEFAULT_PAGE_SIZE))
        except ValueError:
            return message(400, "Invalid request parameters")
        sort_by, sort_dir = args.get("sortBy", "CreateDate"), args.get("sortDir", "ASC").upper()
        if not (page >= 1 and 1 <= size <= MAX_PAGE_SIZE) or sort_by not in SORTS[kind] or sort_dir not in ("ASC", "DESC"):
            return message(400, "Invalid request parameters")
        bounds: dict[str, datetime | None] = {}
        for field in FILTERS[kind]:
            for end in ("Start", "End"):
                if args.get(field + end):
                    bounds[field + end] = parse_bound(args[field + end])
                    if bounds[field + end] is None:
                        return message(400, "Invalid request parameters")
        rows = self.shipments(args) if kind == "shipments" else self.orders(args)
        for field in FILTERS[kind]:
            start, end = bounds.get(field + "Start"), bounds.get(field + "End")
            if start is not None or end is not None:  # a record without the date (a live label's void) is out
                rows = [row for row in rows if row[field] is not None and (start is None or row[field] >= start)
                        and (end is None or row[field] <= end)]
        sort_field = sort_by[0].lower() + sort_by[1:]
        rows.sort(key=lambda row: (row[sort_field], row["id"]), reverse=sort_dir == "DESC")
        items = args.get("includeShipmentItems", "false").lower() == "true"
        chosen = rows[(page - 1) * size: page * size]
        rendered = [self.render_label(row["label"], items) if kind == "shipments" else self.render_order(row["order"], row["parcel"])
                    for row in chosen]
        self.count_records(kind, len(rendered))
        return json_response({kind: rendered, "total": len(rows), "page": page, "pages": math.ceil(len(rows) / size)})

    # -- what the account holds -------------------------------------------------------------------------
    def labels(self) -> list[Label]:
        """Every label created by the World's clock, voided ones too, oldest first."""
        now, labels = self.world.now, []
        for index, shipment in enumerate(self.world.shipments_of("shipstation")):
            if shipment.created_at > now:
                continue
            number = 300_000_000 + 2 * index
            if index % VOID_EVERY == VOID_EVERY - 1:  # bought wrong, voided, bought again
                first = shipment.created_at - timedelta(hours=1)
                code = shipment.tracking_code[:-4] + f"{int(shipment.tracking_code[-4:]) ^ 1:04d}" \
                    if shipment.tracking_code[-4:].isdigit() else shipment.tracking_code + "V"
                labels.append(Label(number + 1, shipment, first, code, first + timedelta(minutes=30)))
            labels.append(Label(number, shipment, shipment.created_at, shipment.tracking_code, self.voided.get(number)))
        return sorted(labels, key=lambda label: (label.created_at, label.number))

    def void(self, label: Label) -> datetime:
        """The merchant voids a live label now (the World's clock moves on a minute), however long after it
        was made: ShipStation lists it ``voided``, with that ``voidDate``. Returns the time."""
        if label.voided_at is not None:
            raise ValueError(f"label {label.number} is voided already")
        self.voided[label.number] = voided = self.world.tick()
        return voided

    def shipments(self, args: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = []
        for label in self.labels():
            order = label.shipment.order
            if args.get("orderNumber", str(order.number)) != str(order.number) or \
                    args.get("trackingNumber", label.tracking_code) != label.tracking_code:
                continue
            rows.append({"id": label.number, "label": label, "createDate": label.created_at,
                         "voidDate": label.voided_at, "shipDate": label.created_at.astimezone(PACIFIC).date()})
        return rows

    def shipped(self) -> dict[int, Shipment]:
        """Order id → its live label's parcel, for the labels created by now."""
        return {shipment.order.id: shipment for shipment in self.world.shipments_of("shipstation")
                if shipment.created_at <= self.world.now}

    def orders(self, args: Mapping[str, str]) -> list[dict[str, Any]]:
        shops = {shop for shop, shipper in self.world.shippers.items() if shipper == "shipstation"}
        shipped, rows = self.shipped(), []
        for order in self.world.orders:
            if order.shop not in shops or order.created_at > self.world.now:
                continue
            parcel = shipped.get(order.id)
            status = self.status(order, parcel)
            if args.get("orderStatus", status) != status or args.get("orderNumber", str(order.number)) != str(order.number):
                continue
            modified = max(order.updated_at, parcel.created_at) if parcel else order.updated_at
            rows.append({"id": self.order_id(order), "order": order, "parcel": parcel, "createDate": order.created_at,
                         "modifyDate": modified, "orderDate": order.created_at})
        return rows

    @staticmethod
    def status(order: Order, parcel: Shipment | None) -> str:
        if parcel is not None:
            return "shipped"
        if order.cancelled_at is not None:
            return "cancelled"
        return "awaiting_payment" if order.financial_status == "pending" else "awaiting_shipment"

    @staticmethod
    def order_id(order: Order) -> int:
        """ShipStation's own id of an imported order."""
        return 200_000_000 + order.id % 1_000_000_000

    # -- rendering --------------------------------------------------------------------------------------
    def advanced_options(self, order: Order) -> dict[str, Any]:
        return {"warehouseId": 16079, "storeId": 40_000 + sorted(self.world.shippers).index(order.shop),
                "customField1": order.shop, "customField2": None, "customField3": None, "source": "shopify",
                "mergedOrSplit": False, "billToParty": None}

    def item(self, order: Order, line_index: int) -> dict[str, Any]:
        line = order.lines[line_index]
        return {"orderItemId": 100_000_000 + line.id % 1_000_000_000, "lineItemKey": str(line.id),
                "sku": line.sku.code, "name": f"{line.sku.product} {line.sku.variant}", "imageUrl": None,
                "weight": {"value": 16.0, "units": "ounces"}, "quantity": line.quantity,
                "unitPrice": float(line.unit_price), "taxAmount": None, "shippingAmount": None,
                "warehouseLocation": None, "options": [], "productId": None, "fulfillmentSku": None,
                "adjustment": False, "upc": line.sku.barcode}

    def ship_to(self, order: Order, parcel: Shipment | None) -> dict[str, Any]:
        city, state, country, zip_code = parcel.events[-1].city if parcel else (None, None, None, None)
        return {"name": f"{order.customer.first_name} {order.customer.last_name}", "company": None,
                "street1": None, "city": city, "state": state, "postalCode": zip_code, "country": country,
                "phone": order.customer.phone, "residential": True}

    def render_label(self, label: Label, items: bool) -> dict[str, Any]:
        shipment, order = label.shipment, label.shipment.order
        return {
            "shipmentId": label.number, "orderId": self.order_id(order), "orderKey": str(order.id),
            "userId": "c9f06d74-95de-4263-9b04-e87095cababf", "customerEmail": order.customer.email,
            "orderNumber": str(order.number), "createDate": stamp(label.created_at),
            "shipDate": label.created_at.astimezone(PACIFIC).date().isoformat(),
            "shipmentCost": float(shipment.cost), "insuranceCost": 0.0, "trackingNumber": label.tracking_code,
            "isReturnLabel": False, "batchNumber": None, "carrierCode": CARRIER_CODES[shipment.carrier],
            "serviceCode": SERVICE_CODES.get(shipment.service, shipment.service.lower()), "packageCode": "package",
            "confirmation": "delivery", "warehouseId": 16079, "voided": label.voided_at is not None,
            "voidDate": stamp(label.voided_at) if label.voided_at else None, "marketplaceNotified": True,
            "notifyErrorMessage": None, "shipTo": self.ship_to(order, shipment),
            "weight": {"value": 16.0 * len(order.lines), "units": "ounces"}, "dimensions": None,
            "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0.0},
            "advancedOptions": self.advanced_options(order),
            "shipmentItems": [self.item(order, n) for n in range(len(order.lines))] if items else None,
            "labelData": None, "formData": None,
        }

    def render_order(self, order: Order, parcel: Shipment | None) -> dict[str, Any]:
        status = self.status(order, parcel)
        modified = max(order.updated_at, parcel.created_at) if parcel else order.updated_at
        paid = order.financial_status not in ("pending", "voided")
        return {
            "orderId": self.order_id(order), "orderNumber": str(order.number), "orderKey": str(order.id),
            "orderDate": stamp(order.created_at), "createDate": stamp(order.created_at), "modifyDate": stamp(modified),
            "paymentDate": stamp(order.created_at) if paid else None, "shipByDate": None, "orderStatus": status,
            "customerId": order.customer.id, "customerUsername": order.customer.email,
            "customerEmail": order.customer.email, "billTo": self.ship_to(order, None),
            "shipTo": self.ship_to(order, parcel), "items": [self.item(order, n) for n in range(len(order.lines))],
            "orderTotal": float(order.total), "amountPaid": float(order.total) if paid else 0.0,
            "taxAmount": float(order.tax), "shippingAmount": float(order.shipping), "customerNotes": None,
            "internalNotes": None, "gift": False, "paymentMethod": "shopify_payments",
            "requestedShippingService": None,
            "carrierCode": CARRIER_CODES[parcel.carrier] if parcel else None,
            "serviceCode": SERVICE_CODES.get(parcel.service) if parcel else None, "packageCode": None,
            "confirmation": "none", "shipDate": parcel.created_at.astimezone(PACIFIC).date().isoformat() if parcel else None,
            "holdUntilDate": None, "weight": {"value": 16.0 * len(order.lines), "units": "ounces"}, "dimensions": None,
            "insuranceOptions": {"provider": None, "insureShipment": False, "insuredValue": 0.0},
            "internationalOptions": {"contents": None, "customsItems": None, "nonDelivery": None},
            "advancedOptions": self.advanced_options(order), "tagIds": None, "userId": None,
            "externallyFulfilled": False, "externallyFulfilledBy": None,
        }


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = ShipstationSandbox(world, credentials["api_key"], credentials["api_secret"])
    return Running(account, "shipstation", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start)
