"""The Amazon connector against its sandbox: the shared contract, Amazon's official SDK (``amzn-sp-api``)
and python-amazon-sp-api as the outside checks, LWA tokens, the two-minute freshness rule, per-operation
quotas with ``QuotaExceeded``, error envelopes, quarantine, FBA kept out of the stock push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_stock_push
from connectors.amazon import connector
from connectors.sdk import StockLevel
from sandbox.amazon import AmazonSandbox, amazon_order_id, is_fba
from sandbox.world import EPOCH, ShopSpec, World, WorldSpec

CLIENT, SECRET, REFRESH = "amzn1.application-oa2-client.0a1b2c3d", "amzn1.oa2-cs.v1.5e6f7a8b9c", "Atzr|IwEBIA-seller"
SELLER, MARKETPLACE = "A2SELLER0001", "ATVPDKIKX0DER"
SHOP = ShopSpec("amazon_us", "USD", "America/Los_Angeles", marketplace=True)
QUOTA_SCALE = 1000.0  # the test's seller plan: Amazon's default rates a thousand times over (bursts as documented)


class AmazonEnv(WorldSandboxEnv):
    account, connector = SHOP.name, "amazon"
    primary_stream = "orders"
    primary_key = "amazon_order_id"
    marts = f"{ORDER_MARTS} +rpt_stock_availability"
    fault_path = "/orders/v0/orders"
    environment: ClassVar[dict[str, str]] = {"TEST_AMZ_CLIENT": CLIENT, "TEST_AMZ_SECRET": SECRET,
                                             "TEST_AMZ_REFRESH": REFRESH}

    def __init__(self, tmp_path: Path, records: int = 40, page_size: int = 20, **settings: Any) -> None:
        self.world = World(WorldSpec(orders=records, skus=16, customers=40, shops=(SHOP,), days=300))
        self.sandbox = AmazonSandbox(self.world, SHOP.name, client_id=CLIENT, client_secret=SECRET,
                                     refresh_token=REFRESH, seller_id=SELLER, quota_scale=QUOTA_SCALE)
        self.sandbox.serve()
        base = self.sandbox.base_url
        self.configure(tmp_path, {"base_url": base, "token_url": f"{base}/auth/o2/token", "seller_id": SELLER,
                                  "marketplace_id": MARKETPLACE, "page_size": page_size,
                                  "start_date": EPOCH.isoformat(), **settings},
                       {"client_id": "TEST_AMZ_CLIENT", "client_secret": "TEST_AMZ_SECRET",
                        "refresh_token": "TEST_AMZ_REFRESH"})


class AmazonMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: AmazonEnv) -> None:
        """Through the connector's conformed models: every order with its total (Pending ones from their
        items), cancelled orders cancelled, every item a line resolved to a merchant SKU, every SKU a
        listing; rpt_stock_availability stocks the seller-fulfilled SKUs at the marketplace with the
        quantity Amazon showed, and never an FBA one."""
        orders = env.world.orders_of(SHOP.name)
        lines = [line for order in orders for line in order.lines]
        assert env.one("select count(*), sum(total_amount), sum(item_quantity), "
                       "count(*) filter (where status = 'cancelled') from marts.fct_orders where platform = 'amazon'") == (
            len(orders), sum(o.total for o in orders), len(lines) and sum(line.quantity for line in lines),
            sum(o.financial_status == "voided" for o in orders))
        assert env.one("select count(*), count(product_id), sum(line_amount), sum(quantity) from marts.fct_order_lines "
                       f"where channel_id = '{env.account}'") == (
            len(lines), len(lines), sum(line.amount for line in lines), sum(line.quantity for line in lines))
        assert env.one("select count(*), count(product_id), count(inventory_item_id) from marts.dim_product_listings "
                       "where platform = 'amazon'") == (
            len(env.world.skus), len(env.world.skus), sum(not is_fba(sku) for sku in env.world.skus))
        rows = env.rows("select location_id, inventory_item_id, channel_quantity from marts.rpt_stock_availability "
                        f"where channel_id = '{env.account}'")
        assert sorted(rows) == sorted((MARKETPLACE, sku.code, env.sandbox.stock.quantities[sku.index])
                                      for sku in env.world.skus if not is_fba(sku))


class TestAmazonContract(AmazonMarts, ConnectorContract):
    env_class = AmazonEnv
    records, page_size = 120, 40


class TestAmazonOnPostgres(AmazonMarts, PostgresParity):
    env_class = AmazonEnv
    records, page_size = 80, 40


@pytest.fixture
def seller(make_env: Any) -> AmazonEnv:
    return make_env(AmazonEnv)


def test_smoke(seller: AmazonEnv) -> None:
    report = run_account(seller.config, seller.account)
    print(report.rows)
    print(seller.rows("select * from raw_amazon_us.orders limit 2"))
    print(seller.rows("select * from raw_amazon_us.order_items limit 2"))
    print(seller.rows("select * from raw_amazon_us.listings limit 2"))
    print(seller.rows("select * from raw_amazon_us.fba_inventory limit 2"))
    assert 0
