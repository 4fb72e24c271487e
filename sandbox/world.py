"""One deterministic merchant, rendered by every sandbox in its own API's shape.

The same seed always gives the same SKUs, customers, orders, payments and stock, so the Stripe
sandbox's charges pay the Shopify sandbox's orders and the ERP holds the same SKUs and stock. Objects
are slotted dataclasses rendered to JSON only when a page is requested, so 100k orders fit in memory.
All times are UTC here; each sandbox converts to the zone its API uses.

How payments reconcile with orders (the rules ``rpt_payment_reconciliation`` applies, and the data
follows them exactly except where a discrepancy is planted):

* A Stripe charge pays the order its metadata names: ``order_id`` (the Shopify order id) together
  with ``shop`` (the shop account), i.e. the warehouse order ``f"{shop}:{order_id}"``. A charge
  with no order metadata, or naming an order no shop has, is a payment without order.
* A Stripe refund belongs to the order of the charge it refunds.
* Orders whose ``financial_status`` is ``pending`` or ``voided`` have no charge: they are not due.
* Every other order is due: its charges, in the order's currency, capture exactly its total, and
  the refunds on them add up to exactly the refunds the shop shows on the order.

A few discrepancies are planted on purpose, from a random stream of their own (so the rest of the
world is the same as without them), and listed in :attr:`World.planted`; every other order
reconciles exactly. The kinds:

* ``unpaid``: the shop says ``paid`` but Stripe has no charge for the order;
* ``underpaid``: the order's only charge captures less than its total;
* ``overpaid``: the customer was charged twice, two full charges naming the order;
* ``refund_mismatch``: a refund on one side only, either the shop shows a refund Stripe never made,
  or Stripe refunded part of the charge while the order still shows ``paid`` and no refund;
* ``payment_without_order``: a charge without order metadata (the customer paid through a payment
  link); it is made alongside an ordinary order that its own charge pays exactly.

Order kinds are identified by warehouse order id (``"shop_us:5000000123"``), the orphan payment by its
Stripe charge id. Worlds under ``PLANT_MIN_ORDERS`` orders (unit-test fixtures) plant nothing, so their
counts stay exact; later mutations (``add_orders``, refunds posted to the Stripe sandbox) plant nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count, islice

CENT = Decimal("0.01")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Fixed rates keep prices exact and reproducible: price in shop currency = base USD price * rate.
RATES = {"USD": Decimal(1), "EUR": Decimal("0.92"), "GBP": Decimal("0.79"), "CNY": Decimal("7.20")}
FIRST_NAMES = ["Ada", "Bo", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lin", "Mei",
               "Noa", "Omar", "Pia", "Qi", "Rui", "Sam", "Tao", "Uma", "Vic", "Wei", "Xin", "Yan", "Zoe"]
LAST_NAMES = ["Li", "Wang", "Smith", "Garcia", "Müller", "Rossi", "Zhang", "Dubois", "Kim", "Novak", "Chen"]
PRODUCTS = [("Tee", "T恤"), ("Hoodie", "连帽衫"), ("Mug", "马克杯"), ("Cap", "棒球帽"), ("Tote", "帆布袋"),
            ("Socks", "袜子"), ("Poster", "海报"), ("Notebook", "笔记本"), ("Bottle", "水杯"), ("Scarf", "围巾")]
VARIANTS = ["S", "M", "L", "XL"]
WAREHOUSES = [("01", "Main warehouse", "总仓"), ("02", "Shanghai store", "上海门店")]
DISCREPANCY_KINDS = ("unpaid", "underpaid", "overpaid", "refund_mismatch", "payment_without_order")
PLANT_MIN_ORDERS = 200


@dataclass(frozen=True)
class ShopSpec:
    """A web shop of the merchant (one Shopify account). ``timezone`` is the shop's IANA zone."""

    name: str
    currency: str
    timezone: str


@dataclass(frozen=True)
class WorldSpec:
    seed: int = 42
    orders: int = 2_000
    skus: int = 120
    customers: int = 600
    shops: tuple[ShopSpec, ...] = (ShopSpec("shop_us", "USD", "America/New_York"),
                                   ShopSpec("shop_eu", "EUR", "Europe/Berlin"))
    days: int = 300


@dataclass(slots=True)
class Sku:
    index: int
    code: str            # the merchant SKU, shared by every system
    product: str
    product_zh: str
    variant: str
    base_price: Decimal  # USD
    barcode: str
    modified_at: datetime

    def price(self, currency: str) -> Decimal:
        return (self.base_price * RATES[currency]).quantize(CENT)


@dataclass(slots=True)
class Customer:
    id: int
    email: str
    phone: str
    first_name: str
    last_name: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class OrderLine:
    id: int
    sku: Sku
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(slots=True)
class Refund:
    id: int
    created_at: datetime
    amount: Decimal
    lines: list[tuple[int, int]]  # (order line id, quantity)
    charge_id: str | None = None  # the Stripe charge refunded; None: the order's first linked charge


@dataclass(slots=True)
class Charge:
    """A Stripe charge made at an order's checkout."""

    id: str
    amount: Decimal | None = None  # captured, in the order's currency; None: the order's total
    order_linked: bool = True      # False: it carries no order metadata (paid outside the checkout)


@dataclass(slots=True)
class Order:
    id: int
    shop: str
    number: int
    customer: Customer
    currency: str
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]
    shipping: Decimal
    discount: Decimal
    tax: Decimal
    financial_status: str     # pending | paid | partially_refunded | refunded | voided
    fulfillment_status: str | None  # None | partial | fulfilled
    cancelled_at: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)  # the refunds the shop shows
    charges: list[Charge] = field(default_factory=list)  # Stripe charges made at this order's checkout
    stripe_refunds: list[Refund] | None = None  # Stripe's refunds when they differ from ``refunds``

    @property
    def charge_ids(self) -> list[str]:
        return [charge.id for charge in self.charges]

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax - self.discount

    @property
    def refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal(0))


@dataclass(slots=True)
class StockRecord:
    sku: Sku
    warehouse: str
    quantity: int
    version: int          # a rowversion: bumped on every change (U8's ufts)
    modified_at: datetime


class World:
    """The generated merchant, plus the mutations tests need (touch, add, share one timestamp)."""

    def __init__(self, spec: WorldSpec = WorldSpec()) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.now = EPOCH + timedelta(days=spec.days)
        self._ids = count(1)
        self._version = count(1)
        self.skus = [self._make_sku(i) for i in range(spec.skus)]
        self.customers = [self._make_customer(i) for i in range(spec.customers)]
        self.orders: list[Order] = []
        self._numbers = {shop.name: count(1001) for shop in spec.shops}
        for _ in range(spec.orders):
            self.orders.append(self._make_order(self._random_time()))
        self.orders.sort(key=lambda o: (o.created_at, o.id))
        self.planted: dict[str, frozenset[str]] = self._plant_discrepancies()
        # The clock starts after the last generated change, so every later mutation moves cursors forward.
        self.now = max([self.now, *(order.updated_at for order in self.orders)])
        self.stock = [StockRecord(sku, wh, self.rng.randint(0, 250), next(self._version), sku.modified_at)
                      for sku in self.skus for wh, *_ in WAREHOUSES]

    # -- generation -------------------------------------------------------------------------------
    def _random_time(self) -> datetime:
        return EPOCH + timedelta(seconds=self.rng.randrange(self.spec.days * 86_400))

    def _make_sku(self, i: int) -> Sku:
        product, product_zh = PRODUCTS[(i // len(VARIANTS)) % len(PRODUCTS)]
        return Sku(index=i, code=f"CH-{i // len(VARIANTS):04d}-{VARIANTS[i % len(VARIANTS)]}",
                   product=f"{product} {i // len(VARIANTS):04d}", product_zh=f"{product_zh}{i // len(VARIANTS):04d}",
                   variant=VARIANTS[i % len(VARIANTS)],
                   base_price=Decimal(self.rng.randrange(500, 12_000)) / 100,
                   barcode=f"69{self.rng.randrange(10**10, 10**11)}", modified_at=EPOCH)

    def _make_customer(self, i: int) -> Customer:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        created = EPOCH + timedelta(minutes=i)
        return Customer(id=100_000 + i, email=f"{first}.{last}{i}@example.com".lower(),
                        phone=f"+86 138 {i:04d} {self.rng.randrange(10000):04d}", first_name=first,
                        last_name=last, created_at=created, updated_at=created)

    def _make_order(self, created: datetime) -> Order:
        rng = self.rng
        shop = rng.choice(self.spec.shops)
        oid = 5_000_000_000 + next(self._ids)
        lines = []
        for sku in rng.sample(self.skus, k=min(len(self.skus), rng.choice((1, 1, 2, 2, 3, 4)))):
            lines.append(OrderLine(id=oid * 10 + len(lines), sku=sku, quantity=rng.choice((1, 1, 1, 2, 3)),
                                   unit_price=sku.price(shop.currency)))
        subtotal = sum((line.amount for line in lines), Decimal(0))
        discount = (subtotal * Decimal("0.10")).quantize(CENT) if rng.random() < 0.15 else Decimal("0.00")
        tax = ((subtotal - discount) * Decimal("0.08")).quantize(CENT)
        shipping = Decimal("0.00") if subtotal > 100 else (Decimal("5.00") * RATES[shop.currency]).quantize(CENT)
        order = Order(id=oid, shop=shop.name, number=next(self._numbers[shop.name]),
                      customer=rng.choice(self.customers), currency=shop.currency, created_at=created,
                      updated_at=created + timedelta(minutes=rng.randrange(1, 600)), lines=lines,
                      shipping=shipping, discount=discount, tax=tax, financial_status="paid",
                      fulfillment_status=None)
        roll = rng.random()
        if roll < 0.05:
            order.financial_status = "pending"
        elif roll < 0.08:
            order.financial_status, order.cancelled_at = "voided", order.updated_at
        else:
            order.charges.append(Charge(f"ch_{oid:x}"))
            order.fulfillment_status = "fulfilled" if roll < 0.85 else None
            if roll > 0.95:  # partial or full refund
                line = rng.choice(lines)
                amount = line.unit_price if roll < 0.98 else order.total
                order.refunds.append(Refund(id=oid * 100 + 1, created_at=order.updated_at, amount=amount,
                                            lines=[(line.id, 1)]))
                order.financial_status = "partially_refunded" if amount < order.total else "refunded"
        return order

    # -- planted reconciliation discrepancies (see the module docstring) -----------------------------
    def _plant_discrepancies(self) -> dict[str, frozenset[str]]:
        """Turn a few ordinary paid orders (no refund) into each kind; returns kind -> identifiers."""
        n = min(3, 1 + len(self.orders) // 2_000) if len(self.orders) >= PLANT_MIN_ORDERS else 0
        mismatches = max(2, n) if n else 0  # both refund_mismatch variants, always
        rng = random.Random(f"{self.spec.seed}:discrepancies")
        ordinary = [o for o in self.orders if o.financial_status == "paid" and not o.refunds]
        chosen = iter(rng.sample(ordinary, k=4 * n + mismatches))
        groups = {kind: list(islice(chosen, mismatches if kind == "refund_mismatch" else n))
                  for kind in DISCREPANCY_KINDS}
        for order in groups["unpaid"]:
            order.charges.clear()
        for order in groups["underpaid"]:
            short = (order.total * rng.choice((10, 25, 50)) / 100).quantize(CENT)
            order.charges[0].amount = order.total - short
        for order in groups["overpaid"]:
            order.charges.append(Charge(f"ch_{order.id:x}z2"))  # 'z' never occurs in a hex first-charge id
        for i, order in enumerate(groups["refund_mismatch"]):
            self._plant_one_sided_refund(order, rng, in_shop=i % 2 == 0)
        planted = {kind: frozenset(f"{o.shop}:{o.id}" for o in orders) for kind, orders in groups.items()}
        planted["payment_without_order"] = frozenset(
            self._plant_payment_link_charge(order, rng) for order in groups["payment_without_order"])
        return planted

    @staticmethod
    def _plant_one_sided_refund(order: Order, rng: random.Random, *, in_shop: bool) -> None:
        """One unit refunded by the shop but never by Stripe (``in_shop``), or the other way round."""
        line = rng.choice(order.lines)
        amount = min(line.unit_price, order.total)
        refund = Refund(id=order.id * 100 + 1, created_at=order.updated_at, amount=amount,
                        lines=[(line.id, 1)])
        if in_shop:
            order.refunds.append(refund)
            order.financial_status = "partially_refunded" if amount < order.total else "refunded"
            order.stripe_refunds = []
        else:
            order.stripe_refunds = [refund]

    @staticmethod
    def _plant_payment_link_charge(order: Order, rng: random.Random) -> str:
        """An extra charge without order metadata beside ``order``'s own; returns its id. It lives in that
        order's ``charges`` so every charge Stripe serves still comes from ``world.orders`` (tests cut
        that list to an exact number of charges)."""
        amount = (Decimal(rng.randrange(500, 12_000)) / 100 * RATES[order.currency]).quantize(CENT)
        charge = Charge(f"ch_{order.id:x}z2", amount=amount, order_linked=False)
        order.charges.append(charge)
        return charge.id

    # -- mutations used by tests and benchmarks ---------------------------------------------------
    def tick(self, seconds: int = 60) -> datetime:
        """Advance the world's clock; every change after this carries the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now

    def touch_orders(self, fraction: float) -> list[Order]:
        """Change ``fraction`` of the orders (fulfil them) at the current clock; returns them."""
        picked = self.rng.sample(self.orders, k=max(1, int(len(self.orders) * fraction)))
        now = self.tick()
        for order in picked:
            order.updated_at = now
            if order.financial_status == "paid":
                order.fulfillment_status = "fulfilled"
        return picked

    def add_orders(self, n: int) -> list[Order]:
        now = self.tick()
        new = [self._make_order(now) for _ in range(n)]
        for order in new:
            order.updated_at = now
        self.orders.extend(new)
        return new

    def share_timestamp(self, n: int) -> datetime:
        """Give ``n`` orders one identical ``updated_at`` (the boundary case of every cursor)."""
        now = self.tick()
        for order in self.orders[:n]:
            order.updated_at = now
        return now

    def change_stock(self, fraction: float) -> list[StockRecord]:
        picked = self.rng.sample(self.stock, k=max(1, int(len(self.stock) * fraction)))
        now = self.tick()
        for record in picked:
            record.quantity = max(0, record.quantity + self.rng.randint(-20, 20))
            record.version, record.modified_at = next(self._version), now
        return picked

    # -- lookups ------------------------------------------------------------------------------------
    def shop(self, name: str) -> ShopSpec:
        for shop in self.spec.shops:
            if shop.name == name:
                return shop
        raise KeyError(f"world has no shop {name!r}")

    def orders_of(self, shop: str) -> list[Order]:
        return [order for order in self.orders if order.shop == shop]
