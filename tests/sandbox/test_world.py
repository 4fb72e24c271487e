"""The World's planted payment-reconciliation discrepancies: how many, deterministic from the seed,
and exactly what an independent reconciliation of the sandboxes' rendered data finds (every other
order reconciles to the cent)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from channelhub.config import load_config
from channelhub.fleet import world_for
from sandbox.alipay import AlipaySandbox, bill_day
from sandbox.kit.rsa_keys import new_key, private_pem, public_pem
from sandbox.paypal import PaypalSandbox
from sandbox.shopify import ShopifySandbox
from sandbox.stripe import DEFAULT_API_KEY, StripeSandbox
from sandbox.wechatpay import WechatpaySandbox
from sandbox.world import (
    DISCREPANCY_KINDS,
    QUIET_KINDS,
    ShopSpec,
    World,
    WorldSpec,
    payments,  # where the planting rules live
)
from tests.pipeline import SHIPPED, small_config

SHOP_TOKEN = "shpat_world_test"


@dataclass
class Rendered:
    """What the sandboxes serve over HTTP: every shop's orders (keyed ``shop:id``), Stripe's charges
    and refunds, PayPal's transactions."""

    orders: dict[str, dict]
    charges: list[dict]
    refunds: list[dict]
    paypal: list[dict]


def shop_orders(sandbox: ShopifySandbox) -> list[dict]:
    url, params = f"{sandbox.base_url}/admin/api/2024-07/orders.json", {"status": "any", "limit": 250}
    orders: list[dict] = []
    while url:
        response = requests.get(url, params=params, headers={"X-Shopify-Access-Token": SHOP_TOKEN},
                                timeout=30)
        response.raise_for_status()
        orders += response.json()["orders"]
        url, params = response.links.get("next", {}).get("url"), None
    return orders


def stripe_objects(sandbox: StripeSandbox, kind: str) -> list[dict]:
    objects: list[dict] = []
    params: dict[str, object] = {"limit": 100}
    while True:
        page = requests.get(f"{sandbox.base_url}/v1/{kind}", params=params, timeout=30,
                            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}).json()
        objects += page["data"]
        if not page["has_more"]:
            return objects
        params["starting_after"] = page["data"][-1]["id"]


def card_shops(world: World) -> list[ShopSpec]:
    """The shops paid at Stripe or PayPal: a marketplace is paid on itself, a wallet shop through Alipay
    and WeChat Pay (test_wallet_shops_are_paid_by_wallets_only)."""
    return [shop for shop in world.spec.shops if not shop.marketplace and "stripe" in shop.checkout]


def render(world: World) -> Rendered:
    orders: dict[str, dict] = {}
    for shop in card_shops(world):
        with ShopifySandbox(world, shop.name, access_token=SHOP_TOKEN, rate_limiting=False) as sandbox:
            orders |= {f"{shop.name}:{order['id']}": order for order in shop_orders(sandbox)}
    with StripeSandbox(world, rate_limit=None) as stripe:
        charges, refunds = stripe_objects(stripe, "charges"), stripe_objects(stripe, "refunds")
    with PaypalSandbox(world, "id", "secret", rate_limit=None) as paypal:
        return Rendered(orders, charges, refunds, paypal_transactions(paypal, world))


def paypal_transactions(sandbox: PaypalSandbox, world: World) -> list[dict]:
    """Every transaction_info PayPal lists over the World's history, 31 days a search."""
    token = requests.post(f"{sandbox.base_url}/v1/oauth2/token", auth=("id", "secret"), timeout=30,
                          data={"grant_type": "client_credentials"}).json()["access_token"]
    found: list[dict] = []
    start = min(order.created_at for order in world.orders).replace(microsecond=0)
    while start <= world.now:
        end = start + timedelta(days=31)
        page = requests.get(f"{sandbox.base_url}/v1/reporting/transactions", timeout=30, params={
            "start_date": start.isoformat(), "end_date": (end - timedelta(seconds=1)).isoformat(),
            "page_size": 500}, headers={"Authorization": f"Bearer {token}"}).json()
        assert page["total_pages"] == 1
        found += [detail["transaction_info"] for detail in page["transaction_details"]]
        start = end
    return found


PROVIDER_GATEWAYS = {"shopify_payments", "stripe", "paypal"}  # gateways whose money a loaded provider shows


def reconcile(data: Rendered) -> dict[str, str]:
    """Status of every order (by ``shop:id``) and of every captured charge paying no order (by charge
    id), by the rules in rpt_payment_reconciliation.yml, applied here to what the sandboxes serve: a
    charge pays the order its metadata ``shop`` and ``order_id`` name; a refund counts for the order of
    its charge; money is compared in the currency the customer paid (the order's presentment currency,
    which is the shop's unless Shopify says otherwise)."""
    def order_of(charge: dict) -> str | None:
        metadata = charge["metadata"]
        key = f"{metadata.get('shop')}:{metadata.get('order_id')}"
        return key if key in data.orders else None

    captured: dict[str, Decimal] = defaultdict(Decimal)
    provider_refunded: dict[str, Decimal] = defaultdict(Decimal)
    currencies: dict[str, set[str]] = defaultdict(set)
    disputed: set[str] = set()
    status: dict[str, str] = {}
    charges = {charge["id"]: charge for charge in data.charges}
    for charge in data.charges:
        key = order_of(charge)
        if not charge["captured"]:
            continue  # declined: no money moved, nothing to reconcile
        if key is None:
            status[charge["id"]] = "payment_without_order"
            continue
        captured[key] += Decimal(charge["amount_captured"]) / 100
        currencies[key].add(charge["currency"].upper())
        disputed |= {key} if charge["disputed"] else set()
    for refund in data.refunds:
        if (key := order_of(charges[refund["charge"]])) and refund["status"] == "succeeded":
            provider_refunded[key] += Decimal(refund["amount"]) / 100
    for txn in data.paypal:  # a PayPal payment names its shop and order in custom_field and invoice_id
        key = f"{txn.get('custom_field')}:{txn.get('invoice_id')}"
        amount = Decimal(txn["transaction_amount"]["value"])
        if txn["transaction_event_code"] == "T0006":
            captured[key] += amount
            currencies[key].add(txn["transaction_amount"]["currency_code"])
        elif txn["transaction_event_code"] == "T1107":
            provider_refunded[key] -= amount
    for key, order in data.orders.items():
        total = Decimal(order["total_price_set"]["presentment_money"]["amount"])
        shop_refunded = sum((Decimal(t["amount"]) for r in order["refunds"] for t in r["transactions"]
                             if t["kind"] == "refund" and t["status"] == "success"), Decimal(0))
        cancelled = order["cancelled_at"] is not None
        expected = Decimal(0) if cancelled else total - shop_refunded
        net = captured[key] - provider_refunded[key]
        if order["test"]:
            status[key] = "excluded"
        elif not captured[key] and (cancelled or order["financial_status"] == "pending"):
            status[key] = "not_due"
        elif currencies[key] - {order["presentment_currency"]}:
            status[key] = "currency_mismatch"
        elif key in disputed:
            status[key] = "disputed"
        elif not captured[key]:
            outside = not set(order["payment_gateway_names"]) & PROVIDER_GATEWAYS
            status[key] = "paid_outside_provider" if outside else "unpaid"
        elif cancelled:
            status[key] = "cancelled_and_refunded" if net == 0 else "overpaid"
        elif captured[key] != total:
            status[key] = "underpaid" if captured[key] < total else "overpaid"
        elif net != expected:
            status[key] = "refund_mismatch"
        else:
            status[key] = "matched"
    return status


def discrepancies(status: dict[str, str]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in DISCREPANCY_KINDS}
    for key, kind in status.items():
        if kind not in ("matched", "not_due"):
            found.setdefault(kind, set()).add(key)
    return {kind: frozenset(keys) for kind, keys in found.items()}


def exceptions_planted(world: World) -> dict[str, frozenset[str]]:
    return {kind: ids for kind, ids in world.planted.items() if kind in DISCREPANCY_KINDS}


def pipeline_world(tmp_path: Path) -> World:
    """The merchant end-to-end tests load (tests/pipeline.py's ``small_config``: 300 orders)."""
    return world_for(load_config(small_config(tmp_path)))


@pytest.fixture(scope="module", params=["tests", "shipped"])
def world_and_data(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[World, Rendered]]:
    world = (pipeline_world(tmp_path_factory.mktemp("config")) if request.param == "tests"
             else world_for(load_config(SHIPPED)))
    yield world, render(world)


def test_exactly_the_planted_discrepancies_are_found_and_everything_else_reconciles(world_and_data) -> None:
    world, data = world_and_data
    status = reconcile(data)
    assert discrepancies(status) == exceptions_planted(world)
    paid_with_paypal = {f"{order.shop}:{order.id}" for order in world.orders if order.paypal}
    assert bool(paid_with_paypal) == (world.spec.paypal_share > 0)  # the shipped merchant's customers use PayPal too
    wrong_currency = paid_with_paypal & world.planted["currency_mismatch"]
    assert len(wrong_currency) == (world.spec.paypal_share > 0)  # PayPal's own plant
    assert {status[key] for key in paid_with_paypal - wrong_currency} <= {"matched"}
    assert all(world.planted[kind] for kind in (*DISCREPANCY_KINDS, *QUIET_KINDS))
    assert all(status[key] == "matched" for key in world.planted["paid_in_presentment"])
    assert not world.planted["failed_without_order"] & set(status)
    paid_at_stripe = [o for o in world.orders if world.shop(o.shop) in card_shops(world)]
    not_due = [o for o in paid_at_stripe if o.financial_status in ("pending", "voided")]
    assert sum(s == "not_due" for s in status.values()) == len(not_due) > 0
    assert sum(s == "matched" for s in status.values()) == len(paid_at_stripe) - len(not_due) - sum(
        len(world.planted[kind]) for kind in DISCREPANCY_KINDS if kind != "payment_without_order")
    assert len(data.orders) == len(paid_at_stripe)


def test_planted_orders_are_otherwise_ordinary(world_and_data) -> None:
    world, data = world_and_data
    changes_order = ("payment_without_order", "failed_without_order", "cancelled_and_refunded",
                     "refund_mismatch", "paid_in_presentment")
    planted_orders = {key for kind in DISCREPANCY_KINDS if kind not in ("payment_without_order",)
                      for key in world.planted[kind]} | world.planted["paid_in_presentment"]
    assert len(planted_orders) == sum(len(world.planted[k]) for k in (*DISCREPANCY_KINDS, *QUIET_KINDS)) - len(
        world.planted["payment_without_order"]) - len(world.planted["failed_without_order"])  # one kind per order
    for key in planted_orders - {k for kind in changes_order for k in world.planted[kind]}:
        order = data.orders[key]
        assert (order["cancelled_at"], order["financial_status"], order["refunds"]) == (None, "paid", [])
    for key in world.planted["cancelled_and_refunded"]:
        order = data.orders[key]
        assert order["cancelled_at"] and order["financial_status"] == "refunded"
    for key in world.planted["excluded"]:
        assert data.orders[key]["test"] and data.orders[key]["payment_gateway_names"] == ["bogus"]
    mismatched = [data.orders[key] for key in world.planted["refund_mismatch"]]
    shop_side = [o for o in mismatched if o["refunds"]]
    assert all(o["financial_status"] in ("partially_refunded", "refunded") and len(o["refunds"]) == 1
               for o in shop_side)
    stripe_side = [o for o in mismatched if not o["refunds"]]
    assert shop_side and stripe_side and all(o["financial_status"] == "paid" for o in stripe_side)
    orphans = [c for c in data.charges if c["id"] in world.planted["payment_without_order"]]
    assert len(orphans) == len(world.planted["payment_without_order"])
    assert all(c["metadata"] == {} and c["amount"] > 0 and c["status"] == "succeeded" for c in orphans)


def test_counts_per_world_size(tmp_path: Path) -> None:
    counts = {kind: len(ids) for kind, ids in pipeline_world(tmp_path).planted.items()}
    assert counts == {**dict.fromkeys((*DISCREPANCY_KINDS, *QUIET_KINDS), 1), "refund_mismatch": 2}
    counts = {kind: len(ids) for kind, ids in world_for(load_config(SHIPPED)).planted.items()}
    assert counts == {**dict.fromkeys((*DISCREPANCY_KINDS, *QUIET_KINDS), 2), "currency_mismatch": 3}  # one at PayPal
    tiny = World(WorldSpec(orders=payments.PLANT_MIN_ORDERS - 1))
    assert tiny.planted == dict.fromkeys((*DISCREPANCY_KINDS, *QUIET_KINDS), frozenset())
    assert all(len(o.charges) == 1 for o in tiny.orders if o.financial_status not in ("pending", "voided"))


def test_plants_are_deterministic_and_leave_the_rest_of_the_world_unchanged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = WorldSpec(seed=11, orders=600)
    first, again = World(spec), World(spec)
    assert first.planted == again.planted
    assert World(WorldSpec(seed=12, orders=600)).planted != first.planted
    monkeypatch.setattr(payments, "PLANT_MIN_ORDERS", spec.orders + 1)
    clean = World(spec)
    assert all(not ids for ids in clean.planted.values())

    def shape(world: World) -> list[tuple]:
        return [(o.id, o.shop, o.created_at, o.updated_at, o.total,
                 [(line.sku.code, line.quantity) for line in o.lines]) for o in world.orders]

    assert shape(clean) == shape(first)
    assert [(s.sku.code, s.warehouse, s.quantity) for s in clean.stock] == \
        [(s.sku.code, s.warehouse, s.quantity) for s in first.stock]
    assert [o.id for o in clean.add_orders(5)] == [o.id for o in first.add_orders(5)]


def test_wallet_shops_are_paid_by_wallets_only() -> None:
    """The shipped CNY web shop's checkout takes Alipay and WeChat Pay: every order due there has exactly
    one wallet payment in its wallet's trade-number shape, its gateway says which, no card or PayPal
    payment names it; the orders themselves are what they would be without wallets."""
    world = world_for(load_config(SHIPPED))
    wallet_shop = next(shop for shop in world.spec.shops if shop.checkout == ("alipay", "wechatpay"))
    due = [o for o in world.orders_of(wallet_shop.name) if o.financial_status not in ("pending", "voided")]
    assert due and all(len(o.alipay) + len(o.wechatpay) == 1 and not o.charges and not o.paypal for o in due)
    paid = {wallet: [o for o in due if getattr(o, wallet)] for wallet in ("alipay", "wechatpay")}
    assert all(len(orders) > len(due) / 4 for orders in paid.values())  # both wallets are used
    assert all(o.gateways == ("alipay",) and len(o.alipay[0].id) == 28 for o in paid["alipay"])
    assert all(o.gateways == ("wechat_pay",) and o.wechatpay[0].id.startswith("42") for o in paid["wechatpay"])
    assert not any(o.alipay or o.wechatpay for o in world.orders if o.shop != wallet_shop.name)
    by_card = World(replace(world.spec, shops=tuple(replace(shop, checkout=("stripe",)) for shop in world.spec.shops)))
    assert [(o.id, o.total) for o in by_card.orders] == [(o.id, o.total) for o in world.orders]


def test_alipay_bills_reconcile_with_the_wallet_shop_but_for_alipays_plants() -> None:
    """Alipay's daily bills (read here as plain GBK CSV, not by the connector) pay the shipped CNY shop's
    Alipay orders exactly, refunds included, at a 0.6 % fee: all but the three trades the Alipay sandbox
    plants (a day without a bill, a fee above the rate, a payment short of its order)."""
    world = world_for(load_config(SHIPPED))
    key = new_key()
    alipay = AlipaySandbox(world, "app", public_pem(key), private_pem(key), rate_limit=None)
    planted = alipay.planted
    paid: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    fees_off: list[str] = []
    for day, entries in alipay.entries().items():
        if day == planted["missing_day"]:
            continue
        with zipfile.ZipFile(io.BytesIO(alipay.zip_of(day, entries))) as archive:
            detail = next(info for info in archive.infolist() if info.filename.endswith("_业务明细.csv"))
            lines = archive.read(detail).decode("gbk").splitlines()
        for row in csv.DictReader(line for line in lines if not line.startswith("#")):
            order, amount, fee = f"shop_cn:{row['商户订单号'].strip()}", Decimal(row["订单金额（元）"]), -Decimal(row["服务费（元）"])
            if row["业务类型"] == "交易":
                paid[order] += amount
                if fee != (amount * Decimal("0.006")).quantize(Decimal("0.01"), ROUND_HALF_UP):
                    fees_off.append(row["支付宝交易号"].strip())
            else:
                refunded[order] -= amount
    orders = {f"{o.shop}:{o.number}": o for o in world.orders if o.alipay}
    unpaid = {key for key, o in orders.items() if bill_day(o.created_at) == planted["missing_day"]}
    short = {key for key, o in orders.items() if paid.get(key, Decimal(0)) != o.total}
    assert fees_off == [planted["fee_mismatch"]]
    assert unpaid and short == unpaid | {planted["wrong_amount"]}
    assert all(refunded.get(key, Decimal(0)) == o.refunded for key, o in orders.items() if key not in unpaid)
    assert set(paid) == set(orders) - unpaid


# -- shipments ------------------------------------------------------------------------------------------

def test_every_fulfilled_web_shop_order_ships_once_after_it_was_placed() -> None:
    """Each web shop's parcels are known to its shipper: EasyPost by default for USD and EUR, ShipStation
    where a shop says so, the shop itself (couriers' waybills) for a CNY store; a marketplace ships none."""
    shops = (ShopSpec("shop_us", "USD", "America/New_York"), ShopSpec("shop_eu", "EUR", "Europe/Berlin", shipper="shipstation"),
             ShopSpec("shop_cn", "CNY", "Asia/Shanghai"), ShopSpec("jd_cn", "CNY", "Asia/Shanghai", marketplace=True))
    world = World(WorldSpec(seed=11, orders=400, shops=shops))
    assert world.shippers == {"shop_us": "easypost", "shop_eu": "shipstation", "shop_cn": "shop"}
    shipped = {shipment.reference: shipment for shipment in world.shipments}
    fulfilled = {f"{o.shop}:{o.id}" for o in world.orders if o.shop != "jd_cn"
                 and o.fulfillment_status == "fulfilled" and not o.test and o.cancelled_at is None}
    assert set(shipped) == fulfilled and len(shipped) == len(world.shipments)
    for shipment in world.shipments:
        assert shipment.provider == world.shippers[shipment.order.shop]
        assert shipment.order.created_at < shipment.created_at <= shipment.order.created_at + timedelta(hours=72)
        assert shipment.cost > 0 and shipment.cost == shipment.cost.quantize(Decimal("0.01"))
        assert shipment.events[0].at == shipment.created_at and shipment.events[0].status == "pre_transit"
        assert [e.at for e in shipment.events] == sorted(e.at for e in shipment.events)
    couriers = {s.carrier: s.tracking_code for s in world.shipments_of("shop")}
    assert set(couriers) == {"SF", "ZTO", "YTO", "YUNDA"}
    assert couriers["SF"].startswith("SF") and couriers["YTO"].startswith("YT") and len(couriers["SF"]) == 15
    assert {s.carrier for s in world.shipments_of("shipstation")} <= {"DHLExpress", "UPS"}


def test_tracking_follows_the_state_machine_to_each_fate() -> None:
    """pre_transit → in_transit → out_for_delivery → delivered, or failure (→ return_to_sender), or
    stuck in transit; each fate occurs."""
    world = World(WorldSpec(seed=11, orders=600))
    paths = {"delivered": ["pre_transit", "in_transit", "in_transit", "out_for_delivery", "delivered"],
             "failure": ["pre_transit", "in_transit", "in_transit", "out_for_delivery", "failure"],
             "return_to_sender": ["pre_transit", "in_transit", "in_transit", "out_for_delivery", "failure",
                                  "return_to_sender"],
             "stuck": ["pre_transit", "in_transit", "in_transit"]}
    fates = {shipment.fate for shipment in world.shipments}
    assert fates == set(paths)
    for shipment in world.shipments:
        assert [event.status for event in shipment.events] == paths[shipment.fate]


def test_moving_the_clock_moves_parcels_along() -> None:
    world = World(WorldSpec(seed=11, orders=300))
    [shipment] = world.ship(world.orders[:1])
    assert shipment.status(world.now) == "pre_transit" and world.orders[0].fulfillment_status == "fulfilled"
    world.tick(30 * 86_400)
    assert shipment.status(world.now) == shipment.events[-1].status != "pre_transit"
    assert shipment.updated_at(world.now) == shipment.events[-1].at and shipment in world.shipments


def test_shipments_leave_the_rest_of_the_world_unchanged() -> None:
    """They come from a random stream of their own: reading them changes nothing else, and one seed
    always gives the same parcels."""
    spec = WorldSpec(seed=5, orders=250)
    plain, shipping = World(spec), World(spec)
    parcels = [(s.id, s.tracking_code, s.cost, [e.at for e in s.events]) for s in shipping.shipments]
    assert parcels == [(s.id, s.tracking_code, s.cost, [e.at for e in s.events]) for s in World(spec).shipments]
    assert [o.id for o in shipping.add_orders(3)] == [o.id for o in plain.add_orders(3)]
    assert [(o.id, o.total, o.financial_status) for o in shipping.orders] == \
        [(o.id, o.total, o.financial_status) for o in plain.orders]


def test_wechatpay_bills_pay_the_wallet_shops_orders_but_for_their_plants() -> None:
    """The WeChat Pay sandbox's bills, reconciled with the shipped CNY shop's orders by out_trade_no:
    every order paid with WeChat Pay is billed its total in CNY at a 0.60 % fee, and its refunds are the
    shop's, except exactly the three planted cases: the day without a bill (its orders unbilled), the
    payment in USD and the fee at another rate."""
    world = world_for(load_config(SHIPPED))
    key = new_key()
    sandbox = WechatpaySandbox(world, "1900007291", "0", key.public_key(), key, "0")
    planted = sandbox.planted
    lines = sandbox.served()
    paid = {line.out_trade_no: line for line in lines if line.state == "SUCCESS"}
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        if line.state == "REFUND":
            refunded[line.out_trade_no] += line.refunded
    wallet_orders = [o for o in world.orders if o.wechatpay]
    unbilled = {str(o.number) for o in wallet_orders
                if o.created_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == sandbox.planted_day}
    assert unbilled and set(paid) == {str(o.number) for o in wallet_orders} - unbilled
    off = {str(o.number) for o in wallet_orders if o.wechatpay[0].id in (planted["currency_mismatch"],
                                                                        planted["fee_mismatch"])}
    for order in wallet_orders:
        line = paid.get(str(order.number))
        if line is None or line.out_trade_no in off:
            continue
        assert (line.currency, line.settled, line.fee) == ("CNY", order.total, (order.total * Decimal("0.006")).quantize(
            Decimal("0.01"), ROUND_HALF_UP)), order.number
        assert refunded[line.out_trade_no] == order.refunded
    wrong = paid[next(n for n in off if paid[n].transaction_id == planted["currency_mismatch"])]
    assert wrong.currency == "USD"
    fee = paid[next(n for n in off if paid[n].transaction_id == planted["fee_mismatch"])]
    assert fee.fee == (fee.settled * Decimal("0.01")).quantize(Decimal("0.01"), ROUND_HALF_UP) != \
        (fee.settled * Decimal("0.006")).quantize(Decimal("0.01"), ROUND_HALF_UP)
