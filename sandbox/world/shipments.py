"""The logistics side: the parcels the web shops send for their fulfilled orders, each with a carrier, a
tracking code (the waybill), a label cost and the tracking events a carrier reports.

Who knows a shop's parcels is its shipper (``SHIPPERS``): labels bought at EasyPost (shipments and
trackers) or ShipStation (shipments; no tracking of its own), or couriers' waybills the shop records on
its orders (a CNY store: SF Express, ZTO, YTO, Yunda; the WooCommerce sandbox shows them as the
Shipment Tracking extension does), which only a tracker asked about the waybill (Kuaidi100, SF Express)
follows.

Every shipment follows one tracking state machine, EasyPost's tracker statuses:
``pre_transit`` (label bought) → ``in_transit`` (accepted, then at a sort facility) →
``out_for_delivery`` → ``delivered``; a few end in ``failure`` (a delivery exception), a few are
returned (``failure`` → ``return_to_sender``) and a few are stuck (``in_transit``, then nothing). The
events are timestamped in advance: an event after the World's clock has not happened yet, so moving
the clock forward (``World.tick``) moves parcels along and changes their trackers after creation.

All of it comes from a random stream of its own (``f"{seed}:shipments"``), so the rest of the World
is the same with or without shipments.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .catalog import RATES, quantum
from .channels import Order

# (carrier, service, label cost in USD before the shop currency's rate) per shop currency. The carriers
# are the hub's codes (fct_shipments.carrier): EasyPost's names, and SF, ZTO, YTO, YUNDA for China.
CARRIERS = {"USD": (("USPS", "GroundAdvantage", Decimal("5.40")), ("USPS", "Priority", Decimal("9.35")),
                    ("UPS", "Ground", Decimal("11.20")), ("FedEx", "FEDEX_GROUND", Decimal("10.80"))),
            "EUR": (("DHLExpress", "ExpressWorldwide", Decimal("14.90")), ("UPS", "Standard", Decimal("8.70"))),
            "CNY": (("SF", "顺丰标快", Decimal("2.20")), ("ZTO", "标准快递", Decimal("0.70")),
                    ("YTO", "标准快递", Decimal("0.65")), ("YUNDA", "标准快递", Decimal("0.60")))}
CITIES = {"USD": (("New York", "NY", "US", "10001"), ("Chicago", "IL", "US", "60601"), ("Denver", "CO", "US", "80202"),
                  ("Austin", "TX", "US", "73301"), ("Seattle", "WA", "US", "98101")),
          "EUR": (("Berlin", "BE", "DE", "10115"), ("Leipzig", "SN", "DE", "04109"), ("Paris", "IDF", "FR", "75001"),
                  ("Milano", "MI", "IT", "20121"), ("Wien", "W", "AT", "1010")),
          "CNY": (("深圳市", "广东省", "CN", "518000"), ("上海市", "上海市", "CN", "200000"),
                  ("杭州市", "浙江省", "CN", "310000"), ("北京市", "北京市", "CN", "100000"),
                  ("成都市", "四川省", "CN", "610000"))}
# Who knows a web shop's parcels (ShopSpec.shipper): label platforms, or the shop itself (waybills it records)
SHIPPERS = ("easypost", "shipstation", "shop")
DEFAULT_SHIPPER = {"USD": "easypost", "EUR": "easypost", "CNY": "shop"}
# How a parcel's story ends (the shares of the fates), the state machine's terminal states and a stall
FATES = (("delivered", 0.86), ("failure", 0.05), ("return_to_sender", 0.05), ("stuck", 0.04))
MESSAGES = {"pre_transit": "Shipping Label Created", "in_transit": "Arrived at Facility",
            "out_for_delivery": "Out for Delivery", "delivered": "Delivered",
            "failure": "Delivery Attempt Failed: Business Closed", "return_to_sender": "Returned to Sender"}
CN_MESSAGES = {"pre_transit": "商家已下单，等待快递员揽收", "in_transit": "快件已到达转运中心",
               "out_for_delivery": "快件正在派送中", "delivered": "快件已签收，签收人：本人",
               "failure": "快件派送不成功，收件人电话无人接听", "return_to_sender": "快件已退回寄件人"}


@dataclass(slots=True)
class TrackingEvent:
    """One scan the carrier reports (EasyPost's TrackingDetail)."""

    at: datetime
    status: str
    message: str
    city: tuple[str, str, str, str]  # city, state, country, zip


@dataclass(slots=True)
class Shipment:
    """One parcel of one order: EasyPost's shipment (the bought label) and its tracker."""

    id: str
    tracker_id: str
    order: Order
    provider: str  # who knows the parcel (SHIPPERS)
    carrier: str
    service: str
    tracking_code: str
    created_at: datetime  # the label was bought: the parcel ships
    cost: Decimal         # the label, in the shop's currency
    fate: str             # delivered | failure | return_to_sender | stuck
    events: list[TrackingEvent] = field(default_factory=list)  # oldest first, some maybe after the clock

    @property
    def currency(self) -> str:
        return self.order.currency

    @property
    def reference(self) -> str:
        """The warehouse order this parcel fulfils, ``<shop>:<order id>`` (EasyPost's ``reference``)."""
        return f"{self.order.shop}:{self.order.id}"

    def events_until(self, now: datetime) -> list[TrackingEvent]:
        """The events that happened by ``now`` (never fewer than the label's own)."""
        return [event for event in self.events if event.at <= now] or self.events[:1]

    def status(self, now: datetime) -> str:
        return self.events_until(now)[-1].status

    def updated_at(self, now: datetime) -> datetime:
        return self.events_until(now)[-1].at


class Shipper:
    """Makes the shipments, from the one random stream of shipments."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:shipments")

    def ship_all(self, orders: Iterable[Order], shippers: dict[str, str]) -> list[Shipment]:
        """One shipment per fulfilled, real (not test, not cancelled) order of the shops in ``shippers``
        (shop → shipper), oldest first."""
        shipped = [self.ship(order, order.created_at + timedelta(minutes=self.rng.randrange(60, 72 * 60)),
                             shippers[order.shop])
                   for order in orders if order.fulfillment_status == "fulfilled" and not order.test
                   and order.cancelled_at is None and order.shop in shippers]
        return sorted(shipped, key=lambda shipment: (shipment.created_at, shipment.id))

    def ship(self, order: Order, at: datetime, provider: str) -> Shipment:
        rng = self.rng
        carrier, service, usd = rng.choice(CARRIERS.get(order.currency, CARRIERS["USD"]))  # any order can be sent
        cost = (usd * RATES[order.currency]).quantize(quantum(order.currency))
        fate = rng.choices([name for name, _ in FATES], [share for _, share in FATES])[0]
        shipment = Shipment(id=f"shp_{rng.getrandbits(128):032x}", tracker_id=f"trk_{rng.getrandbits(128):032x}",
                            order=order, provider=provider, carrier=carrier, service=service, tracking_code=self._code(carrier),
                            created_at=at.replace(microsecond=0), cost=cost, fate=fate)
        shipment.events = self._story(shipment, order.currency)
        return shipment

    def _code(self, carrier: str) -> str:
        """A tracking code in the carrier's format."""
        if carrier == "USPS":
            return f"9400{self._digits(18)}"
        if carrier == "UPS":
            return f"1Z{self.rng.choice(('A1B2C3', 'X9Y8Z7'))}03{self._digits(8)}"
        if carrier in ("SF", "YTO"):  # SF1234567890123, YT1234567890123
            return f"{carrier[:2]}{self._digits(13)}"
        if carrier in ("ZTO", "YUNDA"):
            return ("7" if carrier == "ZTO" else "4") + self._digits(13 if carrier == "ZTO" else 12)
        return self._digits(12 if carrier == "FedEx" else 10)

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def _story(self, shipment: Shipment, currency: str) -> list[TrackingEvent]:
        """The events of the state machine, from the label to the fate, each some hours after the last."""
        rng, cities = self.rng, CITIES.get(currency, CITIES["USD"])
        origin, hub, home = cities[0], rng.choice(cities), rng.choice(cities)
        at = shipment.created_at
        steps = [("pre_transit", origin, 0), ("in_transit", origin, rng.randrange(4, 30)),
                 ("in_transit", hub, rng.randrange(12, 48))]
        if shipment.fate != "stuck":
            steps += [("out_for_delivery", home, rng.randrange(12, 72)),
                      ("failure" if shipment.fate != "delivered" else "delivered", home, rng.randrange(2, 10))]
        if shipment.fate == "return_to_sender":
            steps.append(("return_to_sender", origin, rng.randrange(48, 120)))
        events = []
        for status, city, hours in steps:
            at += timedelta(hours=hours, minutes=rng.randrange(60)) if hours else timedelta(0)
            events.append(TrackingEvent(at, status, (CN_MESSAGES if currency == "CNY" else MESSAGES)[status], city))
        return events
