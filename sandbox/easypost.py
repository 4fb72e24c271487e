"""EasyPost emulator for the merchant's shipping account: ``GET /v2/shipments`` and ``GET /v2/trackers``
(and one of each by id), rendering the World's shipments (``sandbox.world.shipments``) as EasyPost
shows them when the World's clock reads ``world.now``.

Faithful to the documented behaviour (../shared/reference/commerce_apis.md, section 9b), written from
EasyPost's documents, not from a client:

* the API key as HTTP Basic username with a blank password (``curl -u "$KEY":``), or as a Bearer token
  (what the official client libraries send); a missing key is 401 ``APIKEY.REQUIRED``, a wrong one 401
  ``APIKEY.INACTIVE``;
* lists newest first: ``{"shipments": [...], "has_more": true}``; ``page_size`` 1..100 (default 20),
  ``before_id`` (the next page: the last id returned), ``after_id`` (newer ones), ``start_datetime`` and
  ``end_datetime`` on ``created_at`` (both inclusive here: EasyPost does not say), ``purchased`` and
  ``include_children`` accepted; trackers also filter on ``tracking_code`` and ``carrier``;
* errors in EasyPost's envelope ``{"error": {"code", "message", "errors": [...]}}``; a bad parameter is
  422 naming the field in ``errors``; the index endpoints' fixed limit of 5 requests a second is 429
  ``RATE_LIMITED``, a server fault 500 ``INTERNAL_SERVER_ERROR`` (code names beyond the envelope are not
  documented: these are ours).

A shipment embeds its tracker, as EasyPost's do; a tracker's ``status`` is its newest event's, its
``updated_at`` that event's time, so a parcel moving along changes a tracker created long before.
Amounts are decimal strings in the label's currency (the shop's), as EasyPost writes rates. The
shipment's ``reference`` names the order it fulfils as the warehouse does: ``<shop>:<order id>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .kit import Bucket, HttpSandbox, json_response
from .launch import Launcher, Running, local_port
from .world import Shipment, TrackingEvent, World

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
LIST_RATE = 5.0  # requests a second on index (list) endpoints
DEFAULT_API_KEY = "EZTK0000sandbox"
FINAL = frozenset({"delivered", "return_to_sender"})
# EasyPost's status_detail for each event of the World's state machine (by status, and the first scan)
DETAIL = {"pre_transit": "label_created", "in_transit": "arrived_at_facility", "out_for_delivery": "out_for_delivery",
          "delivered": "arrived_at_destination", "failure": "delivery_exception", "return_to_sender": "return"}


def easypost_error(status: int, code: str, message: str, errors: Sequence[Any] = ()) -> Response:
    return json_response({"error": {"code": code, "message": message, "errors": list(errors)}}, status)


def invalid(field: str, message: str) -> Response:
    return easypost_error(422, "PARAMETER.INVALID", f"Invalid parameter: {field}.",
                          [{"field": field, "message": message, "suggestion": None}])


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (a zone-less one read as UTC) or date, or None."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class EasypostSandbox(HttpSandbox):
    name = "easypost"

    def __init__(self, world: World, api_key: str = DEFAULT_API_KEY, *, rate_limit: float | None = LIST_RATE) -> None:
        super().__init__(world)
        self.api_key = api_key
        self.mode = "production" if api_key.startswith("EZAK") else "test"
        self.bucket = Bucket(rate_limit, rate_limit) if rate_limit else None
        self.log: list[dict[str, str]] = []  # query arguments of each list request, in arrival order
        self.routes = Map([
            Rule("/v2/shipments", endpoint="list_endpoint", defaults={"kind": "shipments"}, methods=["GET"]),
            Rule("/v2/trackers", endpoint="list_endpoint", defaults={"kind": "trackers"}, methods=["GET"]),
            Rule("/v2/shipments/<id>", endpoint="one_endpoint", defaults={"kind": "shipments"}, methods=["GET"]),
            Rule("/v2/trackers/<id>", endpoint="one_endpoint", defaults={"kind": "trackers"}, methods=["GET"]),
        ])

    # -- platform specifics ---------------------------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return easypost_error(429, "RATE_LIMITED", "You have exceeded the rate limit. Please reduce the rate "
                              "of your requests and try again.")

    def server_error(self, request: Request) -> Response:
        return easypost_error(500, "INTERNAL_SERVER_ERROR", "We're sorry, something went wrong. If the problem "
                              "persists please contact support@easypost.com.")

    def not_found(self, request: Request) -> Response:
        return easypost_error(404, "NOT_FOUND", "The requested resource could not be found.")

    @staticmethod
    def presented_key(request: Request) -> str | None:
        """The key as the HTTP Basic username (EasyPost's documented scheme) or as a Bearer token."""
        auth = request.authorization
        if auth is None:
            return None
        return auth.token if auth.type == "bearer" else auth.username if auth.type == "basic" else None

    def authenticate(self, request: Request) -> Response | None:
        key = self.presented_key(request)
        if not key:
            return easypost_error(401, "APIKEY.REQUIRED", "No API key provided. Provide your API key as the "
                                  "username of HTTP Basic authentication (blank password) or as a Bearer token.")
        if key != self.api_key:
            return easypost_error(401, "APIKEY.INACTIVE", "This api key is no longer active. Please use a different "
                                  "api key or reactivate this key.")
        return None

    def before_request(self, request: Request) -> Response | None:
        listing = request.path in ("/v2/shipments", "/v2/trackers")
        if listing and self.bucket is not None and not self.bucket.take():
            self.stats.faults_served["throttled"] += 1
            return self.rate_limited(request)
        return None

    # -- endpoints --------------------------------------------------------------------------------------
    def list_endpoint(self, request: Request, kind: str) -> Response:
        args = request.args.to_dict()
        with self._lock:
            self.log.append({"path": request.path, **args})
        try:
            size = int(args.get("page_size", DEFAULT_PAGE_SIZE))
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            return invalid("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
        bounds = {}
        for field in ("start_datetime", "end_datetime"):
            if args.get(field):
                bounds[field] = parse_time(args[field])
                if bounds[field] is None:
                    return invalid(field, "must be an ISO 8601 date or time")
        listed = self.newest_first(args)
        ids = [shipment.id if kind == "shipments" else shipment.tracker_id for shipment in listed]
        for field in ("before_id", "after_id"):
            if args.get(field) and args[field] not in ids:
                return invalid(field, f"no {kind[:-1]} {args[field]}")
        if args.get("before_id"):
            listed = listed[ids.index(args["before_id"]) + 1:]
        elif args.get("after_id"):
            listed = listed[:ids.index(args["after_id"])]
        start, end = bounds.get("start_datetime"), bounds.get("end_datetime")
        listed = [shipment for shipment in listed if (start is None or shipment.created_at >= start)
                  and (end is None or shipment.created_at <= end)]
        render = self.shipment if kind == "shipments" else self.tracker
        page = [render(shipment) for shipment in listed[:size]]
        self.count_records(kind, len(page))
        return json_response({kind: page, "has_more": len(listed) > size})

    def one_endpoint(self, request: Request, kind: str, id: str) -> Response:
        for shipment in self.world.shipments_of("easypost"):
            if id == (shipment.id if kind == "shipments" else shipment.tracker_id):
                return json_response(self.shipment(shipment) if kind == "shipments" else self.tracker(shipment))
        return self.not_found(request)

    def newest_first(self, args: Mapping[str, str]) -> list[Shipment]:
        """The account's shipments by ``created_at``, newest first, narrowed by the tracker filters."""
        chosen = [shipment for shipment in self.world.shipments_of("easypost") if shipment.created_at <= self.world.now
                  and args.get("tracking_code", shipment.tracking_code) == shipment.tracking_code
                  and args.get("carrier", shipment.carrier) == shipment.carrier]
        return sorted(chosen, key=lambda shipment: (shipment.created_at, shipment.id), reverse=True)

    # -- rendering --------------------------------------------------------------------------------------
    def shipment(self, shipment: Shipment) -> dict[str, Any]:
        order, now = shipment.order, self.world.now
        cost, rate_id = str(shipment.cost), f"rate_{shipment.id[4:]}"
        rate = {"id": rate_id, "object": "Rate", "mode": self.mode, "carrier": shipment.carrier,
                "service": shipment.service, "rate": cost, "currency": shipment.currency, "list_rate": cost,
                "list_currency": shipment.currency, "retail_rate": None, "retail_currency": None,
                "delivery_days": 3, "shipment_id": shipment.id, "carrier_account_id": f"ca_{shipment.carrier.lower()}",
                "created_at": stamp(shipment.created_at), "updated_at": stamp(shipment.created_at)}
        city, state, country, zip_code = shipment.events[-1].city
        return {
            "id": shipment.id, "object": "Shipment", "mode": self.mode, "reference": shipment.reference,
            "status": shipment.status(now), "tracking_code": shipment.tracking_code,
            "created_at": stamp(shipment.created_at), "updated_at": stamp(shipment.updated_at(now)),
            "is_return": False, "refund_status": None, "batch_id": None, "batch_status": None,
            "options": {"currency": shipment.currency, "label_date": stamp(shipment.created_at)},
            "to_address": {"id": f"adr_{order.customer.id:032x}", "object": "Address",
                           "name": f"{order.customer.first_name} {order.customer.last_name}",
                           "email": order.customer.email, "city": city, "state": state, "country": country,
                           "zip": zip_code},
            "parcel": {"id": f"prcl_{shipment.id[4:]}", "object": "Parcel", "weight": 16.0 * len(order.lines)},
            "rates": [rate], "selected_rate": rate,
            "postage_label": {"id": f"pl_{shipment.id[4:]}", "object": "PostageLabel", "label_file_type": "image/png",
                              "label_date": stamp(shipment.created_at),
                              "label_url": f"https://easypost-files.s3.amazonaws.com/files/postage_label/{shipment.id}.png"},
            "fees": [{"object": "Fee", "type": "PostageFee", "amount": f"{shipment.cost:.5f}", "charged": True,
                      "refunded": False}],
            "tracker": self.tracker(shipment), "messages": [], "forms": [],
        }

    def tracker(self, shipment: Shipment) -> dict[str, Any]:
        now = self.world.now
        events = shipment.events_until(now)
        status = events[-1].status
        return {
            "id": shipment.tracker_id, "object": "Tracker", "mode": self.mode,
            "tracking_code": shipment.tracking_code, "status": status, "status_detail": DETAIL[status],
            "created_at": stamp(shipment.created_at), "updated_at": stamp(events[-1].at),
            "signed_by": "J. Doe" if status == "delivered" else None, "weight": None, "est_delivery_date": None,
            "shipment_id": shipment.id, "carrier": shipment.carrier, "finalized": status in FINAL,
            "is_return": status == "return_to_sender", "fees": [],
            "public_url": f"https://track.easypost.com/{shipment.tracker_id}",
            "tracking_details": [self.detail(event, shipment.carrier) for event in events],
        }

    @staticmethod
    def detail(event: TrackingEvent, carrier: str) -> dict[str, Any]:
        city, state, country, zip_code = event.city
        return {"object": "TrackingDetail", "message": event.message, "description": event.message,
                "status": event.status, "status_detail": DETAIL[event.status], "datetime": stamp(event.at),
                "source": carrier, "carrier_code": None,
                "tracking_location": {"object": "TrackingLocation", "city": city, "state": state, "country": country,
                                      "zip": zip_code}}


def _start(world: World, account: str, settings: Mapping[str, Any], credentials: Mapping[str, str]) -> Running:
    sandbox = EasypostSandbox(world, credentials["api_key"])
    return Running(account, "easypost", sandbox.serve(port=local_port(account, settings)), sandbox.stop, sandbox)


LAUNCHER = Launcher(_start, {"api_key": "EZTK"})
