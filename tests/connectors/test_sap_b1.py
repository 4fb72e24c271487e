"""The SAP Business One connector against its Service Layer sandbox: the shared contract with stock, items
and the distributor orders in the marts, a public Service Layer client (b1sl-python) as the outside check,
the session login and its renewal, the incremental filter on UpdateDate + UpdateTime, and SAP's errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from b1sl import B1Client, B1Config
from b1sl.b1sl.exceptions import B1AuthError

from channelhub.runner import RunFailed, run_account
from channelhub.testing import ConnectorContract, PostgresParity, WorldSandboxEnv
from channelhub.testing.checks import ORDER_MARTS, check_order_marts, check_stock_marts
from connectors.sap_b1 import connector
from sandbox.kit import Bucket
from sandbox.sap_b1 import SapB1Sandbox, document_number, sql_filter
from sandbox.world import ShopSpec, World, WorldSpec

COMPANY, USER, PASSWORD = "SBODEMOEU", "manager", "B1-passw0rd"
ACCOUNT = "erp_sap"
ZONE = "Europe/Berlin"
SHOP = ShopSpec(ACCOUNT, "EUR", ZONE)  # the distributor sales booked in SAP


class SapB1Env(WorldSandboxEnv):
    """One company database; its documents are the orders of the World shop named like the account."""

    account, connector = ACCOUNT, "sap_b1"
    primary_stream = "orders"
    primary_key = "doc_entry"
    fault_path = "/Orders"
    marts = f"+fct_inventory +dim_products {ORDER_MARTS}"
    environment: ClassVar[dict[str, str]] = {"TEST_SAP_B1_PASSWORD": PASSWORD}

    def __init__(self, tmp_path: Path, records: int = 120, page_size: int = 50,
                 streams: tuple[str, ...] | None = None) -> None:
        self.world = World(WorldSpec(orders=records, skus=24, customers=60, shops=(SHOP,)))
        self.sandbox = SapB1Sandbox(self.world, COMPANY, USER, PASSWORD, shop=ACCOUNT, zone=ZONE)
        self.sandbox.retry_after = 0.05
        self.sandbox.serve()
        self.configure(tmp_path, {"base_url": f"{self.sandbox.base_url}/b1s/v2", "company_db": COMPANY, "user": USER,
                                  "timezone": ZONE, "page_size": page_size, "start_date": "2025-01-01T00:00:00Z"},
                       {"password": "TEST_SAP_B1_PASSWORD"})
        if streams is not None:  # the account's choice, so a test loads only what it asserts on
            account = self.config.accounts[ACCOUNT].model_copy(update={"streams": streams})
            self.config = self.config.model_copy(update={"accounts": {ACCOUNT: account}})

    def fetched(self) -> int:
        return self.sandbox.stats.records_served["Orders"]


class SapB1Marts:
    """Checks on the class's load, run on each warehouse's contract class."""

    def check_marts(self, env: SapB1Env) -> None:
        """Stock per SKU and warehouse in fct_inventory (source erp), the items as the SKU list of
        dim_products, and every sales order an order of the account with its invoice, deliveries and
        credit notes read into its status, refunds and lines."""
        check_stock_marts(env, env.world.stock)
        assert env.one("select count(*), count(product_name) from marts.dim_products") == (len(env.world.skus),) * 2
        check_order_marts(env, "sap_b1", env.world.orders_of(ACCOUNT), env.world.skus)
        fulfilled = [o for o in env.world.orders_of(ACCOUNT) if o.fulfillment_status == "fulfilled"
                     and o.financial_status == "paid"]  # invoiced, delivered, not credited
        assert env.one(f"select count(*) from marts.fct_orders where channel_id = '{ACCOUNT}' and status = 'fulfilled'"
                       ) == (len(fulfilled),)


class TestSapB1Contract(SapB1Marts, ConnectorContract):
    env_class = SapB1Env


class TestSapB1OnPostgres(SapB1Marts, PostgresParity):
    env_class = SapB1Env


@pytest.fixture
def erp(make_env: Any, request: pytest.FixtureRequest) -> SapB1Env:
    """A small company database of its own, for the tests below the contract (indirect param: the
    streams the account loads; all by default)."""
    return make_env(SapB1Env, streams=getattr(request, "param", None))


def test_a_public_service_layer_client_logs_in_filters_and_pages(erp: SapB1Env) -> None:
    """b1sl-python (B1S-PageSize, nextLink, cookies from its own login) reads the sandbox: items with
    their stock per warehouse in pages of 7, orders filtered and counted; a wrong password is refused."""
    config = B1Config(base_url=f"{erp.sandbox.base_url}/b1s/v2", username=USER, password=PASSWORD, company_db=COMPANY)
    with B1Client(config) as b1:
        items = list(b1.items.stream(page_size=7))
        assert [item.item_code for item in items] == [sku.code for sku in erp.world.skus]
        held = {(w.item_code, w.warehouse_code): w.in_stock for item in items for w in item.item_warehouse_info_collection}
        assert held == {(r.sku.code, r.warehouse): r.quantity for r in erp.world.stock}
        assert b1.orders.count() == len(erp.world.orders)
        big = b1.orders.filter("DocTotal gt 100 and Cancelled eq 'tNO'").select("DocEntry", "DocTotal").orderby(
            "DocTotal", desc=True).stream(page_size=10)
        assert [(doc.doc_entry, Decimal(repr(doc.doc_total))) for doc in big] == [
            (document_number(o), o.total) for o in sorted(erp.world.orders, key=lambda o: -o.total)
            if o.total > 100 and not o.cancelled_at]
    pages = [args.get("$skip") for entity, args, _ in erp.sandbox.requests if entity == "Items"]
    assert pages == [None, "7", "14", "21"] and erp.sandbox.sessions.logins == 1
    wrong = B1Config(base_url=config.base_url, username=USER, password="wrong", company_db=COMPANY)
    with pytest.raises(B1AuthError, match="Login failed"), B1Client(wrong) as b1:
        next(b1.items.stream(page_size=7))


def test_documents_land_exact_and_an_incremental_run_asks_for_the_day_and_time(erp: SapB1Env) -> None:
    """Times in UTC from Berlin's wall clock, money exact, lines as a child table, every call with the page
    size and both session cookies. UpdateDate and UpdateTime are two fields: the next run's filter asks
    for later days, or the cursor's day from its time on (the cursor less its lag, on the company's
    clock), so it reads only what changed; stock is read whole."""
    report = run_account(erp.config, ACCOUNT)
    orders = erp.world.orders
    assert report.rows == {"items": 24, "stock": 48, "business_partners": 60, "orders": len(orders),
                           "delivery_notes": sum(o.fulfillment_status == "fulfilled" for o in orders),
                           "invoices": sum(o.financial_status in ("paid", "partially_refunded", "refunded") for o in orders),
                           "credit_notes": sum(len(o.refunds) for o in orders)}
    order = orders[7]
    ordered, modified, total, currency = erp.one(
        "select ordered_at, updated_at, doc_total, doc_currency from raw_erp_sap.orders "
        f"where doc_entry = {document_number(order)}")
    assert (ordered, modified) == (order.created_at, order.updated_at)  # Berlin wall clock read back as UTC
    assert isinstance(total, Decimal) and (total, currency) == (order.total, "EUR")
    lines = erp.rows("select item_code, line_total from raw_erp_sap.orders__document_lines "
                     f"where doc_entry = {document_number(order)} order by line_num")
    assert lines == [(line.sku.code, line.amount) for line in order.lines]
    asked = next(args for entity, args, _ in erp.sandbox.requests if entity == "Orders")
    assert asked["$filter"] == ("(UpdateDate gt '2025-01-01' or (UpdateDate eq '2025-01-01' and UpdateTime ge "
                                "'01:00:00'))") and asked["$orderby"] == "DocEntry"  # start_date on Berlin's clock
    assert all(headers["Prefer"] == "odata.maxpagesize=50" and "ROUTEID=" in headers["Cookie"]
               for _, _, headers in erp.sandbox.requests)

    newest = max(o.updated_at for o in erp.world.orders)
    touched = erp.world.touch_orders(0.1)
    erp.world.change_stock(0.5)
    report = run_account(erp.config, ACCOUNT)
    since = (newest - timedelta(seconds=300)).astimezone(ZoneInfo(ZONE))  # the cursor's lag before
    asked = [args for entity, args, _ in erp.sandbox.requests if entity == "Orders"][-1]["$filter"]
    assert asked == (f"(UpdateDate gt '{since:%Y-%m-%d}' or (UpdateDate eq '{since:%Y-%m-%d}' and UpdateTime ge "
                     f"'{since:%H:%M:%S}'))")
    assert len(touched) <= report.rows["orders"] <= len(touched) + 1 and report.rows["stock"] == 48
    assert erp.one("select sum(in_stock), count(*) from raw_erp_sap.stock") == (
        sum(record.quantity for record in erp.world.stock), 48)


@pytest.mark.parametrize("erp", [("orders",)], indirect=True)
def test_an_expired_session_logs_in_again_once_and_a_refused_login_names_user_and_company(
        erp: SapB1Env, monkeypatch: pytest.MonkeyPatch) -> None:
    run_account(erp.config, ACCOUNT)
    assert erp.sandbox.sessions.logins == 1
    erp.sandbox.sessions.expire()  # 401 {"error": {"code": 301, ...}} on the next call
    touched = erp.world.touch_orders(0.1)
    assert run_account(erp.config, ACCOUNT).rows["orders"] >= len(touched) and erp.sandbox.sessions.logins == 2
    monkeypatch.setenv("TEST_SAP_B1_PASSWORD", "wrong-Pa55")
    refused = connector.check(erp.config.account(ACCOUNT))
    assert not refused.ok and f"user {USER!r} to company {COMPANY!r}" in refused.detail
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    assert "LoginRefused" in str(failure.value) and f"user {USER!r} to company {COMPANY!r}" in str(failure.value)
    assert "wrong-Pa55" not in str(failure.value)


@pytest.mark.parametrize("erp", [("items", "business_partners")], indirect=True)
def test_rate_limits_are_waited_out_and_sap_errors_named(erp: SapB1Env) -> None:
    """The proxy's bucket answers 429 with Retry-After and the run still loads everything; an entity
    refusing a field fails naming the entity, SAP's code and message; a bad time quarantines its record."""
    erp.sandbox.bucket = Bucket(size=2, rate=20)  # a call every 50 ms after the first two
    assert run_account(erp.config, ACCOUNT).rows == {"items": 24, "business_partners": 60}
    assert erp.sandbox.throttled > 0
    erp.sandbox.bucket = None
    assert connector.check(erp.config.account(ACCOUNT)).ok

    email = erp.sandbox.entities["BusinessPartners"].fields.pop("emailaddress")
    with pytest.raises(RunFailed) as failure:
        run_account(erp.config, ACCOUNT)
    message = str(failure.value)
    assert "'business_partners'" in message and "BusinessPartners: HTTP 400, code -1000: Property 'EmailAddress'" \
        in message, message

    erp.sandbox.entities["BusinessPartners"].fields["emailaddress"] = email
    erp.sandbox.entities["Items"].fields["updatetime"] = lambda sku, _: "25:61" if sku.index == 3 else "10:00:00"
    report = run_account(erp.config, ACCOUNT, full_refresh=True)
    assert report.quarantined == {"items": 1}
    assert erp.rows(f"select record_key, field from ops.quarantine where run_id = '{report.run_id}'") == [
        ("ItemCode CH-0000-XL", "UpdateTime")]


def test_odata_filters_become_the_kits_sql_outside_quoted_literals() -> None:
    assert sql_filter("CardType eq 'a eq b' and (UpdateDate ge '2026-01-01' or DocEntry lt 5)") == (
        "CardType = 'a eq b' and (UpdateDate >= '2026-01-01' or DocEntry < 5)")
