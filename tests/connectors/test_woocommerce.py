"""The WooCommerce connector against its sandbox: the shared contract, WooCommerce's own client as the
outside check (the sandbox's OAuth verifier is checked against RFC 5849's example in tests/sandbox), and
what lands."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from woocommerce import API

from channelhub.runner import run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_push
from connectors.sdk import SourceDataError, StockLevel
from connectors.woocommerce import connector
from connectors.woocommerce.connector import with_shipment_tracking
from sandbox.woocommerce import PRODUCT_ID, VARIATION_ID, WooCommerceSandbox, saved_at
from sandbox.world import ShopSpec, World, WorldSpec

KEY, SECRET = "ck_0123456789abcdef0123456789abcdef", "cs_fedcba9876543210fedcba9876543210"
STORE = ShopSpec("store_de", "EUR", "Europe/Berlin", shipper="shop")  # records its couriers' waybills itself


class WooCommerceEnv(WorldSandboxEnv):
    account, connector = STORE.name, "woocommerce"
    primary_stream = "orders"
    primary_key = "id"
    fault_path = "/orders"
    marts = f"{ORDER_MARTS} +dim_customers +fct_shipments"
    environment: ClassVar[dict[str, str]] = {"TEST_WOO_KEY": KEY, "TEST_WOO_SECRET": SECRET}

    def __init__(self, tmp_path: Path, records: int = 120, page_size: int = 50) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(STORE,)))
        self.sandbox = WooCommerceSandbox(self.world, STORE.name, KEY, SECRET)
        self.sandbox.retry_after = 0.05
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": self.sandbox.base_url, "page_size": page_size,
                                  "start_date": "2025-01-01T00:00:00Z"},
                       {"consumer_key": "TEST_WOO_KEY", "consumer_secret": "TEST_WOO_SECRET"})


class WooCommerceMarts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: WooCommerceEnv) -> None:
        """Through the connector's conformed models: every order with its total and refunds, every line
        resolved to a merchant SKU, cancelled orders cancelled, every variation a listing, every buyer a
        customer."""
        orders = env.world.orders_of(STORE.name)
        check_order_marts(env, "woocommerce", orders, env.world.skus)
        buyers = {order.customer.email for order in orders}
        assert env.one("select count(*), count(*) filter (where source_ids like 'store_de:%') from marts.dim_customers "
                       "join (select distinct customer_id from marts.fct_orders) ordered using (customer_id)") == (
            len(buyers), len(buyers))  # every buyer a customer, under the id fct_orders gives them
        # every waybill the store recorded is a shipment of its order, waiting for a tracker
        recorded = env.sandbox.recorded_waybills().values()
        midnight = {"hour": 0, "minute": 0, "second": 0, "microsecond": 0}  # the extension keeps the ship date
        assert sorted(env.rows("select order_id, carrier, tracking_code, status, shipped_at, tracked_by "
                               "from marts.fct_shipments where provider = 'woocommerce' and is_order_known")) == sorted(
            (f"store_de:{shipment.order.number}", shipment.carrier, shipment.tracking_code, "unknown",
             shipment.created_at.astimezone(env.sandbox.zone).replace(**midnight), None) for shipment in recorded)
        assert len(recorded) > 0


class TestWooCommerceContract(WooCommerceMarts, ConnectorContract):
    env_class = WooCommerceEnv


class TestWooCommerceOnPostgres(WooCommerceMarts, PostgresParity):
    env_class = WooCommerceEnv


@pytest.fixture
def store(make_env: Any) -> WooCommerceEnv:
    """A small store of its own (120 orders, pages of 50), for the tests below the contract."""
    return make_env(WooCommerceEnv)


def test_the_official_client_reads_pages_and_a_wrong_secret_is_refused(store: WooCommerceEnv) -> None:
    """WooCommerce's own Python client (OAuth 1.0a over http, its params sent twice) against the sandbox."""
    client = API(url=store.sandbox.base_url, consumer_key=KEY, consumer_secret=SECRET, version="wc/v3", timeout=10)
    first = client.get("orders", params={"per_page": 50, "page": 1, "orderby": "id", "order": "asc"})
    assert first.status_code == 200, first.text
    assert (first.headers["X-WP-Total"], first.headers["X-WP-TotalPages"]) == ("120", "3")
    assert 'rel="next"' in first.headers["Link"]
    last = client.get("orders", params={"per_page": 50, "page": 3, "orderby": "id", "order": "asc"}).json()
    assert len(first.json()) == 50 and len(last) == 20
    assert client.get("orders", params={"per_page": 101}).json()["code"] == "rest_invalid_param"
    product = client.get("products").json()[0]
    variation = client.get(f"products/{product['id']}/variations").json()[0]
    assert variation["sku"].startswith(product["sku"]) and variation["manage_stock"] is True

    wrong = API(url=store.sandbox.base_url, consumer_key=KEY, consumer_secret="cs_wrong", version="wc/v3").get("orders")
    assert wrong.status_code == 401 and wrong.json()["code"] == "woocommerce_rest_authentication_error"


def test_orders_land_with_exact_money_utc_times_and_their_lines(store: WooCommerceEnv) -> None:
    report = run_account(store.config, store.account)
    assert report.rows == {"orders": 120, "products": 6, "variations": 24}
    order = store.world.orders_of(STORE.name)[7]
    total, modified, local = store.one(f"select total, date_modified_gmt, date_modified from raw_store_de.orders "
                                       f"where id = {order.number}")
    assert isinstance(total, Decimal) and total == order.total
    saved = saved_at(order, store.sandbox.recorded_waybills().get(order.id))  # a waybill recorded saves it again
    assert modified == saved.replace(microsecond=0) and modified.utcoffset() is not None
    assert local == saved.astimezone(store.sandbox.zone).replace(tzinfo=None).isoformat(timespec="seconds")
    assert store.one(f"select count(*) from raw_store_de.orders__line_items l join raw_store_de.orders o "
                     f"on l._dlt_parent_id = o._dlt_id where o.id = {order.number}") == (len(order.lines),)
    assert set(store.rows("select sku from raw_store_de.variations")) == {(sku.code,) for sku in store.world.skus}


@pytest.mark.reliability
def test_an_order_deleted_in_the_store_leaves_the_warehouse_with_the_reconciliation(store: WooCommerceEnv) -> None:
    """WooCommerce: an order and a variation deleted in the store leave raw at the reconciliation."""
    run_account(store.config, store.account)
    gone = store.world.orders_of(STORE.name)[9]
    store.world.orders.remove(gone)
    variation = store.sandbox.products[0].pop()  # a size dropped from a product
    store.world.tick()
    run_account(store.config, store.account, reconcile=False)
    assert store.rows(f"select count(*) from raw_store_de.orders where id = {gone.number}") == [(1,)]  # no trace
    report = run_account(store.config, store.account, reconcile=True)
    assert store.rows(f"select count(*) from raw_store_de.orders where id = {gone.number}") == [(0,)]
    assert store.rows("select count(*) from raw_store_de.orders__line_items l where not exists (select 1 from "
                      "raw_store_de.orders o where o._dlt_id = l._dlt_root_id)") == [(0,)]  # its lines went too
    assert store.rows(f"select count(*) from raw_store_de.variations where sku = '{variation.code}'") == [(0,)]
    assert dict(store.rows(f"select stream, note from ops.run_log where run_id = '{report.run_id}' "
                           "and note is not null")) == {"orders": "reconciled: 1 deleted at the source",
                                                        "products": "reconciled: 0 deleted at the source",
                                                        "variations": "reconciled: 1 deleted at the source"}


def test_an_incremental_run_asks_for_changes_since_the_last_one_in_gmt(store: WooCommerceEnv) -> None:
    run_account(store.config, store.account)
    touched = store.world.touch_orders(0.1)
    report = run_account(store.config, store.account)
    assert len(touched) <= report.rows["orders"] <= len(touched) + 1
    asked = [args for path, args, _ in store.sandbox.log if path.endswith("/orders")][-1]
    assert asked["dates_are_gmt"] == "true" and asked["orderby"] == "id"
    recorded = store.sandbox.recorded_waybills()
    newest = max(saved_at(o, recorded.get(o.id)) for o in store.world.orders_of(STORE.name) if o not in touched)
    assert asked["modified_after"] <= newest.replace(tzinfo=None).isoformat(timespec="seconds")


def test_stock_push_refuses_what_moved_writes_the_rest_and_reads_it_back(store: WooCommerceEnv) -> None:
    """WooCommerce has no compare-and-set: the writer reads each product's variations just before its
    batch and refuses one that moved from ``expected`` (here: a sale), writes the others in one batch per
    product, and checks the answer."""
    sandbox, held = store.sandbox, store.sandbox.quantities
    first, second = PRODUCT_ID, PRODUCT_ID + 1
    a, b, c, d = (VARIATION_ID + i for i in range(4))   # the four sizes of the first product
    e = VARIATION_ID + 4                                 # a size of the second product
    levels = [
        StockLevel("CH-A", str(first), str(a), held[a] + 5, expected=held[a]),
        StockLevel("CH-B", str(first), str(b), 0, expected=held[b]),
        StockLevel("CH-C", str(first), str(c), held[c] + 1, expected=held[c]),
        StockLevel("CH-D", str(first), str(d), 7, expected=None),            # never pushed or loaded
        StockLevel("CH-E", str(second), str(e), held[e] - 1, expected=held[e]),
        StockLevel("CH-X", str(second), str(a), 3, expected=None),           # not a variation of that product
    ]
    sandbox.sell(c, 2)  # a sale on the store after channelhub read c
    check_stock_push(connector.stock_writer(store.config.account(store.account)), levels,
                     lambda level: held[int(level.item_id)], sold=levels[2], sold_to=levels[2].expected - 2,
                     stray=levels[5], writes=lambda: len(sandbox.batch_calls))
    assert len(sandbox.batch_calls) == 2                              # one batch per product
    assert {item["id"] for item in sandbox.batch_calls[0]["update"]} == {a, b, d}


def test_a_request_retried_after_the_store_spent_its_nonce_is_signed_again(store: WooCommerceEnv) -> None:
    """WooCommerce records a nonce once the request authenticated; a 500 after that, retried with the
    same signature, would be refused as a reused nonce. Every resend carries a new one."""
    store.sandbox.faults.after_auth = 2
    report = run_account(store.config, store.account)
    assert report.rows["orders"] == 120 and store.sandbox.faults.after_auth == 0
    statuses = [status for _, _, status in store.sandbox.log]
    assert statuses.count(500) == 2 and 401 not in statuses


def test_a_recorded_waybill_that_cannot_be_read_names_the_order_and_field() -> None:
    """Shipment Tracking's meta becomes child rows; an unreadable item fails the order's record (the
    runner quarantines it), naming the account, order and meta key."""
    meta = {"key": "_wc_shipment_tracking_items", "value": [
        {"tracking_provider": "", "custom_tracking_provider": "中通快递", "tracking_number": " 7551234567890 ",
         "date_shipped": "1767225600", "tracking_id": "abc"}]}
    order = with_shipment_tracking("store_de", {"id": 1001, "meta_data": [meta, {"key": "other", "value": 1}]})
    assert order["meta_data"] == [{"key": "other", "value": 1}]
    assert order["shipment_tracking"] == [{"tracking_id": "abc", "tracking_number": "7551234567890", "provider": "中通快递",
                                           "shipped_at": datetime(2026, 1, 1, tzinfo=UTC)}]
    meta["value"][0]["date_shipped"] = "yesterday"
    with pytest.raises(SourceDataError, match="store_de") as raised:
        with_shipment_tracking("store_de", {"id": 1001, "meta_data": [meta]})
    assert raised.value.record == "1001" and raised.value.field == "meta_data._wc_shipment_tracking_items"
