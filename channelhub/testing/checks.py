"""Checks every connector's own tests make beyond the contract, so the next connector asserts the same
outcomes in one call:

* through the marts, on whichever warehouse the env loads (a mixin of both contract classes overriding
  ``check_marts``, the env naming the marts it reads, e.g. :data:`ORDER_MARTS`): a sales channel's
  orders, lines and listings (:func:`check_order_marts`), an ERP's stock (:func:`check_stock_marts`),
  whole and exact;
* stock write-back without compare-and-set (the SDK's read-then-write writer: WooCommerce, Taobao, JD,
  Pinduoduo), on what the channel's sandbox holds (:func:`check_stock_push`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .contract import ContractEnv

if TYPE_CHECKING:
    from connectors.sdk import StockLevel, StockWriter
    from sandbox.world import Order, Sku, StockRecord


ORDER_MARTS = "+fct_orders +fct_order_lines +dim_product_listings"  # what check_order_marts reads


def check_order_marts(env: ContractEnv, platform: str, orders: Sequence[Order], skus: Sequence[Sku], *,
                      refunded_orders_cancelled: bool = True) -> None:
    """On the order marts built on the env's load (:data:`ORDER_MARTS`): every order with its total,
    refunds and item quantity, cancelled orders cancelled; every line resolved to a merchant SKU with its
    amount and quantity; every SKU a listing of ``platform``. A platform that closes an order refunded
    in full after payment rather than cancelling it (Taobao's TRADE_CLOSED) passes
    ``refunded_orders_cancelled=False``."""
    lines = [line for order in orders for line in order.lines]
    assert env.one("select count(*), sum(total_amount), sum(refunded_amount), sum(item_quantity), "
                   "count(*) filter (where status = 'cancelled') from marts.fct_orders "
                   f"where platform = '{platform}'") == (
        len(orders), sum(o.total for o in orders), sum(r.amount for o in orders for r in o.refunds),
        sum(line.quantity for line in lines),
        sum(o.cancelled_at is not None and (refunded_orders_cancelled or not o.refunds) for o in orders))
    assert env.one("select count(*), count(product_id), sum(line_amount), sum(quantity) from marts.fct_order_lines "
                   f"where channel_id = '{env.account}'") == (
        len(lines), len(lines), sum(line.amount for line in lines), sum(line.quantity for line in lines))
    assert env.one("select count(*), count(product_id) from marts.dim_product_listings "
                   f"where platform = '{platform}'") == (len(skus),) * 2


def check_stock_marts(env: ContractEnv, stock: Sequence[StockRecord]) -> None:
    """On marts already built: ``fct_inventory`` holds every (SKU, warehouse) of the account's stock,
    each resolved to a product, with the quantities to the unit and ``erp`` as their source."""
    assert env.one("select count(*), count(product_id), sum(quantity_on_hand), min(source) from marts.fct_inventory "
                   f"where channel_id = '{env.account}'") == (
        len({(r.sku.code, r.warehouse) for r in stock}),) * 2 + (sum(r.quantity for r in stock), "erp")


def check_stock_push(writer: StockWriter, levels: Sequence[StockLevel], held: Callable[[StockLevel], int], *,
                     sold: StockLevel, sold_to: int, stray: StockLevel, writes: Callable[[], int]) -> None:
    """Pushes ``levels`` once and again. ``sold`` was sold on the channel after channelhub read it (the
    channel now holds ``sold_to``): refused as stale with that quantity, and not overwritten. ``stray``
    names an item its location does not have: refused, naming both. Every other level is written and
    read back at its target (``held`` reads the sandbox). Pushed again, they are all already there and
    nothing is written (``writes`` counts the sandbox's write calls)."""
    results = writer.push(list(levels))
    assert [result.level for result in results] == list(levels)
    for result in results:
        level = result.level
        if level is sold:
            assert (result.ok, result.stale, result.actual, held(level)) == (False, True, sold_to, sold_to), result
        elif level is stray:
            assert not result.ok and f"{stray.location_id} has no item {stray.item_id}" in result.detail, result
        else:
            assert (result.ok, result.stale, result.actual, held(level)) == (True, False, level.available,
                                                                             level.available), result
    written = writes()
    again = writer.push([level for level in levels if level is not sold and level is not stray])
    assert all(result.ok and result.detail == "already at the target" for result in again)
    assert writes() == written
