"""The payment provider's side: the charges made at checkout, and the reconciliation discrepancies
planted on purpose (the rules are in the package docstring)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from .catalog import RATES, quantum
from .channels import Order, Refund, ShopSpec

DISCREPANCY_KINDS = ("unpaid", "underpaid", "overpaid", "refund_mismatch", "payment_without_order",
                     "currency_mismatch", "disputed", "paid_outside_provider", "cancelled_and_refunded",
                     "excluded")
# Planted cases that must reconcile without an exception: an order paid in its presentment currency
# (refunded in part on both sides), and a failed charge naming no order (no money moved).
QUIET_KINDS = ("paid_in_presentment", "failed_without_order")
PLANT_MIN_ORDERS = 200
OUTSIDE_GATEWAYS = ("manual", "gift_card", "cash_on_delivery")
PAYPAL_GATEWAY = "paypal"  # Shopify's payment_gateway_names for PayPal Express Checkout
# The Chinese wallets a shop's checkout may take, and the gateway id its orders then carry (WooCommerce's
# payment_method of the common Alipay and WeChat Pay plugins).
WALLET_GATEWAYS = {"alipay": "alipay", "wechatpay": "wechat_pay"}
PRESENTMENT = {"USD": ("CAD", Decimal("1.37")), "EUR": ("GBP", Decimal("0.86"))}  # shop -> (seen in, rate)


@dataclass(slots=True)
class Charge:
    """A Stripe charge made at an order's checkout."""

    id: str
    amount: Decimal | None = None  # captured, in ``currency``; None: the order's total as the customer paid it
    order_linked: bool = True      # False: it carries no order metadata (paid outside the checkout)
    currency: str | None = None    # None: the currency the customer paid the order in
    disputed: bool = False         # the cardholder disputed it (Stripe's ``disputed``)
    failed: bool = False           # declined: nothing captured (status ``failed``)


def pay_with_paypal(orders: Sequence[Order], seed: int, share: float) -> dict[str, frozenset[str]]:
    """About ``share`` of the orders paid at checkout, picked by a random stream of their own, are paid
    with PayPal instead: their one charge becomes a PayPal payment and the order's gateway ``paypal``.
    A share of 0 (the default) leaves every order, and so what every other sandbox serves, as it was.
    In a World of ``PLANT_MIN_ORDERS`` orders or more, one PayPal payment without refunds is planted
    in the wrong currency (the order's total as a number, in another currency): returns kind -> ids."""
    rng = random.Random(f"{seed}:paypal")
    paid = [order for order in orders if order.charges and rng.random() < share]
    for order in paid:
        paid_with_paypal(order)
    plain = [order for order in paid if order.financial_status == "paid" and not order.refunds]
    if len(orders) < PLANT_MIN_ORDERS or not plain:
        return {}
    wrong = rng.choice(plain)
    wrong.paypal[0].currency, wrong.paypal[0].amount = "EUR" if wrong.currency == "USD" else "USD", wrong.total
    return {"currency_mismatch": frozenset({f"{wrong.shop}:{wrong.id}"})}


def paid_with_paypal(order: Order) -> None:
    """``order``, paid through PayPal: its refunds are PayPal's, Stripe has no charge for it."""
    order.paypal = [Charge(f"PP{order.id:015X}")]  # 17 characters, as PayPal's transaction ids
    order.charges = []
    order.gateways = (PAYPAL_GATEWAY,)


def pay_with_wallets(orders: Sequence[Order], shops: Sequence[ShopSpec], seed: int | str) -> None:
    """The orders paid at checkout of a shop whose checkout takes Chinese wallets are paid with one of
    them (picked by a random stream of their own), not by card: each gets one wallet payment and no
    Stripe charge, and the shop's refunds of it are the wallet's. Other shops' orders are left as they were."""
    rng = random.Random(f"{seed}:wallets")
    wallets = {shop.name: [name for name in shop.checkout if name in WALLET_GATEWAYS] for shop in shops}
    for order in orders:
        if order.charges and wallets.get(order.shop):
            paid_with_wallet(order, rng.choice(wallets[order.shop]))


def paid_with_wallet(order: Order, wallet: str) -> None:
    """``order``, paid through ``wallet`` (``alipay`` or ``wechatpay``): 28-digit trade numbers in each
    wallet's own shape (Alipay's trade_no starts with the day, WeChat Pay's transaction_id with 42)."""
    day = f"{order.created_at:%Y%m%d}"
    trade_no = f"{day}2200{order.id % 10**16:016d}" if wallet == "alipay" else f"4200001{day}{order.id % 10**13:013d}"
    getattr(order, wallet).append(Charge(trade_no))
    order.charges = []
    order.gateways = (WALLET_GATEWAYS[wallet],)


def plant_discrepancies(orders: Sequence[Order], seed: int) -> dict[str, frozenset[str]]:
    """Turn a few ordinary paid orders (no refund) into each kind, from a random stream of their own;
    returns kind -> identifiers."""
    kinds = (*DISCREPANCY_KINDS, *QUIET_KINDS)
    ordinary = [o for o in orders if o.financial_status == "paid" and not o.refunds and o.charges]  # not marketplaces
    n = min(3, 1 + len(orders) // 2_000) if len(orders) >= PLANT_MIN_ORDERS else 0
    if len(ordinary) < len(kinds) * (n + 1):  # a World of marketplaces alone has no Stripe payment to spoil
        n = 0
    mismatches = max(2, n) if n else 0  # both refund_mismatch variants, always
    rng = random.Random(f"{seed}:discrepancies")
    chosen = iter(rng.sample(ordinary, k=(len(kinds) - 1) * n + mismatches))
    groups = {kind: list(islice(chosen, mismatches if kind == "refund_mismatch" else n)) for kind in kinds}
    for order in groups["unpaid"]:
        order.charges.clear()
    for order in groups["underpaid"]:
        short = (order.total * rng.choice((10, 25, 50)) / 100).quantize(quantum(order.currency))
        order.charges[0].amount = order.total - short
    for order in groups["overpaid"]:
        order.charges.append(Charge(f"ch_{order.id:x}z2"))  # 'z' never occurs in a hex first-charge id
    for i, order in enumerate(groups["refund_mismatch"]):
        _plant_one_sided_refund(order, rng, in_shop=i % 2 == 0)
    for order in groups["currency_mismatch"]:  # the same number in another currency
        order.charges[0].currency = "EUR" if order.currency == "USD" else "USD"
        order.charges[0].amount = order.total
    for order in groups["disputed"]:
        order.charges[0].disputed = True
    for order in groups["paid_outside_provider"]:
        order.charges.clear()
        order.gateways = (rng.choice(OUTSIDE_GATEWAYS),)
    for order in groups["cancelled_and_refunded"]:
        order.refunds.append(Refund(id=order.id * 100 + 1, created_at=order.updated_at, amount=order.total,
                                    lines=[(line.id, line.quantity) for line in order.lines]))
        order.financial_status, order.cancelled_at = "refunded", order.updated_at
    for order in groups["excluded"]:
        order.charges.clear()
        order.test, order.gateways = True, ("bogus",)
    for order in groups["paid_in_presentment"]:
        order.presentment_currency, order.presentment_rate = PRESENTMENT.get(
            order.currency, ("USD", (1 / RATES[order.currency]).quantize(Decimal("0.000001"))))
        line = order.lines[0]
        order.refunds.append(Refund(id=order.id * 100 + 1, created_at=order.updated_at, amount=line.unit_price,
                                    lines=[(line.id, 1)]))
        order.financial_status = "partially_refunded" if line.unit_price < order.total else "refunded"
    planted = {kind: frozenset(f"{o.shop}:{o.id}" for o in orders) for kind, orders in groups.items()}
    planted["payment_without_order"] = frozenset(
        _plant_payment_link_charge(order, rng) for order in groups["payment_without_order"])
    planted["failed_without_order"] = frozenset(
        _plant_payment_link_charge(order, rng, failed=True) for order in groups["failed_without_order"])
    return planted


def _plant_one_sided_refund(order: Order, rng: random.Random, *, in_shop: bool) -> None:
    """One unit refunded by the shop but never by Stripe (``in_shop``), or the other way round."""
    line = rng.choice(order.lines)
    amount = min(line.unit_price, order.total)
    refund = Refund(id=order.id * 100 + 1, created_at=order.updated_at, amount=amount, lines=[(line.id, 1)])
    if in_shop:
        order.refunds.append(refund)
        order.financial_status = "partially_refunded" if amount < order.total else "refunded"
        order.stripe_refunds = []
    else:
        order.stripe_refunds = [refund]


def _plant_payment_link_charge(order: Order, rng: random.Random, *, failed: bool = False) -> str:
    """An extra charge without order metadata beside ``order``'s own (declined when ``failed``); returns
    its id. It lives in that order's ``charges`` so every charge Stripe serves still comes from
    ``world.orders`` (tests cut that list to an exact number of charges)."""
    amount = (Decimal(rng.randrange(500, 12_000)) / 100 * RATES[order.currency]).quantize(quantum(order.currency))
    charge = Charge(f"ch_{order.id:x}z2", amount=amount, order_linked=False, failed=failed)
    order.charges.append(charge)
    return charge.id
