"""One deterministic merchant, rendered by every sandbox in its own API's shape.

The same seed always gives the same SKUs, customers, orders, payments and stock, so the Stripe
sandbox's charges pay the Shopify sandbox's orders and the ERP holds the same SKUs and stock. Objects
are slotted dataclasses rendered to JSON only when a page is requested, so 100k orders fit in memory.
All times are UTC here; each sandbox converts to the zone its API uses.

The World is split by domain, so every sandbox renders the same merchant from its own side:
``catalog`` (SKUs, customers), ``channels`` (shops, their orders and refunds), ``payments`` (the
provider's charges and the planted discrepancies), ``shipments`` (the parcels of the web shops'
fulfilled orders, their carriers, waybills, label costs and tracking events) and ``erp`` (warehouses and
stock). ``World`` ties them to one seed and one clock.

How shipments follow orders: every fulfilled order (not a test order, not cancelled) of a web shop
(``World.shippers``: not a marketplace) has one shipment, shipped 1 to 72 hours after the order, known
to the shop's shipper: EasyPost or ShipStation for labels (EasyPost's ``reference`` names the order as
the warehouse does, ``f"{shop}:{order_id}"``), or the shop itself for a CNY store's courier waybills. A shipment's tracking
events are timestamped in advance: those after the World's clock have not happened yet, so
``tick`` moves parcels along (pre_transit → in_transit → out_for_delivery → delivered; a few fail,
are returned or get stuck: ``sandbox.world.shipments``). Shipments come from a random stream of their
own, made the first time ``World.shipments`` is read (from the orders fulfilled by then); ``ship``
sends more.

How payments reconcile with orders (the rules ``rpt_payment_reconciliation`` applies, and the data
follows them exactly except where a discrepancy is planted):

* A Stripe charge pays the order its metadata names: ``order_id`` (the Shopify order id) together
  with ``shop`` (the shop account), i.e. the warehouse order ``f"{shop}:{order_id}"``. A charge
  with no order metadata, or naming an order no shop has, is a payment without order.
* A Stripe refund belongs to the order of the charge it refunds.
* With ``WorldSpec.paypal_share`` above 0, that share of the orders paid at checkout is paid with PayPal
  instead (gateway ``paypal``, from a random stream of its own): PayPal's payment carries the shop in
  ``custom_field`` and the order id in ``invoice_id``; the shop's refunds of such an order are PayPal's.
  One PayPal payment is planted in the wrong currency (``currency_mismatch``), besides Stripe's plants.
* A shop whose ``ShopSpec.checkout`` names ``alipay`` and/or ``wechatpay`` (a merchant's own CNY store)
  is paid through those wallets instead of Stripe, one per order from a random stream of its own: the
  wallet's trade carries the shop's order number (``Order.number``, the WooCommerce order id, as the
  common Alipay and WeChat Pay plugins send it) as the merchant's order number (``out_trade_no``,
  商户订单号), and the shop's refunds of the order are the wallet's. Each wallet sandbox plants its own
  discrepancies in what it serves.
* Orders whose ``financial_status`` is ``pending`` or ``voided`` have no charge: they are not due.
* Every other order is due: its charges, in the order's currency, capture exactly its total, and
  the refunds on them add up to exactly the refunds the shop shows on the order.

A few discrepancies are planted on purpose, from a random stream of their own (so the rest of the
world is the same as without them), and listed in :attr:`World.planted`; every other order
reconciles exactly. The kinds (``rpt_payment_reconciliation``'s statuses):

* ``unpaid``: the shop says ``paid`` but Stripe has no charge for the order;
* ``underpaid``: the order's only charge captures less than its total;
* ``overpaid``: the customer was charged twice, two full charges naming the order;
* ``refund_mismatch``: a refund on one side only, either the shop shows a refund Stripe never made,
  or Stripe refunded part of the charge while the order still shows ``paid`` and no refund;
* ``payment_without_order``: a charge without order metadata (the customer paid through a payment
  link); it is made alongside an ordinary order that its own charge pays exactly;
* ``currency_mismatch``: the charge captures the order's total as a number, in another currency;
* ``disputed``: the cardholder disputed the order's charge;
* ``paid_outside_provider``: paid by gift card, manually or cash on delivery (the order's payment
  gateway), so Stripe has no charge;
* ``cancelled_and_refunded``: cancelled after payment and refunded in full, in the shop and at Stripe;
* ``excluded``: a test order (Shopify's Bogus Gateway), no charge.

Two more cases must reconcile quietly (listed in ``planted`` too, under ``QUIET_KINDS``): an order
the customer paid in its presentment currency (Shopify Markets: CAD in the US shop, GBP in the EU
one), refunded in part on both sides in that currency, which is ``matched``; and a declined charge
without order metadata (``failed_without_order``: no money moved, no row).

Order kinds are identified by warehouse order id (``"shop_us:5000000123"``), the orphan payment by its
Stripe charge id. Worlds under ``PLANT_MIN_ORDERS`` orders (unit-test fixtures) plant nothing, so their
counts stay exact; later mutations (``add_orders``, refunds posted to the Stripe sandbox) plant nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from itertools import count

from .catalog import (
    CENT,
    EPOCH,
    ERP_CONTACT_KINDS,
    RATES,
    VARIANTS,
    Customer,
    Sku,
    make_customer,
    make_sku,
    plant_erp_contacts,
    quantum,
)
from .channels import Order, OrderLine, Refund, ShopSpec
from .erp import WAREHOUSES, StockRecord
from .payments import (
    DISCREPANCY_KINDS,
    PLANT_MIN_ORDERS,
    QUIET_KINDS,
    Charge,
    paid_with_paypal,
    paid_with_wallet,
    pay_with_paypal,
    pay_with_wallets,
    plant_discrepancies,
)
from .shipments import DEFAULT_SHIPPER, Shipment, Shipper, TrackingEvent

__all__ = ["CENT", "DISCREPANCY_KINDS", "EPOCH", "ERP_CONTACT_KINDS", "PLANT_MIN_ORDERS", "QUIET_KINDS", "RATES", "VARIANTS", "WAREHOUSES", "Charge",
           "Customer", "Order", "OrderLine", "Refund", "Shipment", "ShopSpec", "Sku", "StockRecord", "TrackingEvent", "World",
           "WorldSpec", "paid_with_paypal", "paid_with_wallet"]


@dataclass(frozen=True)
class WorldSpec:
    seed: int = 42
    orders: int = 2_000
    skus: int = 120
    customers: int = 600
    shops: tuple[ShopSpec, ...] = (ShopSpec("shop_us", "USD", "America/New_York"),
                                   ShopSpec("shop_eu", "EUR", "Europe/Berlin"))
    days: int = 300
    paypal_share: float = 0.0  # of the orders paid at checkout, the share the customers paid with PayPal


class World:
    """The generated merchant, every domain from one seed, plus the mutations tests need (touch, add,
    share one timestamp, move stock)."""

    def __init__(self, spec: WorldSpec = WorldSpec()) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.now = EPOCH + timedelta(days=spec.days)
        self._ids = count(1)
        self._version = count(1)
        self.skus = [make_sku(i, self.rng) for i in range(spec.skus)]
        self.customers = [make_customer(i, self.rng) for i in range(spec.customers)]
        self.erp_contacts = plant_erp_contacts(self.customers, spec.seed)
        self.orders: list[Order] = []
        self._numbers = {shop.name: count(1001) for shop in spec.shops}
        for _ in range(spec.orders):
            self.orders.append(self._make_order(self._random_time()))
        self.orders.sort(key=lambda o: (o.created_at, o.id))
        pay_with_wallets(self.orders, spec.shops, spec.seed)
        at_paypal = pay_with_paypal(self.orders, spec.seed, spec.paypal_share)
        self.planted: dict[str, frozenset[str]] = plant_discrepancies(self.orders, spec.seed)
        for kind, ids in at_paypal.items():
            self.planted[kind] |= ids
        # The clock starts after the last generated change, so every later mutation moves cursors forward.
        self.now = max([self.now, *(order.updated_at for order in self.orders)])
        self.stock = [StockRecord(sku, wh, self.rng.randint(0, 250), next(self._version), sku.modified_at)
                      for sku in self.skus for wh, *_ in WAREHOUSES]
        self._shipper = Shipper(spec.seed)

    @cached_property
    def shipments(self) -> list[Shipment]:
        """The web shops' parcels, oldest first: made when first read, from the orders fulfilled by then."""
        return self._shipper.ship_all(self.orders, self.shippers)

    def shipments_of(self, shipper: str) -> list[Shipment]:
        """The parcels ``shipper`` knows (``shipments.SHIPPERS``), oldest first."""
        return [shipment for shipment in self.shipments if shipment.provider == shipper]

    @property
    def shippers(self) -> dict[str, str]:
        """Web shop → who knows its parcels (``ShopSpec.shipper``, else by currency): marketplaces ship
        through their own logistics and have none."""
        return {shop.name: shop.shipper or DEFAULT_SHIPPER.get(shop.currency, "easypost")
                for shop in self.spec.shops if not shop.marketplace}

    @property
    def shipping_shops(self) -> frozenset[str]:
        """The web shops whose parcels the World ships."""
        return frozenset(self.shippers)

    # -- generation -------------------------------------------------------------------------------
    def _random_time(self) -> datetime:
        return EPOCH + timedelta(seconds=self.rng.randrange(self.spec.days * 86_400))

    def _make_order(self, created: datetime) -> Order:
        """An order of a random shop, paid (a checkout charge) or not, some fulfilled or refunded: where
        the channels' and the payment provider's domains meet."""
        rng = self.rng
        shop = rng.choice(self.spec.shops)
        oid = 5_000_000_000 + next(self._ids)
        lines = []
        for sku in rng.sample(self.skus, k=min(len(self.skus), rng.choice((1, 1, 2, 2, 3, 4)))):
            lines.append(OrderLine(id=oid * 10 + len(lines), sku=sku, quantity=rng.choice((1, 1, 1, 2, 3)),
                                   unit_price=sku.price(shop.currency)))
        subtotal = sum((line.amount for line in lines), Decimal(0))
        unit = quantum(shop.currency)
        discount = (subtotal * Decimal("0.10")).quantize(unit) if rng.random() < 0.15 else Decimal("0.00")
        # a marketplace's prices include VAT: its orders show no tax of their own
        tax = Decimal("0.00") if shop.marketplace else ((subtotal - discount) * Decimal("0.08")).quantize(unit)
        shipping = Decimal("0.00") if subtotal > 100 else (Decimal("5.00") * RATES[shop.currency]).quantize(unit)
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
            if not shop.marketplace:
                order.charges.append(Charge(f"ch_{oid:x}"))
            order.fulfillment_status = "fulfilled" if roll < 0.85 else None
            if roll > 0.95:  # partial or full refund
                line = rng.choice(lines)
                amount = line.unit_price if roll < 0.98 else order.total
                order.refunds.append(Refund(id=oid * 100 + 1, created_at=order.updated_at, amount=amount,
                                            lines=[(line.id, 1)]))
                order.financial_status = "partially_refunded" if amount < order.total else "refunded"
        return order

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
        pay_with_wallets(new, self.spec.shops, f"{self.spec.seed}:{new[0].id if new else 0}")
        self.orders.extend(new)
        return new

    def ship(self, orders: list[Order]) -> list[Shipment]:
        """Fulfil ``orders`` and buy their labels now (the clock moves on a minute); returns the shipments."""
        now = self.tick()
        shipped = [self._shipper.ship(order, now, self.shippers.get(order.shop, "easypost")) for order in orders]
        for order in orders:
            order.fulfillment_status, order.updated_at = "fulfilled", now
        self.shipments.extend(shipped)
        return shipped

    def share_timestamp(self, n: int) -> datetime:
        """Give ``n`` orders one identical ``updated_at`` (the boundary case of every cursor)."""
        now = self.tick()
        for order in self.orders[:n]:
            order.updated_at = now
        return now

    def shift(self, by: timedelta) -> None:
        """Move the orders' whole timeline (and the clock) by ``by``: e.g. a month of trades ending
        yesterday, for APIs read in short windows up to now."""
        for order in self.orders:
            order.created_at, order.updated_at = order.created_at + by, order.updated_at + by
            for refund in order.refunds:
                refund.created_at += by
        self.now += by

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

    def products(self) -> dict[int, list[Sku]]:
        """Product number -> its SKUs (one per variant): how channels list them, as variable products."""
        grouped: dict[int, list[Sku]] = {}
        for sku in self.skus:
            grouped.setdefault(sku.index // len(VARIANTS), []).append(sku)
        return grouped

    def on_hand(self) -> dict[int, int]:
        """SKU index -> its stock over every warehouse: what a channel starts out selling."""
        totals = dict.fromkeys((sku.index for sku in self.skus), 0)
        for record in self.stock:
            totals[record.sku.index] += record.quantity
        return totals
