"""The sales channels' side: shops (one account of a platform each) and their orders, lines and the
refunds a shop shows. Every channel sandbox (Shopify, WooCommerce, Taobao…) renders these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from .catalog import Customer, Sku, quantum

if TYPE_CHECKING:
    from .payments import Charge


@dataclass(frozen=True)
class ShopSpec:
    """A shop of the merchant (one channel account). ``timezone`` is the shop's IANA zone. A
    ``marketplace`` (Taobao, JD, Pinduoduo) takes the buyer's payment itself: its orders have no Stripe
    charge, and its prices include VAT: no tax on top. A shop whose ``checkout`` names Chinese wallets
    (``alipay``, ``wechatpay``: a merchant's own CNY store) is paid through one of them instead of Stripe.
    ``shipper``: who knows a web shop's parcels (``sandbox.world.shipments.SHIPPERS``); by default
    EasyPost's labels for a shop selling in USD or EUR, and couriers' waybills the shop records on its
    orders for a CNY store. A marketplace ships through its own logistics: none here."""

    name: str
    currency: str
    timezone: str
    marketplace: bool = False
    checkout: tuple[str, ...] = ("stripe",)
    shipper: str | None = None


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
    paypal: list[Charge] = field(default_factory=list)  # PayPal payments, when the customer chose PayPal
    alipay: list[Charge] = field(default_factory=list)  # Alipay trades (trade_no), when the shop's checkout takes Alipay
    wechatpay: list[Charge] = field(default_factory=list)  # WeChat Pay transactions (transaction_id), likewise
    gateways: tuple[str, ...] = ("shopify_payments",)  # how it was paid (Shopify's payment_gateway_names)
    test: bool = False  # a test order (Shopify's Bogus Gateway): never sales, never a Stripe charge
    # The currency the customer saw and paid in, when it is not the shop's (Shopify Markets): amounts
    # there are the shop amounts times ``presentment_rate``, rounded to that currency's minor unit.
    presentment_currency: str | None = None
    presentment_rate: Decimal = Decimal(1)

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

    @property
    def paid_currency(self) -> str:
        """The currency the customer paid in: the presentment currency, else the shop's."""
        return self.presentment_currency or self.currency

    def paid(self, amount: Decimal) -> Decimal:
        """A shop-currency ``amount`` of this order in the currency the customer paid in."""
        if self.presentment_currency is None:
            return amount
        return (amount * self.presentment_rate).quantize(quantum(self.presentment_currency))
