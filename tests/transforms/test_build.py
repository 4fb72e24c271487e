"""Building the marts from a loaded sandbox merchant, and what a build feeds: the quality gates and the
stock push run on the same built merchant (one load). test_build_on_postgres.py runs the tests whose
SQL differs on PostgreSQL there. A whole chain (every account loaded, every model built, the gates,
the push), so marked ``e2e``: ``make test-e2e`` runs it, beside the demo and Airflow.

Every expectation is computed from the sandboxes' World (what the merchant really sold, was paid and
holds), not read back from the warehouse."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
import yaml
from iso4217 import Currency
from playwright.sync_api import sync_playwright

import transforms
from channelhub.alerts import SETTLED, AlertsConfig, check_alerts
from channelhub.config import HubConfig
from channelhub.fleet import Fleet
from channelhub.report import write_report
from channelhub.runner import run_account
from channelhub.stock import ChannelStatus, sync_stock
from channelhub.stock.guards import readiness_problems
from connectors.sdk import available_connectors
from expectations import mart_suites, raw_suites, validate
from expectations.store import QualityRun
from expectations.store import record as record_quality_run
from sandbox.shopify import ShopifySandbox
from sandbox.world import DISCREPANCY_KINDS
from tests.pipeline import SECRET_VARIABLES, query, scalar
from transforms import project
from warehouse import Warehouse
from warehouse.builds import last_build

MARTS = transforms.mart_names()
BAND = "expect_table_row_count_to_be_between"
CHROMIUM = os.environ.get("CHANNELHUB_CHROMIUM", "/usr/bin/chromium")
# headless as root, and none of Chromium's own calls home (refused on a closed network)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.e2e


def merchant_models(hub: HubConfig) -> int:
    """How many models a build of ``hub`` runs: this project's and the connector packages', but those
    named for a connector it has no account of, save the stand-in of a conformed role none of its
    connectors plays (the role's first model and the staging models it reads, which give no row: the
    whole merchant has no tracker, so no tracker_answers)."""
    configured = {hub.account(name, resolve_secrets=False).connector.name for name in hub.enabled_accounts()}
    others = tuple(f"{layer}_{name}__" for name in set(available_connectors()) - configured for layer in ("stg", "int"))
    folders = [project.ROOT / "models", *project.connector_models().values()]
    paths = {path.stem: path for folder in folders for path in folder.glob("**/*.sql")}
    stand_ins = {models[0] for models in project.conformed_models(folders).values()
                 if all(model.startswith(others) for model in models)}
    stand_ins |= {read for model in stand_ins for read in re.findall(r"ref\('(stg_\w+)'\)", paths[model].read_text())}
    return len([name for name in paths if not name.startswith(others) or name in stand_ins])


@pytest.fixture(scope="module")
def built(merchant: tuple[HubConfig, Fleet]) -> tuple[HubConfig, Fleet]:
    transforms.build(merchant[0])
    return merchant


def test_every_mart_is_in_marts_with_exactly_its_contracts_columns(built: tuple[HubConfig, Fleet]) -> None:
    hub, _ = built
    inspector = sa.inspect(Warehouse(hub.warehouse_url).engine)
    assert set(MARTS) <= {*inspector.get_table_names(schema="marts"), *inspector.get_view_names(schema="marts")}
    for mart in MARTS:
        assert scalar(hub, f"select count(*) from marts.{mart}") > 0, mart
        contract = yaml.safe_load((project.MARTS / f"{mart}.yml").read_text(encoding="utf-8"))["models"][0]
        columns = query(hub, "select column_name from information_schema.columns where table_schema = 'marts' "
                             f"and table_name = '{mart}' order by ordinal_position")
        assert [c["name"] for c in contract["columns"]] == [c["column_name"] for c in columns], mart
        assert contract["description"].startswith("Grain: "), mart
    outcomes = query(hub, "select outcome, count(*) as n from ops.build_log group by outcome")
    assert outcomes == [{"outcome": "success", "n": merchant_models(hub)}]


def test_freshness_shows_each_accounts_last_load_and_its_age_now(built: tuple[HubConfig, Fleet]) -> None:
    hub, _ = built
    rows = {row["account"]: row for row in query(hub, "select * from marts.freshness")}
    assert sorted(rows) == hub.enabled_accounts()
    runs = {row["account"]: row for row in query(hub, "select account, max(finished_at) as at from ops.run_log "
                                                      "where stream = '*' and outcome = 'success' group by account")}
    for name, row in rows.items():
        assert (row["platform"], row["schedule"], row["last_outcome"]) == (
            hub.accounts[name].connector, hub.accounts[name].schedule, "success")
        assert row["last_success_at"] == runs[name]["at"] and 0 <= row["hours_since_success"] < 1


def test_the_warehouse_carries_the_contracts_descriptions_as_comments(built: tuple[HubConfig, Fleet]) -> None:
    hub, _ = built
    if Warehouse(hub.warehouse_url).kind == "duckdb":
        comment = scalar(hub, "select comment from duckdb_columns() where schema_name = 'marts' "
                              "and table_name = 'fct_orders' and column_name = 'order_id'")
    else:
        comment = scalar(hub, "select col_description('marts.fct_orders'::regclass, attnum) from pg_attribute "
                              "where attrelid = 'marts.fct_orders'::regclass and attname = 'order_id'")
    contract = yaml.safe_load((project.MARTS / "fct_orders.yml").read_text(encoding="utf-8"))["models"][0]
    assert comment == contract["columns"][0]["description"]


def test_the_built_merchant_passes_every_quality_gate(built: tuple[HubConfig, Fleet]) -> None:
    """The gates run on the marts the build just made: every rule holds on a clean merchant."""
    hub, _ = built
    report = validate(hub)

    assert report.ok and report.warnings == [], [(o.table_name, o.column_name, o.expectation)
                                                 for o in report.critical + report.warnings]
    assert {o.suite for o in report.outcomes} == {s.name for s in [*raw_suites(hub), *mart_suites()]}
    counts = {o.table_name: int(o.observed) for o in report.outcomes if o.expectation == BAND}
    assert counts["marts.fct_orders"] == scalar(hub, "select count(*) from marts.fct_orders") > 0
    assert counts["raw_erp_u8.current_stock"] == scalar(hub, "select count(*) from raw_erp_u8.current_stock") > 0


def test_built_allocations_reach_both_shops(built: tuple[HubConfig, Fleet]) -> None:
    """The shipped stock policy flows through ops.stock_policy into rpt_stock_availability and, once a
    passing quality run follows the build, into both Shopify sandboxes; a second sync sends nothing."""
    hub, fleet = built
    now = datetime.now(UTC)
    record_quality_run(Warehouse(hub.warehouse_url), QualityRun(uuid.uuid4().hex, now, now, True, 0, 0, None), [])
    report = sync_stock(hub)
    assert report.ok and [(c.channel, c.status) for c in report.channels] == [
        ("shop_eu", ChannelStatus.SYNCED), ("shop_us", ChannelStatus.SYNCED)]
    rows = query(hub, "select channel_id, product_id, location_id, inventory_item_id, percentage, cap, "
                      "available_to_promise, allocated_quantity from marts.rpt_stock_availability")
    assert len(rows) == 2 * 2 * hub.sandbox.skus  # both locations of both shops
    for shop in ("shop_us", "shop_eu"):
        sandbox = fleet.sandbox(shop)
        assert isinstance(sandbox, ShopifySandbox)
        held = sandbox.quantities()
        mine = [row for row in rows if row["channel_id"] == shop]
        level = {(row["product_id"], row["location_id"]): held[(int(row["inventory_item_id"]), int(row["location_id"]))]
                 for row in mine}
        assert level == {(row["product_id"], row["location_id"]): row["allocated_quantity"] for row in mine}
        assert {Decimal(row["percentage"]) for row in mine} == {Decimal(40) if shop == "shop_us" else Decimal(25)}
        offered = Counter()  # what the shop can sell of a SKU, over all its locations: never above ATP
        for (sku, _), units in level.items():
            offered[sku] += units
        assert all(offered[row["product_id"]] <= row["available_to_promise"] for row in mine)
    capped = next(row for row in rows if (row["channel_id"], row["product_id"]) == ("shop_eu", "CH-0000-M"))
    assert capped["cap"] == 10 and capped["allocated_quantity"] <= 10
    assert sum(len(c.changes) for c in report.channels) > 0

    again = sync_stock(hub)
    assert again.ok and all(not c.changes for c in again.channels)


def test_orders_and_money_match_what_the_shops_sold(built: tuple[HubConfig, Fleet]) -> None:
    hub, fleet = built
    world = fleet.world
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for order in world.orders:
        expected[order.currency] += order.total
    rows = query(hub, "select currency, sum(total_amount) as total, count(*) as n from marts.fct_orders "
                      "where platform = 'shopify' group by currency")
    assert {row["currency"]: Decimal(row["total"]) for row in rows} == dict(expected)
    assert sum(row["n"] for row in rows) == len(world.orders)
    assert scalar(hub, "select count(*) from marts.fct_orders where abs(total_amount - (subtotal_amount "
                       "+ shipping_amount + tax_amount - discount_amount)) > 0.01") == 0
    statuses = {row["status"] for row in query(hub, "select distinct status from marts.fct_orders")}
    assert statuses <= {"pending", "paid", "partially_refunded", "refunded", "fulfilled", "cancelled"}
    assert scalar(hub, "select count(*) from marts.fct_orders where platform = 'spreadsheet'") > 0
    assert scalar(hub, "select count(*) from marts.fct_order_lines where product_id is null") == 0
    assert scalar(hub, "select count(*) from marts.fct_payments where order_id is not null") > 0
    # Stripe paid out what it settled, but the payout it took the planted account fee from
    assert scalar(hub, "select count(*) from marts.fct_payouts where payment_count > 0") == \
        scalar(hub, "select count(*) from marts.fct_payouts") > 0
    planted = fleet.sandbox("stripe_main").account_fees  # type: ignore[attr-defined]
    unbalanced = query(hub, "select payout_id, difference from marts.fct_payouts where not is_balanced")
    assert {row["payout_id"]: -Decimal(row["difference"]).scaleb(Currency(row["payout_id"][-3:].upper()).exponent)
            for row in unbalanced} == planted


def test_one_customer_across_shops_payments_and_erp(built: tuple[HubConfig, Fleet]) -> None:
    hub, fleet = built
    people = {customer.email.lower() for customer in fleet.world.customers}
    assert scalar(hub, "select count(*) from marts.dim_customers") == len(people)
    busiest = query(hub, "select source_count, source_ids from marts.dim_customers order by source_count desc "
                         "limit 1")[0]
    assert {"shop_us", "shop_eu", "stripe_main", "erp_u8"} <= {s.split(":")[0] for s in busiest["source_ids"].split(",")}
    assert scalar(hub, "select count(*) from marts.fct_orders o left join marts.dim_customers c "
                       "on c.customer_id = o.customer_id where o.customer_id is not null and c.customer_id is null") == 0
    # the ERP keeps a few with no email and the phone as 0086... or without the country code: each is
    # still the one web customer with that phone, in E.164
    planted = {customer.id: customer for customer in fleet.world.customers
               if customer.id in set().union(*fleet.world.erp_contacts.values())}
    assert len(planted) == 4
    for customer in planted.values():
        [person] = query(hub, "select email, phone, source_ids from marts.dim_customers "
                              f"where source_ids like '%erp_u8:{customer.id}%'")
        assert person["email"] == customer.email and person["phone"] == customer.phone.replace(" ", "")
        assert f"shop_us:{customer.id}" in person["source_ids"].split(",")
    orders_of_planted = [o for o in fleet.world.orders if o.customer.id in planted]
    assert orders_of_planted and scalar(hub, "select count(distinct customer_id) from marts.fct_orders where order_id in ("
                                             + ",".join(f"'{o.shop}:{o.id}'" for o in orders_of_planted) + ")") \
        == len({o.customer.id for o in orders_of_planted})


def test_stock_availability_nets_open_orders_and_applies_the_policy(built: tuple[HubConfig, Fleet]) -> None:
    hub, fleet = built
    world = fleet.world
    on_hand = Counter()
    for record in world.stock:
        on_hand[record.sku.code] += record.quantity
    reserved = Counter()
    for order in world.orders:
        if order.cancelled_at is None and order.financial_status not in ("voided", "refunded") \
                and order.fulfillment_status != "fulfilled":
            refunded = Counter()  # a refunded unit of an unshipped order is not coming: it reserves nothing
            for refund in order.refunds:
                for line_id, quantity in refund.lines:
                    refunded[line_id] += quantity
            for line in order.lines:
                reserved[line.sku.code] += max(line.quantity - refunded[line.id], 0)
    by_warehouse = Counter()
    for record in world.stock:
        by_warehouse[(record.sku.code, record.warehouse)] += record.quantity
    rows = query(hub, "select * from marts.rpt_stock_availability")
    locations = {(row["channel_id"], row["location_id"]): row["location_name"]
                 for row in query(hub, "select * from staging.stg_shopify__locations")}
    assert {row["channel_id"] for row in rows} == {"shop_us", "shop_eu"}
    assert len(rows) == 2 * 2 * len(world.skus)  # every SKU at both locations of both shops
    policy = {(p["channel_id"], p["product_id"]): p for p in query(hub, "select * from ops.stock_policy")}
    assert any(sku for _, sku in policy), "the shipped policy has a per-SKU override to prove"
    # shop_us maps Main warehouse to 01 and Shanghai store to 02; shop_eu maps nothing: its primary
    # location (Main warehouse, the lowest id) sells both warehouses, its other location is set to 0
    sold_from = {("shop_us", "Main warehouse"): ["01"], ("shop_us", "Shanghai store"): ["02"],
                 ("shop_eu", "Main warehouse"): ["01", "02"], ("shop_eu", "Shanghai store"): []}
    for row in rows:
        sku, warehouses = row["product_id"], sold_from[(row["channel_id"], locations[(row["channel_id"], row["location_id"])])]
        channel = policy.get((row["channel_id"], sku)) or policy[(row["channel_id"], None)]
        assert (row["on_hand"], row["reserved"]) == (on_hand[sku], reserved[sku]), sku  # both warehouses, each shop
        assert row["location_on_hand"] == sum(by_warehouse[(sku, w)] for w in warehouses)
        atp = max(on_hand[sku] - reserved[sku] - channel["safety_stock"], 0)
        share = int(atp * Decimal(channel["percentage"]) / 100)
        allocation = 0 if share < channel["floor"] else min(share, channel["cap"] or share)
        expected = allocation * row["location_on_hand"] // on_hand[sku] if on_hand[sku] else 0
        assert (row["available_to_promise"], row["allocated_quantity"]) == (atp, expected), row
        assert row["allocation_note"] == (None if warehouses else "location not mapped to a warehouse")
    for shop in ("shop_us", "shop_eu"):  # the locations together never offer more than the shop's allocation
        per_sku = Counter()
        for row in rows:
            if row["channel_id"] == shop:
                per_sku[row["product_id"]] += row["allocated_quantity"]
        channel = policy[(shop, None)]
        assert all(units <= max(on_hand[sku] - reserved[sku] - channel["safety_stock"], 0) for sku, units in per_sku.items())


def test_reconciliation_finds_exactly_the_planted_discrepancies(built: tuple[HubConfig, Fleet]) -> None:
    """One case of every status is planted (sandbox/world/payments.py); each is found with its net
    difference in the order's currency, and every other order matches (or is not due)."""
    hub, fleet = built
    world = fleet.world
    rows = {row["order_id"] or row["payment_ids"]: row
            for row in query(hub, "select * from marts.rpt_payment_reconciliation")}
    found: dict[str, set[str]] = defaultdict(set)
    for key, row in rows.items():
        if row["status"] not in ("matched", "not_due"):
            found[row["status"]].add(key)
    assert dict(found) == {kind: set(ids) for kind, ids in world.planted.items() if kind in DISCREPANCY_KINDS}
    assert set(found) == set(DISCREPANCY_KINDS)

    orders = {f"{order.shop}:{order.id}": order for order in world.orders}
    expected: dict[str, Decimal | None] = {}
    for kind in ("unpaid", "paid_outside_provider"):
        expected |= {key: -orders[key].total for key in world.planted[kind]}
    expected |= {key: orders[key].charges[0].amount - orders[key].total for key in world.planted["underpaid"]}
    expected |= {key: orders[key].total for key in world.planted["overpaid"]}  # charged twice
    for key in world.planted["refund_mismatch"]:  # the gap: the shop refunded alone (+), or Stripe (-)
        order = orders[key]
        expected[key] = order.refunded if order.refunds else -order.stripe_refunds[0].amount
    expected |= dict.fromkeys(world.planted["cancelled_and_refunded"] | world.planted["disputed"]
                              | world.planted["paid_in_presentment"], Decimal(0))
    expected |= dict.fromkeys(world.planted["currency_mismatch"])  # two currencies: no net figure
    charges = {charge.id: charge for order in world.orders for charge in order.charges}
    expected |= {charge_id: charges[charge_id].amount for charge_id in world.planted["payment_without_order"]}
    assert {key: rows[key]["difference"] for key in expected} == expected

    for key in world.planted["paid_in_presentment"]:  # paid and part refunded in CAD/GBP: matched
        order = orders[key]
        assert (rows[key]["status"], rows[key]["payment_currency"], rows[key]["order_refunded"]) == (
            "matched", order.presentment_currency, order.refunded)
    assert not world.planted["failed_without_order"] & set(rows)  # declined: no money, no row
    assert not any(row["difference"] for row in rows.values() if row["status"] == "matched")


def test_daily_sales_measures_are_finances_and_leave_test_and_cancelled_orders_aside(
        built: tuple[HubConfig, Fleet]) -> None:
    """Per shop, the report's measures add up to the World's sales: gross before discounts, discounts,
    returns, net, shipping, taxes, total collected; test and cancelled orders counted beside them."""
    hub, fleet = built
    transforms.build(hub, select=["rpt_daily_sales"])
    measures = ("order_count", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
                "total_collected", "cancelled_order_count", "cancelled_kept_amount", "test_order_count")
    reported = {row["channel_id"]: row for row in query(hub, "select channel_id, " + ", ".join(
        f"sum({m}) as {m}" for m in measures) + " from marts.rpt_daily_sales group by channel_id")}
    for shop in fleet.world.spec.shops:
        orders = fleet.world.orders_of(shop.name)
        sales = [o for o in orders if not o.test and o.cancelled_at is None]
        gross, discounts = sum(o.subtotal for o in sales), sum(o.discount for o in sales)
        returns = sum(o.refunded for o in sales)
        paid_then_cancelled = [o for o in orders if o.cancelled_at and o.financial_status != "voided"]
        assert {m: reported[shop.name][m] for m in measures} == {
            "order_count": len(sales), "gross_sales": gross, "discounts": discounts, "returns": returns,
            "net_sales": gross - discounts - returns, "shipping": sum(o.shipping for o in sales),
            "taxes": sum(o.tax for o in sales), "total_collected": sum(o.total - o.refunded for o in sales),
            "cancelled_order_count": sum(1 for o in orders if o.cancelled_at and not o.test),
            "cancelled_kept_amount": sum(o.total - o.refunded for o in paid_then_cancelled),
            "test_order_count": sum(1 for o in orders if o.test)}
    assert sum(row["test_order_count"] for row in reported.values()) == len(fleet.world.planted["excluded"]) > 0


def test_alerts_name_the_worlds_unshipped_orders_open_reconciliation_cases_and_short_stock(
        built: tuple[HubConfig, Fleet]) -> None:
    """The rules on the built marts: one unshipped alert per shop naming exactly the World's paid,
    unfulfilled orders past 48 hours, oldest first; one reconciliation alert per channel and open status
    naming exactly the planted cases; stuck parcels naming exactly the World's failed, returned and quiet
    tracked parcels; low stock naming every SKU below 5 units or 7 days of cover."""
    hub, fleet = built
    world = fleet.world
    as_of = world.now + timedelta(days=10)
    alerts = {alert.alert_key: alert for alert in check_alerts(hub, as_of=as_of, deliver=False).open}
    for shop in world.spec.shops:
        late = sorted((o for o in world.orders_of(shop.name) if o.financial_status == "paid" and not o.test
                       and o.fulfillment_status != "fulfilled" and o.cancelled_at is None
                       and o.created_at < as_of - timedelta(hours=48)), key=lambda o: (o.created_at, o.id))
        assert late and [record.split()[1] for record in alerts[f"unshipped:{shop.name}"].records] == [
            f"#{o.number}" for o in late]

    payments_account = next(name for name, account in hub.accounts.items() if account.connector == "stripe")
    expected: dict[str, set[str]] = defaultdict(set)
    for kind in set(DISCREPANCY_KINDS) - SETTLED:
        for key in world.planted[kind]:
            channel = payments_account if kind == "payment_without_order" else key.split(":")[0]
            expected[f"reconciliation:{channel}/{kind}"].add(key)
    found = {key: {record.removeprefix("payment ").split()[0] for record in alert.records}
             for key, alert in alerts.items() if alert.rule == "reconciliation"}
    assert found == expected
    assert alerts[f"reconciliation:{payments_account}/payment_without_order"].records[0].startswith("payment ch_")
    [short_payout] = fleet.sandbox(payments_account).account_fees  # type: ignore[attr-defined]
    assert [record.split()[1] for record in alerts[f"settlement:{payments_account}"].records] == [short_payout]

    # parcels: EasyPost's tracked ones shipped within 30 days that failed, came back or went quiet (every
    # parcel not finished by the World's clock is quiet 10 days later); ShipStation's labels nobody tracks
    easypost = next(name for name, account in hub.accounts.items() if account.connector == "easypost")
    troubled = {shipment.tracking_code for shipment in world.shipments_of("easypost")
                if shipment.created_at >= as_of - timedelta(days=30) and shipment.events_until(world.now)
                and shipment.status(world.now) not in ("delivered", "cancelled")}
    assert troubled and {record.split()[1].rstrip(",:") for record in alerts[f"stuck_shipment:{easypost}"].records} \
        == troubled
    assert not any(alert.rule == "stuck_shipment" and alert.scope != easypost for alert in alerts.values())

    # stock: as of the World's last day (its last 28 days of sales), thresholds where this small merchant has
    # some SKUs short by units and some only by days of cover
    atp = {(row["channel_id"], row["product_id"]): int(row["atp"]) for row in query(hub, """
        select channel_id, product_id, max(available_to_promise) as atp from marts.rpt_stock_availability
        where product_id is not null group by channel_id, product_id""")}
    sold = {row["product_id"]: int(row["units"]) for row in query(hub, f"""
        select product_id, sum(quantity - coalesce(refunded_quantity, 0)) as units from marts.fct_order_lines
        where ordered_at >= '{world.now - timedelta(days=28):%Y-%m-%d %H:%M:%S}+00'
          and ordered_at < '{world.now:%Y-%m-%d %H:%M:%S}+00'
        group by product_id""")}
    below = sorted(atp.values())[len(atp) // 4]
    covers = sorted(units / (sold[key[1]] / 28) for key, units in atp.items() if units >= below and sold.get(key[1]))
    rules = AlertsConfig(low_stock_below=below, cover_days_below=covers[len(covers) // 4])
    short = {key for key, units in atp.items()
             if units < rules.low_stock_below or units < rules.cover_days_below * sold.get(key[1], 0) / 28}
    alerts = check_alerts(hub.model_copy(update={"alerts": rules}), as_of=world.now, deliver=False).open
    named = {(alert.scope, record.split()[0]) for alert in alerts if alert.rule == "low_stock"
             for record in alert.records}
    assert named == short
    assert {key for key in short if atp[key] < rules.low_stock_below} < short  # velocity named some too


def test_the_report_renders_offline_in_chromium_with_every_chart_and_no_console_error(
        built: tuple[HubConfig, Fleet], tmp_path: Path) -> None:
    """The HTML report in real headless Chromium (Debian's, `make browser`), with every request other than
    the file itself refused: it renders, draws its five charts, logs no error, and its reconciliation
    table lists exactly the open statuses the World planted."""
    hub, fleet = built
    path = write_report(hub, tmp_path / "report.html", as_of=fleet.world.now)
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `make browser` installs Debian's Chromium"
    errors, requested = [], []

    def only_the_file(route) -> None:
        requested.append(route.request.url)
        route.continue_() if route.request.url == path.as_uri() else route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", only_the_file)
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5")
        charts = page.locator(".js-plotly-plot").evaluate_all("nodes => nodes.map(node => node.id)")
        statuses = page.locator("#reconciliation tbody tr td:first-child").all_inner_texts()
        skus = page.locator("#skus tbody tr").count()
        browser.close()
    assert errors == [] and requested == [path.as_uri()]
    assert charts == ["chart-sales", "chart-skus", "chart-cover", "chart-reconciliation", "chart-freshness"]
    assert set(statuses) == set(DISCREPANCY_KINDS) - SETTLED
    assert skus == 15


def test_merchant_mapping_overrides_code_matching_and_reaches_built_facts(built: tuple[HubConfig, Fleet]) -> None:
    hub, _ = built
    engine = Warehouse(hub.warehouse_url).engine
    code = scalar(hub, "select min(source_sku) from marts.fct_order_lines where channel_id = 'store_files'")
    lines = "select distinct product_id from marts.fct_order_lines where channel_id = 'store_files' " \
            f"and source_sku = '{code}'"
    assert query(hub, lines) == [{"product_id": code}]
    with engine.begin() as conn:
        conn.execute(sa.text("insert into ops.sku_mapping (channel_id, source_code, product_id, note) "
                             f"values ('store_files', '{code}', 'CH-MAPPED', 'test')"))
    try:
        runs = {run.model: run for run in transforms.build(hub).runs}  # no new load: the edit alone is new
        assert runs["fct_order_lines"].strategy == "incremental"
        assert runs["fct_orders"].outcome == "current"  # the mapping is not upstream of it
        listing = query(hub, "select product_id, is_mapped_by_merchant from marts.dim_product_listings "
                             f"where channel_id = 'store_files' and source_code = '{code}'")
        assert listing == [{"product_id": "CH-MAPPED", "is_mapped_by_merchant": True}]
        assert query(hub, lines) == [{"product_id": "CH-MAPPED"}]  # no new load carried these lines
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("delete from ops.sku_mapping where note = 'test'"))
        transforms.build(hub)
    assert query(hub, lines) == [{"product_id": code}]


def test_running_out_of_memory_names_the_builds_memory_cap(built: tuple[HubConfig, Fleet],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    hub, _ = built
    before = scalar(hub, "select count(*) from marts.fct_orders")
    monkeypatch.setenv("CHANNELHUB_DBT_DUCKDB_MEMORY", "1MB")
    with pytest.raises(transforms.BuildFailed,
                       match=r"(?s)Out of Memory.*cap for builds is 1MB: set CHANNELHUB_DBT_DUCKDB_MEMORY"):
        transforms.build(hub, select=["fct_orders"], full_refresh=True)
    assert scalar(hub, "select count(*) from marts.fct_orders") == before  # the mart BI reads is intact


def test_an_unknown_selector_is_an_error_not_an_empty_build(built: tuple[HubConfig, Fleet]) -> None:
    with pytest.raises(transforms.DbtFailed, match="'fct_nothing' matches no model"):
        transforms.build(built[0], select=["fct_nothing"])


INCREMENTAL = {"fct_orders": "order_id", "fct_order_lines": "order_line_id", "fct_payments": "payment_id",
               "fct_refunds": "refund_id", "rpt_payment_reconciliation": "order_id, payment_ids"}
REFUNDS_WAITING = ("select count(*) from marts.fct_refunds as refunds join staging.stg_stripe__charges as charges "
                   "on charges.payment_id = refunds.payment_id where refunds.order_id is null "
                   "and charges.order_id is not null")  # the charge names an order the build had not seen


def _snapshot(hub: HubConfig, mart: str, key: str) -> list[tuple]:
    return [tuple(row.values()) for row in query(hub, f"select * from marts.{mart} order by {key}")]


def test_incremental_build_ends_where_a_full_build_does(built: tuple[HubConfig, Fleet]) -> None:
    hub, fleet = built
    world = fleet.world
    new_orders = {str(order.id) for order in world.add_orders(15)}
    stripe = fleet.sandbox("stripe_main")
    charges = requests.get(f"{stripe.base_url}/v1/charges", params={"limit": 100}, auth=(stripe.api_key, ""),
                           timeout=10).json()["data"]
    charge = next(c for c in charges if c["metadata"].get("order_id") in new_orders and c["amount_refunded"] == 0)
    refunded = requests.post(f"{stripe.base_url}/v1/refunds", data={"charge": charge["id"], "amount": 100},
                             auth=(stripe.api_key, ""), timeout=10)
    assert refunded.status_code == 200  # a refund of a new order: its payment, and it, arrive before the order
    world.touch_orders(0.05)
    deleted = world.orders_of("shop_us")[3]
    fleet.sandbox("shop_us").delete_order(deleted.id)
    run_account(hub, "stripe_main")  # the new orders' payments land first: no order to name yet
    transforms.build(hub)
    waiting = scalar(hub, "select count(*) from marts.rpt_payment_reconciliation where status = 'payment_without_order'")
    assert scalar(hub, REFUNDS_WAITING) > 0
    for account in ("shop_us", "shop_eu"):
        run_account(hub, account)

    report = transforms.build(hub)
    how = {run.model: run.strategy for run in report.runs}
    assert {how[model] for model in INCREMENTAL} == {"incremental"}
    incremental = {mart: _snapshot(hub, mart, key) for mart, key in INCREMENTAL.items()}
    assert scalar(hub, f"select count(*) from marts.fct_orders where order_id = 'shop_us:{deleted.id}'") == 0
    assert scalar(hub, "select count(*) from ops.vanished_keys where model = 'fct_orders' "
                       f"and vanished_key = 'shop_us:{deleted.id}'") == 1  # recorded: what unlinks its payments
    assert scalar(hub, "select count(*) from marts.fct_orders where platform = 'shopify'") == len(world.orders) - 1
    assert scalar(hub, "select count(*) from marts.rpt_payment_reconciliation "
                       f"where order_id = 'shop_us:{deleted.id}'") == 0
    linked = scalar(hub, "select count(*) from marts.rpt_payment_reconciliation where status = 'payment_without_order'")
    assert linked < waiting  # the payments found their orders, and no build revisited them by load
    assert scalar(hub, REFUNDS_WAITING) == 0  # and so did their refunds

    transforms.build(hub, full_refresh=True)
    assert incremental == {mart: _snapshot(hub, mart, key) for mart, key in INCREMENTAL.items()}


def test_no_secret_reaches_dbt_logs_artifacts_or_docs(built: tuple[HubConfig, Fleet], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    hub, _ = built
    secrets = [os.environ[name] for name in SECRET_VARIABLES if os.environ.get(name)]  # the sandboxes' tokens
    url = sa.engine.make_url(hub.warehouse_url)
    if url.get_backend_name() == "postgresql":  # the service trusts local connections: any password logs in
        secrets.append("S3cret-pw-4dbt")
        monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", url.set(password=secrets[-1]).render_as_string(False))
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    transforms.build(hub)
    transforms.publish_docs(hub)
    written = [path for path in (tmp_path / "home").rglob("*") if path.is_file()]
    assert {"dbt.log", "manifest.json", "index.html"} <= {path.name for path in written}
    assert len(secrets) >= 3
    assert not [(path, secret) for path in written for secret in secrets if secret.encode() in path.read_bytes()]


@pytest.fixture
def edited_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of the dbt project the build uses instead of the shipped one; returns an editor."""
    copy = tmp_path / "transforms"
    shutil.copytree(project.ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    monkeypatch.setattr(project, "ROOT", copy)

    def edit(model: str, old: str, new: str) -> None:
        [path] = copy.glob(f"models/**/{model}.sql")
        sql = path.read_text(encoding="utf-8")
        assert old in sql
        path.write_text(sql.replace(old, new, 1), encoding="utf-8")
    return edit


def test_a_failing_model_keeps_the_previous_mart_and_skips_its_dependants(
        built: tuple[HubConfig, Fleet], edited_project) -> None:
    hub, _ = built
    before = scalar(hub, "select count(*) from marts.fct_payments")
    edited_project("fct_payments", "payments.payment_id,", "payments.no_such_column,")

    with pytest.raises(transforms.BuildFailed, match=r"model fct_payments \(models/marts/fct_payments.sql\)") as error:
        transforms.build(hub)
    assert "no_such_column" in str(error.value)
    assert scalar(hub, "select count(*) from marts.fct_payments") == before
    last = {row["model"]: row["outcome"] for row in query(hub, """
        select model, outcome from ops.build_log
        where build_id = (select build_id from ops.build_log order by finished_at desc limit 1)""")}
    assert last["fct_payments"] == "failed"
    assert last["fct_refunds"] == last["fct_payouts"] == last["rpt_payment_reconciliation"] == "skipped"
    assert last["fct_orders"] == last["rpt_stock_availability"] == "current"  # nothing new for them


def test_a_change_of_logic_upstream_rebuilds_an_incremental_fact_whole(
        built: tuple[HubConfig, Fleet], edited_project) -> None:
    hub, _ = built
    edited_project("int_shopify__orders", "'shopify' as platform", "'shopify'  as platform")
    runs = {r.model: r for r in transforms.build(hub).runs}
    assert runs["int_shopify__orders"].strategy == runs["fct_orders"].strategy == "table"  # old rows: other SQL
    assert runs["rpt_daily_sales"].outcome == "success"     # reads fct_orders, rebuilt
    assert runs["fct_order_lines"].outcome == "current"     # nothing upstream of it changed
    assert {r.model: r.outcome for r in transforms.build(hub).runs}["fct_orders"] == "current"


def test_a_build_runs_only_what_has_new_input(built: tuple[HubConfig, Fleet]) -> None:
    hub, _ = built
    transforms.build(hub)
    nothing_new = transforms.build(hub)
    assert nothing_new.built == [] and len(nothing_new.runs) == merchant_models(hub)
    assert {run.outcome for run in nothing_new.runs} == {"current"}

    run_account(hub, "stripe_main")  # a new load in one account: what reads Stripe is rebuilt, views stay
    runs = {run.model: run for run in transforms.build(hub).runs}
    assert runs["fct_payments"].outcome == runs["rpt_payment_reconciliation"].outcome == "success"
    assert runs["stg_stripe__charges"].outcome == "current"  # a view: same accounts, same columns
    assert runs["fct_order_lines"].outcome == runs["rpt_stock_availability"].outcome == "current"

    # a load that rewrites one order and its child rows (as the merge of an updated order does) and
    # nothing else: what reads only the tables it did not touch (customers, products) stays current.
    # Until dlt completes the load (lists it in _dlt_loads), its rows wait: builds read completed
    # loads only, and build again once it completes.
    engine = Warehouse(hub.warehouse_url).engine
    with engine.begin() as conn:
        load_id = conn.execute(sa.text("select max(load_id) from raw_shop_us._dlt_loads")).scalar_one()
        load_id = f"{float(load_id) + 1:.6f}"
        order = conn.execute(sa.text("select id from raw_shop_us.orders order by id limit 1")).scalar_one()
        conn.execute(sa.text("update raw_shop_us.orders set _dlt_load_id = :load_id, total_price = total_price + 1 "
                             "where id = :order"), {"load_id": load_id, "order": order})
        conn.execute(sa.text("update raw_shop_us.orders__line_items set _dlt_load_id = :load_id "
                             "where order_id = :order"), {"load_id": load_id, "order": order})
    total_of_order = f"select total_amount from marts.fct_orders where order_id = 'shop_us:{order}'"
    total = scalar(hub, total_of_order)
    runs = {run.model: run for run in transforms.build(hub).runs}
    assert runs["fct_orders"].outcome == "success" and scalar(hub, total_of_order) == total

    with engine.begin() as conn:
        conn.execute(sa.text("insert into raw_shop_us._dlt_loads (load_id, schema_name, status, inserted_at, "
                             "schema_version_hash) select :load_id, schema_name, 0, inserted_at, schema_version_hash "
                             "from raw_shop_us._dlt_loads order by load_id desc limit 1"), {"load_id": load_id})
    runs = {run.model: run for run in transforms.build(hub).runs}
    assert runs["fct_orders"].outcome == runs["fct_order_lines"].outcome == "success"
    assert runs["dim_customers"].outcome == "success"  # orders name people (guests): it reads them
    assert runs["dim_products"].outcome == runs["fct_inventory"].outcome == "current"
    assert scalar(hub, total_of_order) == total + 1


@pytest.mark.reliability
def test_a_build_killed_midway_blocks_the_push_and_a_rebuild_ends_as_a_full_build(
        built: tuple[HubConfig, Fleet], tmp_path: Path) -> None:
    """kill -9 in a build: seen as interrupted, the push refused; a rebuild equals a full build."""
    hub, fleet = built
    transforms.build(hub, full_refresh=True)  # marts that match raw as earlier tests of the module left it
    fleet.world.touch_orders(0.05)
    for account in ("shop_us", "shop_eu"):
        run_account(hub, account)
    config = tmp_path / "channelhub.yml"
    config.write_text(yaml.safe_dump(hub.model_dump(mode="json", exclude_unset=True)), encoding="utf-8")
    child = subprocess.run([sys.executable, "-m", "tests.reliability.crash", str(config), "-", "build", "120"],
                           check=False, cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.engine.connect() as conn:
        assert last_build(conn).outcome == "interrupted"
    assert any("did not finish (interrupted)" in problem for problem in readiness_problems(hub, warehouse))

    transforms.build(hub)
    with warehouse.engine.connect() as conn:
        assert last_build(conn).outcome == "success"
    assert not any("did not finish" in problem for problem in readiness_problems(hub, warehouse))
    rebuilt = {mart: _snapshot(hub, mart, key) for mart, key in INCREMENTAL.items()}
    transforms.build(hub, full_refresh=True)
    assert rebuilt == {mart: _snapshot(hub, mart, key) for mart, key in INCREMENTAL.items()}


def test_daily_sales_count_each_channels_own_business_day(built: tuple[HubConfig, Fleet]) -> None:
    """An order placed at 21:00 in New York is that day's sale there, not the next UTC day's."""
    hub, _ = built
    transforms.build(hub, select=["rpt_daily_sales"])
    zones = {row["channel_id"]: ZoneInfo(row["timezone"]) for row in query(hub, "select * from ops.channels")}
    orders = query(hub, "select channel_id, currency, ordered_at from marts.fct_orders "
                        "where not is_cancelled and not is_test")
    expected = Counter((o["channel_id"], o["currency"], o["ordered_at"].astimezone(zones[o["channel_id"]]).date())
                       for o in orders)
    assert any(o["ordered_at"].astimezone(zones[o["channel_id"]]).date() != o["ordered_at"].astimezone(UTC).date()
               for o in orders)  # some orders fall on another day in their shop's zone than in UTC
    reported = {(r["channel_id"], r["currency"], r["sales_date"]): r["order_count"]
                for r in query(hub, "select * from marts.rpt_daily_sales") if r["order_count"]}
    assert reported == dict(expected)
    assert {r["day_zone"] for r in query(hub, "select day_zone from marts.rpt_daily_sales where channel_id = 'shop_us'")} \
        == {"America/New_York"}



def test_stock_cannot_leak_through_unknown_codes_or_removed_listings(built: tuple[HubConfig, Fleet]) -> None:
    """A code the shop lists but no ERP knows is pushed as 0 at every location, and said why; a SKU
    whose listing was removed from a shop still reserves the units its open orders hold."""
    hub, _ = built
    engine = Warehouse(hub.warehouse_url).engine
    reserved = "select product_id, max(reserved) as reserved from marts.rpt_stock_availability group by product_id"
    before = {row["product_id"]: row["reserved"] for row in query(hub, reserved)}
    open_sku = scalar(hub, "select min(product_id) from marts.fct_order_lines where channel_id = 'shop_us' "
                           "and open_quantity > 0 and product_id not in ('CH-0000-M', 'CH-0002-M', 'CH-0003-M')")
    # (not a component of the shipped kits, whose listings the bundle test reads)
    with engine.begin() as conn:
        conn.execute(sa.text("insert into raw_shop_us.products__variants (id, product_id, title, sku, inventory_item_id, "
                             "_dlt_parent_id, _dlt_root_id, _dlt_list_idx, _dlt_id) select id + 100000, product_id, title, "
                             "'NOT-IN-ERP-1', inventory_item_id + 100000, _dlt_parent_id, _dlt_root_id, 99, _dlt_id || 'x' "
                             "from raw_shop_us.products__variants order by id limit 1"))
        conn.execute(sa.text("delete from raw_shop_us.products__variants where upper(sku) = :sku"), {"sku": open_sku})
    transforms.build(hub, select=["rpt_stock_availability"])  # written under the last load: named, not due

    unknown = query(hub, "select * from marts.rpt_stock_availability where source_code = 'NOT-IN-ERP-1'")
    assert len(unknown) == 2 and all(  # both locations of shop_us
        (row["product_id"], row["allocated_quantity"], row["allocation_note"]) == (None, 0, "unknown to the ERP")
        for row in unknown)
    after = {row["product_id"]: row["reserved"] for row in query(hub, reserved)}
    assert after[open_sku] == before[open_sku] > 0  # still listed on shop_eu, still reserving shop_us's orders
    assert scalar(hub, "select count(*) from marts.fct_order_lines where product_id is null") == 0


def test_units_a_label_ships_stop_reserving_before_the_shop_hears_of_it(built: tuple[HubConfig, Fleet]) -> None:
    """ShipStation's label names the shop's line it ships (lineItemKey): while shop_eu still shows the
    order unfulfilled, the units the label carries no longer reserve stock; the rest of the line does."""
    hub, _ = built
    line = query(hub, "select order_line_id, product_id, open_quantity from marts.fct_order_lines "
                      "where channel_id = 'shop_eu' and open_quantity > 1 order by order_line_id limit 1")[0]
    reserved = f"select max(reserved) from marts.rpt_stock_availability where product_id = '{line['product_id']}'"
    before = scalar(hub, reserved)
    with Warehouse(hub.warehouse_url).engine.begin() as conn:  # a label bought for one unit of the line
        conn.execute(sa.text(
            "update raw_ship_shipstation.shipments__shipment_items set line_item_key = :key, sku = :sku, quantity = 1 "
            "where _dlt_id = (select min(items._dlt_id) from raw_ship_shipstation.shipments__shipment_items as items "
            "join raw_ship_shipstation.shipments as labels on labels._dlt_id = items._dlt_parent_id "
            "where not labels.voided)"),
            {"key": line["order_line_id"].split(":", 1)[1], "sku": line["product_id"]})
    transforms.build(hub, select=["rpt_stock_availability"])  # written under the last load: named, not due
    assert scalar(hub, reserved) == before - 1
    assert scalar(hub, "select count(*) from intermediate.int_shipstation__shipment_lines "
                       f"where order_line_id = '{line['order_line_id']}'") == 1


def test_bundles_are_as_available_as_their_scarcest_component_and_reserve_their_components(
        built: tuple[HubConfig, Fleet]) -> None:
    """The shipped kits (KIT-TEE-MUG: CH-0000-M + 2 × CH-0002-M; KIT-TEE-CAP: CH-0000-M + CH-0003-M, a
    component shared by both), listed on shop_us and one sold on an open order: the kits' ATP is the
    min over components of floor(component ATP / units), and the kit sold reserves its components."""
    hub, _ = built
    kits = {"KIT-TEE-MUG": {"CH-0000-M": 1, "CH-0002-M": 2}, "KIT-TEE-CAP": {"CH-0000-M": 1, "CH-0003-M": 1}}
    assert {(r["bundle_id"], r["component_id"]): r["quantity"] for r in query(hub, "select * from ops.bundles")} == {
        (kit, sku): units for kit, parts in kits.items() for sku, units in parts.items()}
    engine = Warehouse(hub.warehouse_url).engine
    availability = ("select product_id, location_id, reserved, available_to_promise, allocated_quantity, "
                    "allocation_note from marts.rpt_stock_availability where channel_id = 'shop_us'")
    before = {row["product_id"]: row["reserved"] for row in query(hub, availability)}
    with engine.begin() as conn:
        for n, kit in enumerate(kits, start=1):
            conn.execute(sa.text(
                "insert into raw_shop_us.products__variants (id, product_id, title, sku, inventory_item_id, "
                "_dlt_parent_id, _dlt_root_id, _dlt_list_idx, _dlt_id) select id + :n * 200000, product_id, title, "
                ":kit, inventory_item_id + :n * 200000, _dlt_parent_id, _dlt_root_id, 90 + :n, _dlt_id || :kit "
                "from raw_shop_us.products__variants order by id limit 1"), {"n": n, "kit": kit})
        open_line = conn.execute(sa.text(
            "select l.id from raw_shop_us.orders__line_items l join raw_shop_us.orders o on o.id = l.order_id "
            "where o.cancelled_at is null and o.fulfillment_status is null and o.financial_status = 'paid' "
            "order by l.id limit 1")).scalar_one()
        columns = [c for c in conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = 'raw_shop_us' "
            "and table_name = 'orders__line_items'")).scalars() if c not in ("id", "sku", "quantity", "fulfillable_quantity")]
        conn.execute(sa.text(f"insert into raw_shop_us.orders__line_items (id, sku, quantity, fulfillable_quantity, "
                             f"{', '.join(columns)}) select id + 1000000, 'KIT-TEE-MUG', 2, 2, {', '.join(columns)} "
                             "from raw_shop_us.orders__line_items where id = :line"), {"line": open_line})
    transforms.build(hub, select=["+rpt_stock_availability"], full_refresh=True)

    rows = query(hub, availability)
    reserved = {row["product_id"]: row["reserved"] for row in rows}
    assert reserved["CH-0000-M"] == before["CH-0000-M"] + 2 and reserved["CH-0002-M"] == before["CH-0002-M"] + 4
    atp = {row["product_id"]: row["available_to_promise"] for row in rows}
    for kit, parts in kits.items():
        mine = [row for row in rows if row["product_id"] == kit]
        assert len(mine) == 2 and all(row["allocation_note"] is None for row in mine)  # both locations
        assert {row["available_to_promise"] for row in mine} == {min(atp[sku] // units for sku, units in parts.items())}
        assert 0 < sum(row["allocated_quantity"] for row in mine) <= atp[kit]


def test_stock_counted_under_unknown_codes_is_quarantined_and_warned_never_blocking(
        built: tuple[HubConfig, Fleet]) -> None:
    """Two lines of a store count under codes no SKU has (a typo, an item not in the ERP): each kept on
    its own fct_inventory row naming its code, counted for no SKU, a warning; the gates still pass."""
    hub, _ = built
    engine = Warehouse(hub.warehouse_url).engine
    with engine.begin() as conn:
        columns = [c for c in conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = 'raw_store_files' "
            "and table_name = 'stock_counts'")).scalars() if c not in ("sku", "row_key", "source_row", "_dlt_id")]
        for n, code in enumerate(("CH-TYPO-1", "NOT-IN-ERP-2"), start=1):
            conn.execute(sa.text(f"insert into raw_store_files.stock_counts (sku, row_key, source_row, _dlt_id, "
                                 f"{', '.join(columns)}) select :code, row_key || :code, source_row + 100000 + :n, "
                                 f"_dlt_id || :code, {', '.join(columns)} "
                                 "from raw_store_files.stock_counts order by _dlt_id limit 1"), {"code": code, "n": n})
    transforms.build(hub, select=["fct_inventory"])
    unmatched = query(hub, "select unmatched_code, warehouse_id from marts.fct_inventory where product_id is null")
    assert sorted(row["unmatched_code"] for row in unmatched) == ["CH-TYPO-1", "NOT-IN-ERP-2"]
    assert len({row["warehouse_id"] for row in unmatched}) == 1  # same warehouse, still two rows

    report = validate(hub)
    assert report.ok, [(o.table_name, o.column_name, o.expectation) for o in report.critical]
    assert ("marts.fct_inventory", "product_id") in {(o.table_name, o.column_name) for o in report.warnings}
