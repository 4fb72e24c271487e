"""The Amazon connector against its sandbox: the shared contract, Amazon's official SDK (``amzn-sp-api``)
and python-amazon-sp-api as the outside checks, LWA tokens, the two-minute freshness rule, per-operation
quotas with ``QuotaExceeded``, error envelopes, quarantine, FBA kept out of the stock push."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_push
from connectors.amazon import connector
from connectors.sdk import StockLevel
from sandbox.amazon import FRESHNESS, AmazonSandbox, amazon_order_id, is_fba
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
                                  "marketplace_id": MARKETPLACE, "page_size": page_size, "poll_seconds": 0.01,
                                  "start_date": EPOCH.isoformat(), **settings},
                       {"client_id": "TEST_AMZ_CLIENT", "client_secret": "TEST_AMZ_SECRET",
                        "refresh_token": "TEST_AMZ_REFRESH"})


class AmazonMarts:
    """Checks on the marts of the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: AmazonEnv) -> None:
        """Through the connector's conformed models: every order with its total (Pending ones from their
        items) and refund events, cancelled orders cancelled, every item a line resolved to a merchant
        SKU, every SKU a listing, FBA ones without an inventory item; rpt_stock_availability stocks the seller-fulfilled SKUs at the marketplace with the
        quantity Amazon showed, and never an FBA one."""
        check_order_marts(env, "amazon", env.world.orders_of(SHOP.name), env.world.skus, refunded_orders_cancelled=False)
        assert env.one("select count(*), count(product_id), count(inventory_item_id) from marts.dim_product_listings "
                       "where platform = 'amazon'") == (
            len(env.world.skus), len(env.world.skus), sum(not is_fba(sku) for sku in env.world.skus))
        rows = env.rows("select location_id, inventory_item_id, channel_quantity from marts.rpt_stock_availability "
                        f"where channel_id = '{env.account}'")
        assert sorted(rows) == sorted((MARKETPLACE, sku.code, env.sandbox.stock.quantities[sku.index])
                                      for sku in env.world.skus if not is_fba(sku))


class TestAmazonContract(AmazonMarts, ConnectorContract):
    env_class = AmazonEnv
    records, page_size = 60, 20


class TestAmazonOnPostgres(AmazonMarts, PostgresParity):
    env_class = AmazonEnv
    records, page_size = 40, 20


@pytest.fixture
def seller(make_env: Any) -> AmazonEnv:
    """A small seller of its own (40 orders, pages of 20), for the tests below the contract."""
    return make_env(AmazonEnv)


@dataclass(frozen=True)
class Marketplace:
    """What python-amazon-sp-api reads of its ``Marketplaces`` enum, pointed at the sandbox."""

    endpoint: str
    marketplace_id: str = MARKETPLACE
    region: str = "us-east-1"


def test_amazons_official_sdk_and_python_amazon_sp_api_work_against_the_sandbox(seller: AmazonEnv) -> None:
    """``amzn-sp-api`` (Amazon's SDK: LWA at the given token endpoint, csv lists, its own models) and
    python-amazon-sp-api (every marketplace spelling at once, a Host made for https) page orders, read
    items and FBA inventory and set a seller quantity; a LastUpdatedAfter of now is refused."""
    # imported here: importing Amazon's SDK configures the root logger (logging.basicConfig at INFO),
    # which must not reach the other tests of this worker
    from sp_api.api import ListingsItems, Orders
    from sp_api.auth import AccessTokenClient
    from spapi import FbaInventoryApi, ListingsApi, OrdersV0Api, SPAPIClient, SPAPIConfig
    from spapi.rest import ApiException

    base, box = seller.sandbox.base_url, seller.sandbox
    client = SPAPIClient(SPAPIConfig(client_id=CLIENT, client_secret=SECRET, refresh_token=REFRESH, region="NA"),
                         oauth_endpoint=f"{base}/auth/o2/token", endpoint=base)
    orders = OrdersV0Api(client.api_client)
    first = orders.get_orders(marketplace_ids=[MARKETPLACE], last_updated_after=EPOCH.isoformat(), max_results_per_page=25)
    rest = orders.get_orders(marketplace_ids=[MARKETPLACE], next_token=first.payload.next_token)
    served = [o.amazon_order_id for o in first.payload.orders + rest.payload.orders]
    world = sorted(box.world.orders, key=lambda o: (o.updated_at, o.id))
    assert served == [amazon_order_id(o) for o in world] and rest.payload.next_token is None
    items = orders.get_order_items(served[0]).payload.order_items
    assert [(i.seller_sku, Decimal(i.item_price.amount)) for i in items] == [(line.sku.code, line.amount)
                                                                             for line in world[0].lines]
    with pytest.raises(ApiException) as refused:
        orders.get_orders(marketplace_ids=[MARKETPLACE], last_updated_after=datetime.now(UTC).isoformat())
    assert refused.value.status == 400 and "InvalidInput" in refused.value.body and "two minutes" in refused.value.body
    patch = [{"op": "replace", "path": "/attributes/fulfillment_availability",
              "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]
    answer = ListingsApi(client.api_client).patch_listings_item(SELLER, "CH-0000-S", [MARKETPLACE],
                                                                {"productType": "SHIRT", "patches": patch})
    assert answer.status == "ACCEPTED" and box.stock.quantities[0] == 7
    summaries = FbaInventoryApi(client.api_client).get_inventory_summaries(
        "Marketplace", MARKETPLACE, [MARKETPLACE], details=True).payload.inventory_summaries
    assert {s.seller_sku for s in summaries} == {sku.code for sku in box.world.skus if is_fba(sku)}

    class SandboxLwa(AccessTokenClient):
        scheme, host = "http://", base.removeprefix("http://")

    community = {"refresh_token": REFRESH, "credentials": {"lwa_app_id": CLIENT, "lwa_client_secret": SECRET},
                 "auth_token_client_class": SandboxLwa}
    page = Orders(Marketplace(base), **community).get_orders(LastUpdatedAfter=EPOCH.isoformat(), MaxResultsPerPage=10)
    assert [o["AmazonOrderId"] for o in page.payload["Orders"]] == served[:10] and page.next_token
    assert {"MarketplaceId", "MarketplaceIds", "marketplaceIds", "marketplace_ids"} <= set(box.calls_to("getOrders")[-1])
    ListingsItems(Marketplace(base), **community).patch_listings_item(
        SELLER, "CH-0001-S", body={"productType": "SHIRT", "patches": [{**patch[0], "value": [
            {"fulfillment_channel_code": "DEFAULT", "quantity": 4}]}]})
    assert box.stock.quantities[4] == 4


def test_a_report_backfills_the_first_sync_then_the_orders_api_reads_changes(
        seller: AmazonEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first sync is one flat-file report (no getOrders, no getOrderItems): orders exact, in UTC, with
    their items, refunds, listings (FBA ones without a seller quantity); an order whose price in the file
    is not a number is set aside naming the column; one LWA token a run. The next sync pages getOrders
    from the cursor less its lag and reads the items of the orders that changed; a Pending order comes
    without OrderTotal, as Amazon sends it."""
    box, orders = seller.sandbox, seller.world.orders
    bad, rows = orders[0], box.report_rows
    monkeypatch.setattr(box, "report_rows", lambda order: [
        [*row[:15], "12,34", *row[16:]] for row in rows(order)] if order is bad else rows(order))
    assert connector.check(seller.config.account(seller.account)).detail == f"16 listings in {MARKETPLACE}"
    report = run_account(seller.config, seller.account)
    assert report.rows == {"orders": 39, "order_items": sum(len(o.lines) for o in orders if o is not bad),
                           "listings": 16, "fba_inventory": 4, "refunds": sum(len(o.refunds) for o in orders)}
    assert report.quarantined == {"orders": 1}
    assert seller.rows(f"select record_key, field from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"AmazonOrderId {amazon_order_id(bad)}", "item-price")]
    assert [len(box.calls_to(op)) for op in ("createReport", "getOrders", "getOrderItems")] == [1, 0, 0]
    assert box.issuer.issued == 2  # the check's and the run's: cached for every call of each
    shipped = next(o for o in orders if o.financial_status == "paid" and o.fulfillment_status == "fulfilled")
    total, updated, status = seller.one("select order_total__amount, last_update_date, order_status from "
                                        f"raw_amazon_us.orders where amazon_order_id = '{amazon_order_id(shipped)}'")
    assert isinstance(total, Decimal) and total == shipped.total and status == "Shipped"
    assert updated == shipped.updated_at.replace(microsecond=0) and updated.utcoffset() == timedelta(0)
    items = seller.rows("select amazon_order_id, seller_sku, quantity_ordered, item_price__amount "
                        "from raw_amazon_us.order_items")
    assert sorted(items) == sorted((amazon_order_id(o), line.sku.code, line.quantity, line.amount)
                                   for o in orders if o is not bad for line in o.lines)
    refunds = seller.rows("select amazon_order_id, refund_amount, currency from raw_amazon_us.refunds")
    assert sorted(refunds) == sorted((amazon_order_id(o), r.amount, "USD") for o in orders for r in o.refunds)
    assert all(isinstance(amount, Decimal) for _, amount, _ in refunds)
    listings = dict(seller.rows("select sku, mfn_quantity from raw_amazon_us.listings"))
    assert listings == {sku.code: None if is_fba(sku) else box.stock.quantities[sku.index] for sku in seller.world.skus}

    since = max(o.updated_at for o in orders) - timedelta(seconds=300)  # the cursor less its lag
    pending = next(o for o in orders if o.financial_status == "pending")
    for order in (pending, shipped):
        order.updated_at = seller.world.tick()
    changed = [o for o in orders if o.updated_at >= since]
    assert run_account(seller.config, seller.account).rows["orders"] == len(changed)
    [query] = box.calls_to("getOrders")
    assert query["LastUpdatedAfter"] == f"{since:%Y-%m-%dT%H:%M:%SZ}"
    assert len(box.calls_to("getOrderItems")) == len(changed) and len(box.calls_to("createReport")) == 1
    assert seller.rows("select amazon_order_id from raw_amazon_us.orders where order_total__amount is null") == [
        (amazon_order_id(pending),)]


def test_freshness_quotas_quarantine_and_refusals(make_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Orders are asked from two minutes ago and more (Amazon refuses later ones and serves no change
    younger than that); a backfill report that ends FATAL leaves the sync to the Orders API, whose usage
    plans the client paces per operation so the seller's plan never answers QuotaExceeded, and an
    injected QuotaExceeded is waited out; an amount that is not a number sets its
    order aside naming the field (in the same run); a revoked refresh token and a wrong seller fail
    naming Amazon's answer, never a secret."""
    now = datetime.now(UTC)
    recent = make_env(AmazonEnv, start_date=(now - timedelta(seconds=150)).isoformat(), backfill_with_reports=False)
    recent.world.shift(now - timedelta(minutes=1) - max(o.updated_at for o in recent.world.orders))
    recent.world.orders[0].updated_at = now - timedelta(seconds=140)
    assert run_account(recent.config, recent.account).rows["orders"] == 1  # the others changed under 2 minutes ago
    assert datetime.fromisoformat(recent.sandbox.calls_to("getOrders")[0]["LastUpdatedAfter"]) <= now - FRESHNESS

    seller = make_env(AmazonEnv)  # the same warehouse: a full refresh reads it from the start date
    seller.sandbox.report_endings.append("FATAL")  # the backfill falls back to the Orders API
    seller.sandbox.buckets["getOrderItems"].rate = 50  # a plan 100 times the default: its burst of 30 is spent early
    seller.sandbox.faults.path_contains, seller.sandbox.faults.rate_limit = "/orders/v0/orders", 2
    bad, render = next(o for o in seller.world.orders if o.financial_status == "paid"), seller.sandbox.render_order
    monkeypatch.setattr(seller.sandbox, "render_order", lambda order: {
        **render(order), "OrderTotal": {"CurrencyCode": "USD", "Amount": "12,34"}} if order is bad else render(order))
    report = run_account(seller.config, seller.account, full_refresh=True)
    assert report.rows["order_items"] == sum(len(o.lines) for o in seller.world.orders if o is not bad)
    assert seller.sandbox.stats.faults_served["rate_limit"] == 2 and not seller.sandbox.quota_refusals
    assert report.quarantined == {"orders": 1} and seller.sandbox.reports["50000000001"]["processingStatus"] == "FATAL"
    assert seller.rows(f"select record_key, field from ops.quarantine where run_id = '{report.run_id}'") == [
        (f"AmazonOrderId {amazon_order_id(bad)}", "OrderTotal.Amount")]

    seller.sandbox.issuer.refresh_tokens = frozenset()  # the seller revoked the app
    with pytest.raises(RunFailed) as failure:
        run_account(seller.config, seller.account)
    message = str(failure.value)
    assert "refused the refresh token" in message and "invalid_grant" in message, message
    assert not any(secret in message for secret in (REFRESH, SECRET, CLIENT))
    seller.sandbox.issuer.refresh_tokens = frozenset({REFRESH})
    seller.sandbox.seller_id = "A9OTHERSELLER"
    check = connector.check(seller.config.account(seller.account))
    assert not check.ok and "SP-API searchListingsItems refused the call: HTTP 403 Unauthorized" in check.detail


def test_stock_push_patches_mfn_quantities_refuses_what_moved_and_never_an_fba_sku(seller: AmazonEnv) -> None:
    held = seller.sandbox.stock.quantities
    mfn = [sku for sku in seller.world.skus if not is_fba(sku)][:4]
    levels = [StockLevel(sku.code, MARKETPLACE, sku.code, held[sku.index] + 2, expected=held[sku.index]) for sku in mfn]
    levels.append(StockLevel("CH-NONE", MARKETPLACE, "CH-9999-S", 1))
    seller.sandbox.stock.sell(mfn[1].index, 1)
    writer = connector.stock_writer(seller.config.account(seller.account))
    check_stock_push(writer, levels, lambda level: held[seller.sandbox.sku_of[level.item_id].index],
                     sold=levels[1], sold_to=levels[1].expected - 1, stray=levels[-1],
                     writes=lambda: len(seller.sandbox.calls_to("patchListingsItem")))
    assert len(seller.sandbox.patches) == len(mfn) - 1
    fba = next(sku for sku in seller.world.skus if is_fba(sku))
    [result] = writer.push([StockLevel(fba.code, MARKETPLACE, fba.code, 5, expected=None)])
    assert not result.ok and "FBA" in result.detail and len(seller.sandbox.patches) == len(mfn) - 1


def test_a_large_push_goes_as_one_json_listings_feed_per_marketplace(make_env: Any) -> None:
    """From ``feed_from`` SKUs on, the write is one JSON_LISTINGS_FEED (upload, createFeed, getFeed polled,
    the processing report): the same outcomes as per-SKU patches, no patchListingsItem call."""
    seller = make_env(AmazonEnv, feed_from=4)
    box, held = seller.sandbox, seller.sandbox.stock.quantities
    mfn = [sku for sku in seller.world.skus if not is_fba(sku)]
    levels = [StockLevel(sku.code, MARKETPLACE, sku.code, held[sku.index] + 1, expected=held[sku.index]) for sku in mfn]
    levels.append(StockLevel("CH-NONE", MARKETPLACE, "CH-9999-S", 1))
    box.stock.sell(mfn[0].index, 2)
    writer = connector.stock_writer(seller.config.account(seller.account))
    check_stock_push(writer, levels, lambda level: held[box.sku_of[level.item_id].index], sold=levels[0],
                     sold_to=levels[0].expected - 2, stray=levels[-1], writes=lambda: len(box.calls_to("createFeed")))
    [feed] = box.feeds.values()
    assert feed["processingStatus"] == "DONE" and writer.feeds == [feed["feedId"]]
    assert not box.calls_to("patchListingsItem") and len(box.calls_to("searchListingsItems")) == 2  # 20 SKUs a read
