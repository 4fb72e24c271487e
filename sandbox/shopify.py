"""Shopify Admin REST API emulator for one shop of the World.

What it reproduces, because connectors and official clients depend on it:

* paths ``/admin/api/<version>/<resource>.json`` and ``/admin/oauth/access_scopes.json``, single objects
  (``orders/<id>.json``…, 404 ``{"errors": "Not Found"}``), ``<resource>/count.json`` with the list's
  filters and ``orders/<id>/refunds.json``;
* versions: a supported version in the URL is echoed in ``X-Shopify-API-Version``; an unsupported or
  unknown one falls forward to the oldest supported stable version (the sandbox's ``api_version``);
* ``X-Shopify-Access-Token`` auth with Shopify's 401 body;
* the leaky bucket (40 calls, 2/s leak) reported in ``X-Shopify-Shop-Api-Call-Limit`` on every
  response, 429 with ``Retry-After: 2.0`` when the bucket overflows;
* cursor pagination: an opaque ``page_info`` in ``Link`` headers (``rel="next"``/``rel="previous"``),
  no ``Link`` on a single page, and a 400 when a ``page_info`` request carries anything but ``limit``
  and ``fields``;
* list filters (``limit`` 1..250, default 50; ``since_id``, ``ids``, ``updated_at_min/max``,
  ``created_at_min/max``, ``status`` defaulting to *open* for orders, ``fields``, ``order``); times
  may be a date (midnight), have no zone (both read in the shop's zone), an offset or ``Z``;
* money as strings (``"40.00"``) and timestamps in the shop's zone with their offset;
* ``POST /admin/api/<version>/graphql.json`` for the two operations a stock push needs, not a
  GraphQL engine: the ``inventorySetQuantities`` mutation (compare-and-set, user errors, at most 250
  quantities per call) and ``nodes(ids:)`` on inventory levels, recognised by their root field and
  fed from ``variables``. They run under Shopify's calculated-cost bucket (1000 points, 50 restored
  per second), reported in ``extensions.cost`` of every answer, with the documented ``THROTTLED``
  body (HTTP 200) when a request costs more than is left.

Rows are indexed once per change of the world (sorted keys + ``bisect``) and rendered to dicts only
for the page being served, so 100k orders are served at thousands per second.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import CENT, EPOCH, RATES, VARIANTS, WAREHOUSES, Order, Refund, Sku, World

DEFAULT_LIMIT, MAX_LIMIT = 50, 250
PAGE_INFO_ALLOWED = frozenset({"page_info", "limit", "fields"})
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
DEFAULT_SCOPES = ("read_orders", "read_all_orders", "read_products", "read_customers", "read_inventory",
                  "write_inventory", "read_locations")
# The access scope each REST resource needs; without it Shopify answers 403 naming the scope.
RESOURCE_SCOPES = {"orders": "read_orders", "events": "read_orders", "products": "read_products",
                   "customers": "read_customers", "inventory_items": "read_inventory",
                   "inventory_levels": "read_inventory", "set": "write_inventory", "locations": "read_locations"}
# Sandbox id spaces, disjoint from the World's order/customer ids.
PRODUCT_ID, VARIANT_ID, ITEM_ID, LOCATION_ID = 7_000_000_000, 4_000_000_000, 4_500_000_000, 60_000_000
EVENT_ID = 12_870_000_000_000  # Shopify's event ids are large (1.2e13 and up); one block of 1e9 per shop
SINGLE = {"orders": "order", "products": "product", "customers": "customer"}  # resources with <id>.json
COUNTED = ("orders", "products", "customers", "events")  # resources with count.json
SUPPORTED_RELEASES = 5  # stable versions supported at once: each lives about a year, one per quarter
SORTS = {"id asc": "", "updated_at asc": "updated_at", "created_at asc": "created_at"}
# GraphQL Admin: calculated-cost bucket (older documented Standard figures), mutation base cost, the
# input-array cap every bulk mutation shares, and the reasons inventorySetQuantities accepts.
COST_BUCKET_SIZE, COST_RESTORE_RATE, MUTATION_COST = 1000.0, 50.0, 10
MAX_INPUT_SIZE, MAX_QUANTITY = 250, 1_000_000_000
THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"
SET_REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
    "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
    "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock", "shrinkage"})
ROOT_FIELD = re.compile(r"\b(inventorySetQuantities|nodes)\s*\(")
ARGUMENT_VARIABLE = {"inventorySetQuantities": re.compile(r"inventorySetQuantities\s*\(\s*input\s*:\s*\$(\w+)"),
                     "nodes": re.compile(r"nodes\s*\(\s*ids\s*:\s*\$(\w+)")}
GID = re.compile(r"^gid://shopify/(?P<type>\w+)/(?P<id>\d+)(?:\?inventory_item_id=(?P<item>\d+))?$")
URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")

Row = Any  # anything with ``id``, ``created_at`` and ``updated_at``


class BadRequest(Exception):
    """A request Shopify rejects; carries the status and the ``errors`` value of the body."""

    def __init__(self, errors: Any, status: int = 400) -> None:
        super().__init__(errors)
        self.errors, self.status = errors, status


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def money_set(order: Order, amount: Decimal) -> dict[str, Any]:
    """Shopify's ``*_set`` money: the amount in the shop's currency and in the one the customer saw."""
    return {"shop_money": {"amount": money(amount), "currency_code": order.currency},
            "presentment_money": {"amount": money(order.paid(amount)), "currency_code": order.paid_currency}}


def parse_time(name: str, value: str, zone: ZoneInfo) -> datetime:
    """Every form Shopify reads: ``2026-01-01`` (midnight) and ``2026-01-01T10:00:00`` in the shop's
    zone, ``…-04:00`` and ``…Z`` as given."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest({name: "Invalid value."}) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def releases(oldest: str, count: int) -> tuple[str, ...]:
    """``count`` quarterly versions from ``oldest`` (``2024-07``, ``2024-10``, ``2025-01``…)."""
    year, month = map(int, oldest.split("-"))
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month >= 10 else (year, month + 3)
    return tuple(found)


def parse_ids(name: str, value: str) -> set[int]:
    try:
        return {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        raise BadRequest({name: "Invalid value."}) from None


def throttle_status(bucket: Bucket) -> dict[str, Any]:
    """GraphQL's ``extensions.cost.throttleStatus`` of the cost bucket."""
    return {"maximumAvailable": float(bucket.size), "currentlyAvailable": int(bucket.available()),
            "restoreRate": float(bucket.rate)}


class GraphQLError(Exception):
    """A request-level GraphQL error (HTTP 200, top-level ``errors``): nothing was executed."""

    def __init__(self, message: str, code: str, **extra: Any) -> None:
        super().__init__(message)
        self.error = {"message": message, "extensions": {"code": code}, **extra}


@dataclass(frozen=True)
class InventoryChange:
    """One quantity ``inventorySetQuantities`` applied; tests count these to prove nothing is applied twice."""

    inventory_item_id: int
    location_id: int
    before: int
    after: int
    reference: str | None


@dataclass(slots=True)
class Product:
    id: int
    skus: list[Sku]
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Location:
    id: int
    code: str
    name: str
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass(slots=True)
class Level:
    """Available quantity of one inventory item at one location; ``world_version`` is the World
    stock version last copied in, so World stock changes show up but sandbox ``set`` calls win."""

    id: int
    inventory_item_id: int
    location_id: int
    available: int
    updated_at: datetime
    world_version: int

    @property
    def created_at(self) -> datetime:
        return EPOCH


@dataclass(slots=True)
class Event:
    id: int
    subject_id: int
    subject_type: str
    verb: str
    created_at: datetime
    message: str
    arguments: list[str]

    @property
    def updated_at(self) -> datetime:
        return self.created_at


@dataclass(frozen=True)
class Index:
    rows: list[Row]
    keys: list[tuple]


@dataclass(frozen=True)
class Listing:
    """How one resource is listed: its rows, renderer, extra filters and whether ``status`` applies."""

    name: str
    rows: Callable[[], Iterable[Row]]
    render: Callable[[Row], dict[str, Any]]
    filters: Callable[[dict[str, str]], list[Callable[[Row], bool]]] = lambda params: []
    default_sort: str = "id asc"


class ShopifySandbox(HttpSandbox):
    """One Shopify shop of the World behind the Admin REST API."""

    name = "shopify"

    def __init__(self, world: World, shop: str = "shop_us", access_token: str = "shpat_sandbox",
                 api_version: str = "2024-07", *, bucket_size: int = 40, leak_rate: float = 2.0,
                 rate_limiting: bool = True, scopes: tuple[str, ...] = DEFAULT_SCOPES,
                 cost_bucket_size: float = COST_BUCKET_SIZE, cost_restore_rate: float = COST_RESTORE_RATE) -> None:
        super().__init__(world)
        self.shop = world.shop(shop)
        self.zone = ZoneInfo(self.shop.timezone)
        self.access_token, self.api_version, self.scopes = access_token, api_version, scopes
        self.versions = frozenset({*releases(api_version, SUPPORTED_RELEASES), "unstable"})
        self.bucket = Bucket(bucket_size, leak_rate)  # the REST bucket: one per call, leaking leak_rate/s
        self.rate_limiting = rate_limiting
        self.retry_after = 2.0
        self.set_calls: list[dict[str, Any]] = []
        self.cost_bucket = Bucket(cost_bucket_size, cost_restore_rate)  # GraphQL's calculated-cost bucket
        self.graphql_calls: list[Any] = []  # request bodies, in arrival order
        self.inventory_changes: list[InventoryChange] = []
        self.throttled_calls = 0  # GraphQL calls the cost bucket refused (injected faults not counted)
        self.log: list[tuple[str, dict[str, str], int]] = []  # (path, query args, status) per request
        self.events: list[Event] = []
        self._deleted: set[int] = set()
        self._revision = 0
        self._indexes: dict[tuple[str, str], tuple[tuple, Index]] = {}
        self.products = self._make_products()
        self.locations = [Location(LOCATION_ID + int(code), code, name) for code, name, _ in WAREHOUSES]
        self._location_by_code = {location.code: location for location in self.locations}
        self._skus_by_item = {ITEM_ID + sku.index: sku for sku in world.skus}
        self._levels: dict[tuple[int, int], Level] = {}
        self._levels_stamp: tuple = ()
        self._sync_levels()
        self.listings = {
            "orders": Listing("orders", self.orders, self.render_order, self._order_filters),
            "products": Listing("products", lambda: self.products, self.render_product),
            "customers": Listing("customers", lambda: self.world.customers, self.render_customer),
            "inventory_items": Listing("inventory_items", self._inventory_items, self.render_inventory_item),
            "inventory_levels": Listing("inventory_levels", self._levels_rows, self.render_level,
                                        self._level_filters, default_sort="updated_at asc"),
            "events": Listing("events", lambda: self.events, self.render_event, self._event_filters),
        }
        api = "/admin/api/<version>"
        self.routes = Map([
            *(Rule(f"{api}/{name}.json", endpoint="list_endpoint", methods=["GET"], defaults={"resource": name})
              for name in self.listings),
            *(Rule(f"{api}/{name}/count.json", endpoint="count_endpoint", methods=["GET"], defaults={"resource": name})
              for name in COUNTED),
            *(Rule(f"{api}/{name}/<int:object_id>.json", endpoint="object_endpoint", methods=["GET"],
                   defaults={"resource": name}) for name in SINGLE),
            Rule(f"{api}/<any(orders,products):subject>/<int:subject_id>/events.json", endpoint="list_endpoint",
                 methods=["GET"], defaults={"resource": "events"}),
            Rule(f"{api}/orders/<int:order_id>/refunds.json", endpoint="refunds_endpoint", methods=["GET"],
                 defaults={"refund_id": None}),
            Rule(f"{api}/orders/<int:order_id>/refunds/<int:refund_id>.json", endpoint="refunds_endpoint",
                 methods=["GET"]),
            Rule(f"{api}/locations.json", endpoint="locations_endpoint", methods=["GET"]),
            Rule(f"{api}/shop.json", endpoint="shop_endpoint", methods=["GET"]),
            Rule(f"{api}/inventory_levels/set.json", endpoint="set_level_endpoint", methods=["POST"]),
            Rule(f"{api}/graphql.json", endpoint="graphql_endpoint", methods=["POST"]),
            Rule("/admin/oauth/access_scopes.json", endpoint="scopes_endpoint", methods=["GET"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    @staticmethod
    def is_graphql(request: Request) -> bool:
        return request.path.endswith("/graphql.json")

    def rate_limited(self, request: Request) -> Response:
        if self.is_graphql(request):
            return self._throttled(self._requested_cost(request.get_json(silent=True)))
        rate = f"{self.bucket.rate:g}"
        return json_response(
            {"errors": f"Exceeded {rate} calls per second for api client. "
                       "Reduce request rates to resume uninterrupted service."},
            429, {"Retry-After": f"{self.retry_after:.1f}"})

    def server_error(self, request: Request) -> Response:
        return json_response({"errors": "Internal Server Error"}, 500)

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return json_response({"errors": INVALID_TOKEN}, 401)
        names = [part.removesuffix(".json") for part in request.path.split("/")[4:]]  # after /admin/api/<v>/
        scope = next((RESOURCE_SCOPES[name] for name in reversed(names) if name in RESOURCE_SCOPES), None)
        if scope and scope not in self.scopes:
            return json_response({"errors": f"[API] This action requires merchant approval for {scope} scope."}, 403)
        return None

    def before_request(self, request: Request) -> Response | None:
        """The REST bucket; GraphQL calls are charged by cost in :meth:`graphql_endpoint`."""
        if self.rate_limiting and not self.is_graphql(request) and not self.bucket.take():
            return self.rate_limited(request)
        return None

    def after_request(self, request: Request, response: Response) -> Response:
        if not self.is_graphql(request):
            used = (self.bucket.size if response.status_code == 429 else self.bucket.used()) if self.rate_limiting else 1
            response.headers[CALL_LIMIT_HEADER] = f"{max(used, 1)}/{self.bucket.size}"
        response.headers["X-Shopify-API-Version"] = self.served_version(request)
        with self._lock:
            self.log.append((request.path, dict(request.args), response.status_code))
        return response

    def served_version(self, request: Request) -> str:
        """The version the request ran under: the URL's while supported, else the oldest supported
        (Shopify falls forward rather than failing; the header tells the client which ran)."""
        parts = request.path.split("/")
        requested = parts[3] if len(parts) > 3 and parts[1:3] == ["admin", "api"] else ""
        return requested if requested in self.versions else self.api_version

    # -- sandbox-side mutations -------------------------------------------------------------------------
    def delete_order(self, order_id: int) -> Event:
        """Delete an order the way a merchant does in the admin: gone from orders.json, and an
        ``Order``/``destroy`` event recorded at the World's current time."""
        order = next((o for o in self.orders() if o.id == order_id), None)
        if order is None:
            raise KeyError(f"shop {self.shop.name!r} has no order {order_id}")
        with self._lock:
            self._deleted.add(order_id)
            event_id = EVENT_ID + self.world.spec.shops.index(self.shop) * 10**9 + len(self.events) + 1
            event = Event(event_id, order_id, "Order", "destroy", self.world.now,
                          f"Order #{order.number} was deleted.", [f"#{order.number}"])
            self.events.append(event)
            self._revision += 1
        return event

    def available(self, inventory_item_id: int, location_id: int) -> int:
        self._sync_levels()
        return self._levels[(inventory_item_id, location_id)].available

    def quantities(self) -> dict[tuple[int, int], int]:
        """Available quantity per (inventory item, location), as the shop holds it now."""
        self._sync_levels()
        with self._lock:
            return {key: level.available for key, level in self._levels.items()}

    @staticmethod
    def inventory_item_id(sku: Sku) -> int:
        return ITEM_ID + sku.index

    def location_id(self, warehouse: str) -> int:
        return self._location_by_code[warehouse].id

    # -- rows ---------------------------------------------------------------------------------------------
    def _make_products(self) -> list[Product]:
        groups: dict[int, list[Sku]] = {}
        for sku in self.world.skus:
            groups.setdefault(sku.index // len(VARIANTS), []).append(sku)
        return [Product(PRODUCT_ID + number, skus, min(s.modified_at for s in skus), max(s.modified_at for s in skus))
                for number, skus in sorted(groups.items())]

    def orders(self) -> list[Order]:
        """The shop's live orders (deleted ones excluded), in World order."""
        return [o for o in self.world.orders if o.shop == self.shop.name and o.id not in self._deleted]

    def _inventory_items(self) -> list[_ItemRow]:
        return [_ItemRow(item_id, sku) for item_id, sku in self._skus_by_item.items()]

    def _sync_levels(self) -> None:
        """Copy World stock changes in. Every World mutation ticks its clock, so an unchanged clock means
        nothing to copy: stock calls do not rescan 200k records each (the stock-sync benchmark's size)."""
        stamp = (self.world.now, len(self.world.stock))
        with self._lock:
            if stamp == self._levels_stamp:
                return
            self._levels_stamp = stamp
            for record in self.world.stock:
                key = (ITEM_ID + record.sku.index, self._location_by_code[record.warehouse].id)
                level = self._levels.get(key)
                if level is None:
                    self._levels[key] = Level(key[0] * 100 + int(record.warehouse), *key, record.quantity,
                                              record.modified_at, record.version)
                elif level.world_version != record.version:
                    level.available, level.updated_at = record.quantity, record.modified_at
                    level.world_version = record.version
                    self._revision += 1

    def _levels_rows(self) -> list[Level]:
        return list(self._levels.values())

    def _stamp(self) -> tuple:
        """Changes whenever anything listed may have changed: every World mutation ticks its clock."""
        return (self.world.now, len(self.world.orders), self._revision)

    def index(self, listing: Listing, sort: str) -> Index:
        if listing.name == "inventory_levels":
            self._sync_levels()
        stamp = self._stamp()
        cached = self._indexes.get((listing.name, sort))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        attr = SORTS[sort]
        key = (lambda r: (getattr(r, attr), r.id)) if attr else (lambda r: (r.id,))
        rows = sorted(listing.rows(), key=key)
        index = Index(rows, [key(r) for r in rows])
        self._indexes[(listing.name, sort)] = (stamp, index)
        return index

    # -- filters ------------------------------------------------------------------------------------------
    @staticmethod
    def _order_filters(params: dict[str, str]) -> list[Callable[[Row], bool]]:
        status = params.get("status", "open")
        checks = {
            "open": lambda o: o.cancelled_at is None and o.fulfillment_status != "fulfilled",
            "closed": lambda o: o.cancelled_at is None and o.fulfillment_status == "fulfilled",
            "cancelled": lambda o: o.cancelled_at is not None,
        }
        if status == "any":
            return []
        if status not in checks:
            raise BadRequest({"status": "Invalid value."})
        return [checks[status]]

    @staticmethod
    def _level_filters(params: dict[str, str]) -> list[Callable[[Row], bool]]:
        items, locations = params.get("inventory_item_ids"), params.get("location_ids")
        if not items and not locations:
            raise BadRequest({"base": ["inventory_item_ids, location_ids, or both must be present"]}, 422)
        checks = []
        if items:
            wanted_items = parse_ids("inventory_item_ids", items)
            checks.append(lambda level: level.inventory_item_id in wanted_items)
        if locations:
            wanted_locations = parse_ids("location_ids", locations)
            checks.append(lambda level: level.location_id in wanted_locations)
        return checks

    @staticmethod
    def _event_filters(params: dict[str, str]) -> list[Callable[[Row], bool]]:
        checks = []
        if subject := params.get("filter"):
            subjects = set(subject.split(","))
            checks.append(lambda event: event.subject_type in subjects)
        if verb := params.get("verb"):
            checks.append(lambda event: event.verb == verb)
        if subject_id := params.get("subject_id"):
            checks.append(lambda event: str(event.subject_id) == subject_id)
        return checks

    def _row_filters(self, listing: Listing, params: dict[str, str], sort: str) -> list[Callable[[Row], bool]]:
        checks = listing.filters(params)
        if listing.name == "inventory_items" and not params.get("ids"):
            raise BadRequest({"ids": ["Required parameter missing or invalid"]}, 422)
        if ids := params.get("ids"):
            wanted = parse_ids("ids", ids)
            checks.append(lambda r: r.id in wanted)
        if "since_id" in params and sort != "id asc":
            since = min(parse_ids("since_id", params["since_id"]) or {0})
            checks.append(lambda r: r.id > since)
        for attr in ("updated_at", "created_at"):
            if attr == SORTS[sort]:
                continue  # handled by bisect on the index
            if low := params.get(f"{attr}_min"):
                low_time = parse_time(f"{attr}_min", low, self.zone)
                checks.append(lambda r, a=attr, t=low_time: getattr(r, a) >= t)
            if high := params.get(f"{attr}_max"):
                high_time = parse_time(f"{attr}_max", high, self.zone)
                checks.append(lambda r, a=attr, t=high_time: getattr(r, a) <= t)
        return checks

    def _bounds(self, index: Index, params: dict[str, str], sort: str) -> tuple[int, int]:
        attr = SORTS[sort]
        lo, hi = 0, len(index.keys)
        if not attr:
            if "since_id" in params:
                lo = bisect_right(index.keys, (min(parse_ids("since_id", params["since_id"]) or {0}),))
            return lo, hi
        if low := params.get(f"{attr}_min"):
            lo = bisect_left(index.keys, (parse_time(f"{attr}_min", low, self.zone),))
        if high := params.get(f"{attr}_max"):
            hi = bisect_right(index.keys, (parse_time(f"{attr}_max", high, self.zone), math.inf))
        return lo, hi

    # -- pagination --------------------------------------------------------------------------------------
    @staticmethod
    def _encode(query: dict[str, str], direction: str, key: tuple) -> str:
        payload = {"q": query, direction: [k.isoformat() if isinstance(k, datetime) else k for k in key]}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def _decode(page_info: str) -> tuple[dict[str, str], str, tuple]:
        try:
            payload = json.loads(base64.urlsafe_b64decode(page_info + "=" * (-len(page_info) % 4)))
            direction = "after" if "after" in payload else "before"
            raw_key = payload[direction]
            query = payload["q"]
            if SORTS[query["order"]]:
                key: tuple = (datetime.fromisoformat(raw_key[0]), int(raw_key[1]))
            else:
                key = (int(raw_key[0]),)
            return query, direction, key
        except (ValueError, KeyError, TypeError, IndexError, binascii.Error):
            raise BadRequest({"page_info": "Invalid value."}) from None

    def _page(self, request: Request, listing: Listing, narrowed: Mapping[str, str]) -> Response:
        args = request.args
        limit_text = args.get("limit", str(DEFAULT_LIMIT))
        try:
            limit = int(limit_text)
        except ValueError:
            raise BadRequest({"limit": "Invalid value."}) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest({"limit": f"must be between 1 and {MAX_LIMIT}"})
        fields = self._fields(args)
        page_info = args.get("page_info")
        if page_info is not None:
            extra = sorted(set(args) - PAGE_INFO_ALLOWED)
            if extra:
                raise BadRequest(f"{extra[0]} cannot be passed when page_info is present. "
                                 "See https://shopify.dev/api/usage/pagination-rest for more information.")
            query, direction, position = self._decode(page_info)
        else:
            query = {**{k: v for k, v in args.items() if k not in PAGE_INFO_ALLOWED}, **narrowed}
            query.setdefault("order", listing.default_sort)
            direction, position = "after", None
        sort = query["order"]
        if sort not in SORTS:
            raise BadRequest({"order": "Invalid value."})
        index = self.index(listing, sort)
        checks = self._row_filters(listing, query, sort)
        lo, hi = self._bounds(index, query, sort)
        keys, rows = index.keys, index.rows
        found: list[int] = []
        if direction == "after":
            start = lo if position is None else max(lo, bisect_right(keys, position))
            positions: Iterable[int] = range(start, hi)
        else:
            positions = range(min(hi, bisect_left(keys, position)) - 1, lo - 1, -1)
        for i in positions:
            row = rows[i]
            if all(check(row) for check in checks):
                found.append(i)
                if len(found) > limit:
                    break
        more = len(found) > limit
        found = found[:limit]
        if direction == "before":
            found.reverse()
        has_next = more if direction == "after" else True
        has_previous = position is not None if direction == "after" else more
        links = []
        base = f"{request.host_url.rstrip('/')}{request.path}"
        extra_args = {"limit": str(limit), **({"fields": ",".join(fields)} if fields else {})}
        if found and has_next:
            links.append(f'<{base}?{urlencode({**extra_args, "page_info": self._encode(query, "after", keys[found[-1]])})}>; rel="next"')
        if found and has_previous:
            links.append(f'<{base}?{urlencode({**extra_args, "page_info": self._encode(query, "before", keys[found[0]])})}>; rel="previous"')
        items = [self._pick(listing.render(rows[i]), fields) for i in found]
        self.count_records(listing.name, len(items))
        response = json_response({listing.name: items})
        if links:
            response.headers["Link"] = ", ".join(reversed(links)) if direction == "before" else ", ".join(links)
        return response

    @staticmethod
    def _fields(args: Mapping[str, str]) -> list[str]:
        return [f.strip() for f in args.get("fields", "").split(",") if f.strip()]

    @staticmethod
    def _pick(item: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        return {k: item[k] for k in fields if k in item} if fields else item

    def _find(self, resource: str, object_id: int) -> Row | None:
        index = self.index(self.listings[resource], "id asc")
        at = bisect_left(index.keys, (object_id,))
        return index.rows[at] if at < len(index.keys) and index.keys[at] == (object_id,) else None

    # -- endpoints ----------------------------------------------------------------------------------------
    def list_endpoint(self, request: Request, version: str, resource: str, subject: str = "",
                      subject_id: int = 0) -> Response:
        """A list; ``orders/<id>/events.json`` is the events list narrowed to that subject."""
        narrowed = {"filter": subject.title()[:-1], "subject_id": str(subject_id)} if subject else {}
        try:
            return self._page(request, self.listings[resource], narrowed)
        except BadRequest as exc:
            return json_response({"errors": exc.errors}, exc.status)

    def count_endpoint(self, request: Request, version: str, resource: str) -> Response:
        """``count.json``: the list's filters (``status`` defaulting to open included), no paging."""
        listing = self.listings[resource]
        query = {k: v for k, v in request.args.items() if k not in PAGE_INFO_ALLOWED | {"order"}}
        try:
            index = self.index(listing, "id asc")
            checks = self._row_filters(listing, query, "id asc")
            lo, hi = self._bounds(index, query, "id asc")
        except BadRequest as exc:
            return json_response({"errors": exc.errors}, exc.status)
        return json_response({"count": sum(all(check(row) for check in checks) for row in index.rows[lo:hi])})

    def object_endpoint(self, request: Request, version: str, resource: str, object_id: int) -> Response:
        row = self._find(resource, object_id)
        if row is None:
            return self.not_found(request)
        self.count_records(resource, 1)
        return json_response({SINGLE[resource]: self._pick(self.listings[resource].render(row),
                                                           self._fields(request.args))})

    def refunds_endpoint(self, request: Request, version: str, order_id: int, refund_id: int | None) -> Response:
        """An order's refunds (``refunds.json``) or one of them; an unknown order or refund is a 404."""
        order = self._find("orders", order_id)
        refunds = [self.render_refund(order, r) for r in order.refunds] if order is not None else []
        fields = self._fields(request.args)
        if refund_id is None:
            return self.not_found(request) if order is None else json_response(
                {"refunds": [self._pick(r, fields) for r in refunds]})
        found = next((r for r in refunds if r["id"] == refund_id), None)
        return self.not_found(request) if found is None else json_response({"refund": self._pick(found, fields)})

    def locations_endpoint(self, request: Request, version: str) -> Response:
        self.count_records("locations", len(self.locations))
        return json_response({"locations": [self.render_location(loc) for loc in self.locations]})

    def shop_endpoint(self, request: Request, version: str) -> Response:
        name = self.shop.name
        return json_response({"shop": {
            "id": 1000 + self.world.spec.shops.index(self.shop), "name": name.replace("_", " ").title(),
            "myshopify_domain": f"{name.replace('_', '-')}.myshopify.com", "domain": f"{name.replace('_', '-')}.example.com",
            "currency": self.shop.currency, "iana_timezone": self.shop.timezone,
            "timezone": f"(GMT{self._ts(self.world.now)[-6:]}) {self.shop.timezone}",
            "plan_name": "basic", "created_at": self._ts(EPOCH)}})

    def scopes_endpoint(self, request: Request) -> Response:
        return json_response({"access_scopes": [{"handle": scope} for scope in self.scopes]})

    def set_level_endpoint(self, request: Request, version: str) -> Response:
        body = request.get_json(silent=True) or {}
        with self._lock:
            self.set_calls.append(body)
        self._sync_levels()
        item, location, available = body.get("inventory_item_id"), body.get("location_id"), body.get("available")
        if not isinstance(item, int) or item not in self._skus_by_item:
            return json_response({"errors": {"inventory_item_id": ["Required parameter missing or invalid"]}}, 422)
        if not isinstance(location, int) or (item, location) not in self._levels:
            return json_response({"errors": {"location_id": ["Required parameter missing or invalid"]}}, 422)
        if not isinstance(available, int) or isinstance(available, bool):
            return json_response({"errors": {"available": ["Required parameter missing or invalid"]}}, 422)
        with self._lock:
            level = self._levels[(item, location)]
            level.available, level.updated_at = available, self.world.now
            self._revision += 1
        return json_response({"inventory_level": self.render_level(level)})

    # -- GraphQL Admin: the stock push operations ---------------------------------------------------------
    def graphql_endpoint(self, request: Request, version: str) -> Response:
        body = request.get_json(silent=True)
        with self._lock:
            self.graphql_calls.append(body)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        try:
            root, value = self._operation(body)
        except GraphQLError as exc:
            return self._graphql_answer({"errors": [exc.error]}, 0, None)
        requested = self._cost(root, value)
        if self.rate_limiting and not self.cost_bucket.take(requested):
            with self._lock:
                self.throttled_calls += 1
            return self._throttled(requested)
        data = {root: self._set_quantities(value) if root == "inventorySetQuantities" else self._nodes(value)}
        return self._graphql_answer({"data": data}, requested, requested)

    def _graphql_answer(self, payload: dict[str, Any], requested: int, actual: int | None) -> Response:
        cost = {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": throttle_status(self.cost_bucket)}
        return json_response({**payload, "extensions": {"cost": cost}})

    def _throttled(self, requested: int) -> Response:
        return self._graphql_answer({"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": THROTTLE_DOCS}}]}, requested, None)

    @staticmethod
    def _cost(root: str, value: Any) -> int:
        """Mutations cost 10 points; ``nodes`` one per id plus one (a stand-in for Shopify's calculation)."""
        return 1 + len(value) if root == "nodes" else MUTATION_COST

    def _requested_cost(self, body: Any) -> int:
        """The cost a throttled answer reports for a body that may not even parse."""
        try:
            return self._cost(*self._operation(body))
        except (GraphQLError, AttributeError, KeyError, TypeError):
            return MUTATION_COST

    @staticmethod
    def _operation(body: dict[str, Any]) -> tuple[str, Any]:
        """The root field and its argument, read from ``variables`` (inline literals are not parsed)."""
        query, variables = body["query"], body.get("variables") or {}
        match = ROOT_FIELD.search(query)
        if match is None:
            raise GraphQLError("channelhub's Shopify sandbox answers only the inventorySetQuantities mutation "
                               "and the nodes(ids:) query", "undefinedField")
        root = match.group(1)
        is_mutation = query.lstrip().startswith("mutation")
        if is_mutation != (root == "inventorySetQuantities"):
            owner = "Mutation" if is_mutation else "QueryRoot"
            raise GraphQLError(f"Field '{root}' doesn't exist on type '{owner}'", "undefinedField")
        argument = ARGUMENT_VARIABLE[root].search(query)
        if argument is None or not isinstance(variables, dict):
            raise GraphQLError(f"{root}: pass its argument as a variable", "argumentLiteralsIncompatible")
        value = variables.get(argument.group(1))
        expected = dict if root == "inventorySetQuantities" else list
        if not isinstance(value, expected):
            type_name = "InventorySetQuantitiesInput!" if root == "inventorySetQuantities" else "[ID!]!"
            raise GraphQLError(f"Variable ${argument.group(1)} of type {type_name} was provided invalid value",
                               "INVALID_VARIABLE")
        items = value.get("quantities") if isinstance(value, dict) else value
        if root == "inventorySetQuantities" and not _quantities_typed(items):
            raise GraphQLError(f"Variable ${argument.group(1)} of type InventorySetQuantitiesInput! was provided "
                               "invalid value", "INVALID_VARIABLE")
        if len(items) > MAX_INPUT_SIZE:
            field_path = [root, "input", "quantities"] if root == "inventorySetQuantities" else [root, "ids"]
            raise GraphQLError(f"The input array size of {len(items)} is greater than the maximum allowed of "
                               f"{MAX_INPUT_SIZE}.", "MAX_INPUT_SIZE_EXCEEDED", path=field_path)
        return root, value

    @staticmethod
    def _gid(value: Any, kind: str) -> int | None:
        match = GID.match(value) if isinstance(value, str) else None
        return int(match["id"]) if match and match["type"] == kind else None

    def _set_quantities(self, value: dict[str, Any]) -> dict[str, Any]:
        """``inventorySetQuantities``: every quantity is checked first and any user error leaves the shop
        untouched (the whole input is one adjustment group), so a caller can resend the valid rest."""
        quantities = value["quantities"]
        errors: list[dict[str, Any]] = []

        def reject(path: list[str], code: str, message: str) -> None:
            errors.append({"field": ["input", *path], "message": message, "code": code})

        name, reason, uri = value.get("name"), value.get("reason"), value.get("referenceDocumentUri")
        if name != "available":
            reject(["name"], "INVALID_NAME", "The quantity name must be either 'available' or 'on_hand'."
                   if name != "on_hand" else "channelhub's sandbox models only the 'available' quantity.")
        if reason not in SET_REASONS:
            reject(["reason"], "INVALID_REASON", "The specified reason is invalid.")
        if uri is not None and not (isinstance(uri, str) and URI.match(uri)):
            reject(["referenceDocumentUri"], "INVALID_REFERENCE_DOCUMENT", "The specified reference document is invalid.")
        compare = not value.get("ignoreCompareQuantity", False)
        locations = {location.id for location in self.locations}
        self._sync_levels()
        with self._lock:
            planned: list[tuple[Level, int]] = []
            seen: set[tuple[int, int]] = set()
            for i, quantity_input in enumerate(quantities):
                at = ["quantities", str(i)]
                item = self._gid(quantity_input.get("inventoryItemId"), "InventoryItem")
                location = self._gid(quantity_input.get("locationId"), "Location")
                quantity, expected = quantity_input["quantity"], quantity_input.get("compareQuantity")
                if item not in self._skus_by_item:
                    reject([*at, "inventoryItemId"], "INVALID_INVENTORY_ITEM", "The specified inventory item could not be found.")
                elif location not in locations:
                    reject([*at, "locationId"], "INVALID_LOCATION", "The specified location could not be found.")
                elif (item, location) not in self._levels:
                    reject([*at, "locationId"], "ITEM_NOT_STOCKED_AT_LOCATION",
                           "The specified inventory item is not stocked at the location.")
                elif (item, location) in seen:
                    reject(at, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                           "The combination of inventoryItemId and locationId must be unique.")
                elif quantity < 0:
                    reject([*at, "quantity"], "INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative.")
                elif quantity > MAX_QUANTITY:
                    reject([*at, "quantity"], "INVALID_QUANTITY_TOO_HIGH",
                           "The total quantity can't be higher than 1,000,000,000.")
                elif compare and expected is None:
                    reject([*at, "compareQuantity"], "COMPARE_QUANTITY_REQUIRED", "The compareQuantity argument "
                           "must be given to each quantity or ignored using ignoreCompareQuantity.")
                elif compare and expected != self._levels[(item, location)].available:
                    reject([*at, "compareQuantity"], "COMPARE_QUANTITY_STALE",
                           "The compareQuantity argument no longer matches the persisted quantity.")
                else:
                    seen.add((item, location))
                    planned.append((self._levels[(item, location)], quantity))
            if errors:
                return {"inventoryAdjustmentGroup": None, "userErrors": errors}
            changes = []
            for level, quantity in planned:
                self.inventory_changes.append(InventoryChange(level.inventory_item_id, level.location_id,
                                                              level.available, quantity, uri))
                changes.append({"name": "available", "delta": quantity - level.available, "quantityAfterChange": None,
                                "item": {"id": f"gid://shopify/InventoryItem/{level.inventory_item_id}"},
                                "location": {"id": f"gid://shopify/Location/{level.location_id}"}})
                level.available, level.updated_at = quantity, self.world.now
            self._revision += 1
        return {"inventoryAdjustmentGroup": {"createdAt": self._ts(self.world.now), "reason": reason,
                                             "referenceDocumentUri": uri, "changes": changes},
                "userErrors": []}

    def _nodes(self, ids: list[Any]) -> list[dict[str, Any] | None]:
        """``nodes(ids:)`` for ``InventoryLevel`` gids (``gid://shopify/InventoryLevel/<location>?inventory_item_id=<item>``);
        anything else resolves to null, as Shopify does for ids it cannot see."""
        self._sync_levels()
        nodes: list[dict[str, Any] | None] = []
        for gid in ids:
            match = GID.match(gid) if isinstance(gid, str) else None
            level = (self._levels.get((int(match["item"]), int(match["id"])))
                     if match and match["type"] == "InventoryLevel" and match["item"] else None)
            nodes.append(None if level is None else {
                "id": gid, "quantities": [{"name": "available", "quantity": level.available}],
                "item": {"id": f"gid://shopify/InventoryItem/{level.inventory_item_id}"},
                "location": {"id": f"gid://shopify/Location/{level.location_id}"}})
        return nodes

    # -- rendering ----------------------------------------------------------------------------------------
    def _ts(self, value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(self.zone).isoformat(timespec="seconds")

    def render_order(self, order: Order) -> dict[str, Any]:
        ts, currency = self._ts, order.currency
        closed = order.cancelled_at is None and order.fulfillment_status == "fulfilled"
        customer = order.customer
        return {
            "id": order.id, "admin_graphql_api_id": f"gid://shopify/Order/{order.id}",
            "name": f"#{order.number}", "order_number": order.number, "email": customer.email,
            "created_at": ts(order.created_at), "updated_at": ts(order.updated_at),
            "processed_at": ts(order.created_at), "cancelled_at": ts(order.cancelled_at),
            "closed_at": ts(order.updated_at) if closed else None, "currency": currency,
            "presentment_currency": order.paid_currency, "test": order.test,
            "payment_gateway_names": list(order.gateways),
            "financial_status": order.financial_status, "fulfillment_status": order.fulfillment_status,
            "subtotal_price": money(order.subtotal - order.discount), "total_line_items_price": money(order.subtotal),
            "total_tax": money(order.tax), "total_discounts": money(order.discount),
            "total_price": money(order.total),
            "subtotal_price_set": money_set(order, order.subtotal - order.discount),
            "total_tax_set": money_set(order, order.tax), "total_discounts_set": money_set(order, order.discount),
            "total_price_set": money_set(order, order.total),
            "customer": {"id": customer.id, "email": customer.email, "first_name": customer.first_name,
                         "last_name": customer.last_name, "created_at": ts(customer.created_at),
                         "updated_at": ts(customer.updated_at)},
            "line_items": [{
                "id": line.id, "product_id": PRODUCT_ID + line.sku.index // len(VARIANTS),
                "variant_id": VARIANT_ID + line.sku.index, "sku": line.sku.code, "title": line.sku.product,
                "variant_title": line.sku.variant, "quantity": line.quantity, "price": money(line.unit_price),
                "fulfillable_quantity": 0 if order.fulfillment_status == "fulfilled" else line.quantity,
            } for line in order.lines],
            "shipping_lines": [{"id": order.id * 10 + 9, "title": "Standard", "code": "standard",
                                "price": money(order.shipping)}],
            "refunds": [self.render_refund(order, refund) for refund in order.refunds],
        }

    def render_refund(self, order: Order, refund: Refund) -> dict[str, Any]:
        ts, lines_by_id = self._ts, {line.id: line for line in order.lines}
        return {
            "id": refund.id, "order_id": order.id, "created_at": ts(refund.created_at),
            "processed_at": ts(refund.created_at),
            "refund_line_items": [{
                "id": refund.id * 10 + n, "line_item_id": line_id, "quantity": quantity,
                "subtotal": money(lines_by_id[line_id].unit_price * quantity),
            } for n, (line_id, quantity) in enumerate(refund.lines)],
            # a transaction is in the currency the customer paid in (the presentment currency)
            "transactions": [{"id": refund.id * 10 + 9, "order_id": order.id, "kind": "refund",
                              "status": "success", "gateway": order.gateways[0],
                              "amount": money(order.paid(refund.amount)), "currency": order.paid_currency,
                              "created_at": ts(refund.created_at)}],
        }

    def render_product(self, product: Product) -> dict[str, Any]:
        first = product.skus[0]
        rate, ts = RATES[self.shop.currency], self._ts
        return {
            "id": product.id, "title": first.product, "handle": first.product.lower().replace(" ", "-"),
            "vendor": "Channelhub Demo", "product_type": first.product.split()[0], "status": "active",
            "created_at": ts(product.created_at), "updated_at": ts(product.updated_at),
            "published_at": ts(product.created_at),
            "options": [{"name": "Size", "position": 1, "values": [s.variant for s in product.skus]}],
            "variants": [{
                "id": VARIANT_ID + sku.index, "product_id": product.id, "title": sku.variant, "sku": sku.code,
                "price": money(sku.base_price * rate), "barcode": sku.barcode, "option1": sku.variant,
                "inventory_item_id": ITEM_ID + sku.index, "created_at": ts(sku.modified_at),
                "updated_at": ts(sku.modified_at),
            } for sku in product.skus],
        }

    def render_customer(self, customer: Any) -> dict[str, Any]:
        return {"id": customer.id, "email": customer.email, "first_name": customer.first_name,
                "last_name": customer.last_name, "phone": customer.phone, "state": "enabled",
                "verified_email": True, "currency": self.shop.currency,
                "created_at": self._ts(customer.created_at), "updated_at": self._ts(customer.updated_at)}

    def render_inventory_item(self, item: _ItemRow) -> dict[str, Any]:
        cost = item.sku.base_price * RATES[self.shop.currency] * Decimal("0.4")
        return {"id": item.id, "sku": item.sku.code, "cost": money(cost), "tracked": True,
                "requires_shipping": True, "country_code_of_origin": None,
                "created_at": self._ts(item.created_at), "updated_at": self._ts(item.updated_at),
                "admin_graphql_api_id": f"gid://shopify/InventoryItem/{item.id}"}

    def render_level(self, level: Level) -> dict[str, Any]:
        return {"inventory_item_id": level.inventory_item_id, "location_id": level.location_id,
                "available": level.available, "updated_at": self._ts(level.updated_at),
                "admin_graphql_api_id":
                    f"gid://shopify/InventoryLevel/{level.location_id}?inventory_item_id={level.inventory_item_id}"}

    def render_location(self, location: Location) -> dict[str, Any]:
        return {"id": location.id, "name": location.name, "address1": None, "city": None,
                "country_code": "CN", "active": True, "legacy": False,
                "created_at": self._ts(location.created_at), "updated_at": self._ts(location.updated_at),
                "admin_graphql_api_id": f"gid://shopify/Location/{location.id}"}

    def render_event(self, event: Event) -> dict[str, Any]:
        return {"id": event.id, "subject_id": event.subject_id, "subject_type": event.subject_type,
                "verb": event.verb, "arguments": event.arguments, "body": None, "message": event.message,
                "author": "Shopify", "description": event.message, "created_at": self._ts(event.created_at),
                "path": f"/admin/orders/{event.subject_id}"}


def _quantities_typed(quantities: Any) -> bool:
    """GraphQL variable coercion of ``[InventoryQuantityInput!]!``: ids strings, quantities Int."""
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    return isinstance(quantities, list) and all(
        isinstance(q, dict) and isinstance(q.get("inventoryItemId"), str) and isinstance(q.get("locationId"), str)
        and is_int(q.get("quantity")) and (q.get("compareQuantity") is None or is_int(q["compareQuantity"]))
        for q in quantities)


@dataclass(slots=True)
class _ItemRow:
    """An inventory item: one per World SKU."""

    id: int
    sku: Sku

    @property
    def created_at(self) -> datetime:
        return self.sku.modified_at

    @property
    def updated_at(self) -> datetime:
        return self.sku.modified_at


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = ShopifySandbox(world, shop=account, access_token=credentials["access_token"],
                             api_version=str(settings.get("api_version", "2024-07")))
    return Running(account, "shopify", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"access_token": "shpat_"})
