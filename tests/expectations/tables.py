"""A minimal valid warehouse for the quality-gate tests, written without sandboxes or transforms.

Raw tables get the key columns their connector declares; marts get every column of the marts'
contract, as ``marts.<mart>`` tables, the layout transforms build.
Tests then plant one violation at a time with plain SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from channelhub.config import HubConfig
from expectations import raw_suites
from warehouse import Warehouse, ensure_tables

T, N, I, B, TS, D = sa.Text, sa.Numeric(18, 2), sa.BigInteger, sa.Boolean, sa.DateTime(timezone=True), sa.Date
MART_COLUMNS: dict[str, dict[str, Any]] = {
    "dim_channels": {"channel_id": T, "platform": T, "kind": T, "is_sales_channel": B, "is_stock_target": B},
    "freshness": {"account": T, "platform": T, "schedule": T, "last_run_at": TS, "last_outcome": T,
                  "last_success_at": TS, "hours_since_success": N},
    "dim_products": {"product_id": T, "product_name": T, "variant": T, "barcode": T, "listing_count": I,
                     "channels": T},
    "dim_product_listings": {"listing_id": T, "product_id": T, "channel_id": T, "platform": T, "source_code": T,
                             "variant_id": T, "inventory_item_id": T, "is_mapped_by_merchant": B},
    "dim_customers": {"customer_id": T, "email": T, "phone": T, "first_name": T, "last_name": T,
                      "first_seen_at": TS, "source_count": I, "source_ids": T},
    "fct_orders": {"order_id": T, "channel_id": T, "platform": T, "source_order_id": T, "order_number": T,
                   "customer_id": T, "ordered_at": TS, "updated_at": TS, "currency": T, "subtotal_amount": N,
                   "shipping_amount": N, "tax_amount": N, "discount_amount": N, "total_amount": N,
                   "refunded_amount": N, "status": T, "source_financial_status": T,
                   "source_fulfillment_status": T, "is_cancelled": B, "line_count": I, "item_quantity": I,
                   "is_test": B, "payment_gateways": T, "presentment_currency": T, "presentment_total_amount": N,
                   "presentment_refunded_amount": N},
    "fct_order_lines": {"order_line_id": T, "order_id": T, "channel_id": T, "product_id": T, "source_sku": T,
                        "quantity": I, "unit_price": N, "line_amount": N, "currency": T, "ordered_at": TS,
                        "refunded_quantity": I, "open_quantity": I},
    "fct_payments": {"payment_id": T, "provider": T, "channel_id": T, "order_id": T, "method": T, "created_at": TS,
                     "currency": T, "amount": N, "amount_captured": N, "amount_refunded": N, "fee_amount": N,
                     "fee_variance": N, "net_amount": N, "settled_at": TS, "payout_id": T, "status": T, "is_captured": B,
                     "is_disputed": B},
    "fct_payouts": {"payout_id": T, "provider": T, "channel_id": T, "currency": T, "amount": N, "status": T,
                    "created_at": TS, "payment_count": I, "fee_amount": N, "expected_amount": N, "difference": N,
                    "is_balanced": B},
    "fct_refunds": {"refund_id": T, "provider": T, "channel_id": T, "payment_id": T, "order_id": T,
                    "created_at": TS, "currency": T, "amount": N, "status": T},
    "fct_inventory": {"product_id": T, "unmatched_code": T, "warehouse_id": T, "source": T, "channel_id": T,
                      "quantity_on_hand": I, "as_of_at": TS, "counts_as_on_hand": B},
    "rpt_stock_availability": {"product_id": T, "source_code": T, "channel_id": T, "location_id": T,
                               "inventory_item_id": T, "on_hand": I, "location_on_hand": I, "reserved": I,
                               "safety_stock": I, "available_to_promise": I, "percentage": sa.Numeric(5, 2),
                               "cap": I, "floor": I, "allocated_quantity": I, "allocation_note": T,
                               "channel_quantity": I},
    "rpt_payment_reconciliation": {"order_id": T, "payment_ids": T, "channel_id": T, "currency": T, "payment_currency": T,
                                   "order_total": N, "order_refunded": N, "captured_amount": N,
                                   "provider_refunded": N, "difference": N, "status": T},
    "rpt_daily_sales": {"sales_date": D, "day_zone": T, "channel_id": T, "platform": T, "currency": T, "order_count": I,
                        "units": I, "gross_sales": N, "discounts": N, "returns": N, "net_sales": N, "shipping": N,
                        "taxes": N, "total_collected": N, "cancelled_order_count": I, "cancelled_kept_amount": N,
                        "test_order_count": I},
    "fct_shipments": {"shipment_id": T, "provider": T, "channel_id": T, "order_id": T, "is_order_known": B,
                      "ordered_at": TS, "carrier": T, "service": T, "tracking_code": T, "shipped_at": TS,
                      "delivered_at": TS, "status": T, "is_final": B, "last_event_at": TS, "last_event_message": T,
                      "cost_amount": N, "currency": T, "event_count": I, "tracked_by": T, "tracked_at": TS},
    "fct_tracking_events": {"event_id": T, "shipment_id": T, "order_id": T, "provider": T, "channel_id": T,
                            "tracking_code": T, "carrier": T, "event_index": I, "occurred_at": TS, "status": T,
                            "status_detail": T, "message": T, "city": T, "country": T},
    "rpt_fulfilment": {"order_id": T, "channel_id": T, "ordered_at": TS, "paid_at": TS, "shipped_at": TS,
                       "delivered_at": TS, "shipment_count": I, "hours_to_ship": N, "hours_to_deliver": N,
                       "fulfilment_status": T, "is_late": B, "last_event_at": TS, "as_of_at": TS},
}
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SHIPPED, DELIVERED = AT + timedelta(hours=20), AT + timedelta(days=3)
SKUS = ("CH-0001-M", "CH-0002-L", "CH-0003-S")
FEE = Decimal("1.71")  # Stripe's 2.9% + 30c on 48.60


def mart_rows(orders: int) -> dict[str, list[dict[str, Any]]]:
    """A consistent small merchant: ``orders`` paid Shopify orders of one line each, all paid by Stripe."""
    order_rows, line_rows, payment_rows, reconciliation_rows = [], [], [], []
    for n in range(1, orders + 1):
        order_id = f"shop_us:{1000 + n}"
        subtotal, shipping, tax, discount = Decimal("40.00"), Decimal("5.00"), Decimal("3.60"), Decimal("2.00")
        total = subtotal + shipping + tax - discount
        order_rows.append({
            "order_id": order_id, "channel_id": "shop_us", "platform": "shopify", "source_order_id": str(1000 + n),
            "order_number": f"#{1000 + n}", "customer_id": f"cus_{n % 3}", "ordered_at": AT, "updated_at": AT,
            "currency": "USD", "subtotal_amount": subtotal, "shipping_amount": shipping, "tax_amount": tax,
            "discount_amount": discount, "total_amount": total, "refunded_amount": Decimal(0), "status": "paid",
            "source_financial_status": "paid", "source_fulfillment_status": None, "is_cancelled": False,
            "line_count": 1, "item_quantity": 2, "is_test": False, "payment_gateways": "shopify_payments",
            "presentment_currency": "USD", "presentment_total_amount": total,
            "presentment_refunded_amount": Decimal(0)})
        line_rows.append({
            "order_line_id": f"{order_id}:1", "order_id": order_id, "channel_id": "shop_us",
            "product_id": SKUS[n % 3], "source_sku": SKUS[n % 3], "quantity": 2, "unit_price": Decimal("20.00"),
            "line_amount": subtotal, "currency": "USD", "ordered_at": AT, "refunded_quantity": 0,
            "open_quantity": 2})
        payment_rows.append({
            "payment_id": f"ch_{n}", "provider": "stripe", "channel_id": "stripe_main", "order_id": order_id,
            "method": "card", "created_at": AT, "currency": "USD", "amount": total, "amount_captured": total,
            "amount_refunded": Decimal(0), "fee_amount": FEE, "fee_variance": None, "net_amount": total - FEE, "settled_at": AT,
            "payout_id": "po_1", "status": "succeeded", "is_captured": True, "is_disputed": False})
        reconciliation_rows.append({
            "order_id": order_id, "payment_ids": f"ch_{n}", "channel_id": "shop_us", "currency": "USD",
            "payment_currency": "USD",
            "order_total": total, "order_refunded": Decimal(0), "captured_amount": total,
            "provider_refunded": Decimal(0), "difference": Decimal(0), "status": "matched"})
    return {
        "dim_channels": [
            {"channel_id": "shop_us", "platform": "shopify", "kind": "channel", "is_sales_channel": True,
             "is_stock_target": True},
            {"channel_id": "stripe_main", "platform": "stripe", "kind": "payments", "is_sales_channel": False,
             "is_stock_target": False},
            {"channel_id": "erp_u8", "platform": "yonyou_u8", "kind": "erp", "is_sales_channel": False,
             "is_stock_target": False}],
        "dim_products": [{"product_id": sku, "product_name": f"Tee {sku}", "variant": sku[-1], "barcode": None,
                          "listing_count": 1, "channels": "shop_us"} for sku in SKUS],
        "dim_product_listings": [
            {"listing_id": f"shop_us:{i}", "product_id": sku, "channel_id": "shop_us", "platform": "shopify",
             "source_code": sku, "variant_id": str(500 + i), "inventory_item_id": str(700 + i),
             "is_mapped_by_merchant": False} for i, sku in enumerate(SKUS)],
        "dim_customers": [{"customer_id": f"cus_{i}", "email": f"c{i}@example.com", "phone": None,
                           "first_name": "Ann", "last_name": "Lee", "first_seen_at": AT, "source_count": 1,
                           "source_ids": f"shop_us:{i}"} for i in range(3)],
        "fct_orders": order_rows,
        "fct_order_lines": line_rows,
        "fct_payments": payment_rows,
        "fct_payouts": [{"payout_id": "po_1", "provider": "stripe", "channel_id": "stripe_main", "currency": "USD",
                         "amount": sum(p["net_amount"] for p in payment_rows), "status": "paid", "created_at": AT,
                         "payment_count": len(payment_rows), "fee_amount": FEE * len(payment_rows),
                         "expected_amount": sum(p["net_amount"] for p in payment_rows), "difference": Decimal(0),
                         "is_balanced": True}],
        "fct_refunds": [{"refund_id": "re_1", "provider": "stripe", "channel_id": "stripe_main",
                         "payment_id": "ch_1", "order_id": "shop_us:1001", "created_at": AT, "currency": "USD",
                         "amount": Decimal("0.00"), "status": "succeeded"}],
        "fct_inventory": [{"product_id": sku, "unmatched_code": None, "warehouse_id": "WH01", "source": "erp", "channel_id": "erp_u8",
                           "quantity_on_hand": 30, "as_of_at": AT, "counts_as_on_hand": True} for sku in SKUS],
        "rpt_stock_availability": [
            {"product_id": sku, "source_code": sku, "channel_id": "shop_us", "location_id": "9001",
             "inventory_item_id": str(700 + i), "on_hand": 30, "location_on_hand": 30, "reserved": 4,
             "safety_stock": 2, "available_to_promise": 24, "percentage": Decimal(50), "cap": None, "floor": 0,
             "allocated_quantity": 12, "allocation_note": None, "channel_quantity": 12}
            for i, sku in enumerate(SKUS)],
        "rpt_payment_reconciliation": reconciliation_rows,
        # the first order shipped with EasyPost and delivered; the others not shipped yet
        "fct_shipments": [{"shipment_id": "shp_1", "provider": "easypost", "channel_id": "ship_easypost",
                           "order_id": "shop_us:1001", "is_order_known": True, "ordered_at": AT, "carrier": "USPS",
                           "service": "Priority", "tracking_code": "9400100000000000000001", "shipped_at": SHIPPED,
                           "delivered_at": DELIVERED, "status": "delivered", "is_final": True,
                           "last_event_at": DELIVERED, "last_event_message": "Delivered",
                           "cost_amount": Decimal("9.35"), "currency": "USD", "event_count": 2,
                           "tracked_by": "easypost", "tracked_at": DELIVERED}],
        "fct_tracking_events": [
            {"event_id": f"shp_1:{i}", "shipment_id": "shp_1", "order_id": "shop_us:1001", "provider": "easypost",
             "channel_id": "ship_easypost", "tracking_code": "9400100000000000000001", "carrier": "USPS",
             "event_index": i, "occurred_at": at, "status": status, "status_detail": detail, "message": status,
             "city": "New York", "country": "US"}
            for i, (at, status, detail) in enumerate([(SHIPPED, "pre_transit", "label_created"),
                                                       (DELIVERED, "delivered", "arrived_at_destination")])],
        "rpt_fulfilment": [
            {"order_id": order["order_id"], "channel_id": "shop_us", "ordered_at": AT, "paid_at": AT,
             "shipped_at": SHIPPED if first else None, "delivered_at": DELIVERED if first else None,
             "shipment_count": int(first), "hours_to_ship": Decimal(20) if first else None,
             "hours_to_deliver": Decimal(52) if first else None,
             "fulfilment_status": "delivered" if first else "unshipped", "is_late": not first,
             "last_event_at": DELIVERED if first else None, "as_of_at": DELIVERED}
            for first, order in ((i == 0, order) for i, order in enumerate(order_rows))],
        "freshness": [{"account": "shop_us", "platform": "shopify", "schedule": "0 * * * *",
                       "last_run_at": datetime(2026, 3, 2, 12, tzinfo=UTC), "last_outcome": "success",
                       "last_success_at": datetime(2026, 3, 2, 12, tzinfo=UTC), "hours_since_success": Decimal("0.5")}],
        "rpt_daily_sales": [{"sales_date": date(2026, 3, 2), "day_zone": "America/New_York", "channel_id": "shop_us",
                             "platform": "shopify",
                             "currency": "USD", "order_count": orders, "units": 2 * orders,
                             **_sales_measures(order_rows), "cancelled_order_count": 0,
                             "cancelled_kept_amount": Decimal(0), "test_order_count": 0}],
    }


def _sales_measures(orders: list[dict[str, Any]]) -> dict[str, Decimal]:
    def total(column: str) -> Decimal:
        return sum((order[column] for order in orders), Decimal(0))
    gross, discounts, returns = total("subtotal_amount"), total("discount_amount"), total("refunded_amount")
    return {"gross_sales": gross, "discounts": discounts, "returns": returns, "net_sales": gross - discounts - returns,
            "shipping": total("shipping_amount"), "taxes": total("tax_amount"),
            "total_collected": total("total_amount") - returns}


def write_raw_tables(hub: HubConfig, rows: int = 3) -> None:
    """Every raw table the connectors declare, with distinct non-null keys."""
    metadata = sa.MetaData()
    tables = [sa.Table(suite.table, metadata, *(sa.Column(c, sa.Text) for c in suite.required_columns()),
                       schema=suite.schema) for suite in raw_suites(hub)]
    with Warehouse(hub.warehouse_url).engine.begin() as conn:
        ensure_tables(conn, *tables)
        for table in tables:
            conn.execute(table.insert(), [{c.name: f"{c.name}-{n}" for c in table.columns} for n in range(rows)])


def write_marts(hub: HubConfig, orders: int = 10) -> None:
    """Every mart of the contract as a ``marts.<mart>`` table."""
    metadata = sa.MetaData(schema="marts")
    tables = {name: sa.Table(name, metadata, *(sa.Column(c, t) for c, t in columns.items()))
              for name, columns in MART_COLUMNS.items()}
    with Warehouse(hub.warehouse_url).engine.begin() as conn:
        ensure_tables(conn, *tables.values())
        for name, rows in mart_rows(orders).items():
            conn.execute(tables[name].insert(), rows)


def execute(hub: HubConfig, *statements: str) -> None:
    with Warehouse(hub.warehouse_url).engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
