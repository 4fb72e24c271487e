"""The CLI end to end: demo over every sandbox, status, check, connectors list, errors and secrets."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from channelhub.cli import app
from channelhub.config import load_config
from channelhub.fleet import Fleet, world_for
from sandbox.alipay import bill_day
from sandbox.kit.rsa_keys import new_key
from sandbox.shipstation import ShipstationSandbox
from sandbox.wechatpay import WechatpaySandbox
from tests.pipeline import isolate_env, small_config
from warehouse import Warehouse

runner = CliRunner()


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config, made small, on free ports and in a temp folder."""
    isolate_env(monkeypatch, tmp_path)
    return small_config(tmp_path)


@pytest.fixture
def whole_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped config with every account, the marketplaces too, made small."""
    isolate_env(monkeypatch, tmp_path)
    return small_config(tmp_path, leave_out=())


def scalar(config_path: Path, sql: str) -> int:
    with Warehouse(load_config(config_path).warehouse_url).engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def query(config_path: Path, sql: str) -> list[tuple]:
    with Warehouse(load_config(config_path).warehouse_url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_version_and_help_show_flags_as_flags() -> None:
    from importlib.metadata import version

    shown = CliRunner().invoke(app, ["--version"])
    assert shown.exit_code == 0 and shown.output.strip() == f"channelhub {version('channelhub')}"
    for command in ([], ["sync-stock"], ["alerts", "check"]):
        help_text = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "160"}).output
        assert "--help" in help_text and "<bool>" not in help_text, command
    assert "--dry-run" in CliRunner().invoke(app, ["sync-stock", "--help"]).output


def test_connectors_list_shows_every_connector_and_kind() -> None:
    result = runner.invoke(app, ["connectors", "list"])
    assert result.exit_code == 0, result.output
    for name, kind in [("shopify", "channel"), ("stripe", "payments"), ("yonyou_u8", "erp"),
                       ("spreadsheet", "file")]:
        assert any(name in line and kind in line for line in result.output.splitlines()), (name, result.output)


@pytest.mark.e2e
def test_demo_loads_every_account_and_status_reports_it(whole_config: Path) -> None:
    config_path = whole_config
    result = runner.invoke(app, ["demo", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    hub = load_config(config_path)
    accounts = len(hub.enabled_accounts())
    assert f"loaded {accounts} of {accounts} accounts" in result.output
    world = world_for(hub)
    shopify_orders = len(world.orders_of("shop_us")) + len(world.orders_of("shop_eu"))
    pdd_since = hub.account("pdd_cn").settings.start_date  # Pinduoduo's shop is read from then on
    loaded = {"jd_cn": len(world.orders_of("jd_cn")), "amazon_us": len(world.orders_of("amazon_us")),
              "pdd_cn": sum(o.updated_at >= pdd_since for o in world.orders_of("pdd_cn"))}
    assert scalar(config_path, "select count(*) from raw_shop_us.orders") + \
        scalar(config_path, "select count(*) from raw_shop_eu.orders") == shopify_orders
    loaded["shop_cn"] = len(world.orders_of("shop_cn"))  # the CNY web shop on WooCommerce
    assert {name: scalar(config_path, f"select count(*) from raw_{name}.orders") for name in loaded} == loaded
    assert loaded["pdd_cn"] > 0
    assert scalar(config_path, "select count(*) from raw_stripe_main.charges") > 0
    paid_with_paypal = sum(len(order.paypal) for order in world.orders)
    assert scalar(config_path, "select count(*) from marts.fct_payments where provider = 'paypal'") == paid_with_paypal > 0
    assert scalar(config_path, """
        select count(*) from marts.rpt_payment_reconciliation as cases
        join marts.fct_payments as payments on payments.payment_id = split_part(cases.payment_ids, ',', 1)
        where payments.provider = 'paypal' and cases.status <> 'matched'""") == 1  # one planted in another currency
    assert scalar(config_path, """
        select count(*) from marts.rpt_payment_reconciliation as cases
        join marts.fct_payments as payments on payments.payment_id = split_part(cases.payment_ids, ',', 1)
        where payments.provider = 'paypal' and cases.status = 'currency_mismatch'""") == 1
    # WeChat Pay's bills pay the CNY shop's orders; its planted cases show by provider: the payment in USD
    # is a currency mismatch, the orders of the day without a bill are unpaid
    wechatpay = WechatpaySandbox(world, "1900007291", "0", new_key().public_key(), new_key(), "0")
    billed = [row for row in wechatpay.served() if row.state == "SUCCESS"]
    assert scalar(config_path, "select count(*) from marts.fct_payments where provider = 'wechatpay'") == len(billed) > 0
    assert scalar(config_path, """
        select count(*) from marts.rpt_payment_reconciliation as cases
        join marts.fct_payments as payments on payments.payment_id = split_part(cases.payment_ids, ',', 1)
        where payments.provider = 'wechatpay' and cases.status = 'currency_mismatch'""") == 1
    unbilled = [f"'shop_cn:{order.number}'" for order in world.orders_of("shop_cn") if order.wechatpay and
                order.created_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == wechatpay.planted_day]
    assert unbilled and scalar(config_path, "select count(*) from marts.rpt_payment_reconciliation where status = "
                               f"'unpaid' and order_id in ({', '.join(unbilled)})") == len(unbilled)
    # ... and its fund flow bills every movement of the basic account: its withdrawals are payouts
    made = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=2)  # bills surely made by now
    made_end = datetime.combine(made + timedelta(days=1), time(), ZoneInfo("Asia/Shanghai"))
    flows = [row for day, rows in wechatpay.fund_flow().items() if day <= made for row in rows]
    assert scalar(config_path, "select count(*) from raw_wechatpay_main.fundflow "
                               f"where bill_date <= '{made.isoformat()}'") == len(flows) > 0
    assert scalar(config_path, "select count(*) from marts.fct_payouts where provider = 'wechatpay' and "
                               f"created_at < '{made_end.isoformat()}'") == sum(row.kind == "提现" for row in flows) > 1
    assert scalar(config_path, "select count(*) from raw_erp_u8.so_somain") == hub.sandbox.orders
    # the OMS's stock of every SKU in both warehouses, beside U8's in fct_inventory, not counted: stock.sources
    # (the demo World gives it no shop of its own, so no orders)
    assert scalar(config_path, "select count(*) from marts.fct_inventory where channel_id = 'jst_oms' "
                               "and not counts_as_on_hand and product_id is not null") == len(world.stock)
    assert scalar(config_path, "select count(*) from raw_store_files.quarantine") > 0
    assert scalar(config_path, "select count(*) from raw_jdy_erp.products") == hub.sandbox.skus
    assert scalar(config_path, "select count(*) from raw_erp_sap.items") == hub.sandbox.skus  # the Service Layer's
    paid_with_alipay = sum(len(order.alipay) for order in world.orders)
    missing_day = scalar(config_path, "select bill_date from raw_alipay_main.bills where status = 'missing'")
    assert scalar(config_path, "select count(*) from marts.fct_payments where provider = 'alipay'") == paid_with_alipay - sum(
        len(order.alipay) for order in world.orders if order.alipay and bill_day(order.created_at) == missing_day) > 0
    assert scalar(config_path, """
        select count(*) from marts.rpt_payment_reconciliation as cases
        join marts.fct_payments as payments on payments.payment_id = split_part(cases.payment_ids, ',', 1)
        where payments.provider = 'alipay' and cases.status = 'underpaid'""") == 1  # one planted short in yuan
    # each wallet's planted fee off its contracted rate shows in fct_payments' fee-rate check; Alipay's
    # withdrawals are payouts, reconciled in fct_payouts
    assert dict(query(config_path, "select provider, count(*) from marts.fct_payments where fee_variance <> 0 "
                                   "group by provider")) == {"alipay": 1, "wechatpay": 1}
    assert scalar(config_path, "select count(*) from marts.fct_payouts where provider = 'alipay' and payment_count > 0") > 0
    # EasyPost (shop_us) and ShipStation (shop_eu) label the web shops' fulfilled orders, the CNY shop records
    # its couriers' waybills: each parcel names an order fct_orders holds; ShipStation lists its voided labels too
    listed = [shipment for shipment in world.shipments
              if shipment.provider != "shipstation" and shipment.created_at <= world.now]
    labels = ShipstationSandbox(world, rate_limit=None).labels()
    live = [label.shipment for label in labels if label.voided_at is None]
    assert scalar(config_path, "select count(*) from marts.fct_shipments where is_order_known") == \
        len(listed) + len(labels) > len(listed) > 0
    # rpt_fulfilment: every paid web-shop order, shipped or not, and where its parcel is. A waybill a shop
    # records, or a ShipStation label (ShipStation tracks nothing), has a status once a tracker followed it:
    # its carrier's tracker asks about parcels shipped within its track_days (before, the parcel stays
    # open); a voided label is no parcel
    trackers = [account.settings for account in hub.accounts.values() if account.connector in ("kuaidi100", "sf_express")]
    followed_since = {carrier: datetime.now(ZoneInfo("UTC")) - timedelta(days=settings["track_days"])
                      for settings in trackers for carrier in settings["carriers"]}
    fates = Counter({"delivered": "delivered", "return_to_sender": "returned", "failure": "exception"}.get(
        shipment.status(world.now), "open") if shipment.provider not in ("shop", "shipstation")
        or shipment.created_at >= followed_since.get(shipment.carrier, datetime.max.replace(tzinfo=ZoneInfo("UTC")))
        else "open" for shipment in listed + live)
    assert scalar(config_path, "select count(*) from marts.fct_shipments where provider = 'shipstation' "
                               "and tracked_by is not null") == sum(
        shipment.created_at >= followed_since.get(shipment.carrier, datetime.max.replace(tzinfo=ZoneInfo("UTC")))
        for shipment in live) > 0
    shipped = {shipment.reference for shipment in listed + live}
    unshipped = sum(order.shop in world.shipping_shops and order.cancelled_at is None and not order.test
                    and order.financial_status in ("paid", "partially_refunded", "refunded")
                    and f"{order.shop}:{order.id}" not in shipped for order in world.orders)
    statuses = dict(query(config_path, "select fulfilment_status, count(*) from marts.rpt_fulfilment group by 1"))
    assert {status: statuses.pop(status, 0) for status in ("delivered", "returned", "exception", "unshipped")} == \
        {"delivered": fates["delivered"], "returned": fates["returned"], "exception": fates["exception"],
         "unshipped": unshipped}
    assert sum(statuses.values()) == fates["open"] and statuses.get("stuck", 0) > 0
    # a marketplace collects its buyers' payments, whatever wallet they used: none of its orders is due at
    # the merchant's own Alipay or WeChat Pay account
    assert scalar(config_path, """
        select count(*) from marts.rpt_payment_reconciliation as cases
        join marts.fct_orders as orders on orders.order_id = cases.order_id
        where orders.platform in ('jd', 'pinduoduo', 'amazon') and cases.status = 'unpaid'""") == 0
    assert scalar(config_path, "select count(distinct account) from ops.run_log where outcome = 'success'") == accounts

    # the sandboxes render one merchant: Stripe pays the shops' orders, the ERP and the store files
    # know the shops' SKUs
    assert scalar(config_path, """
        select count(*) from raw_stripe_main.charges c
        where cast(c.metadata__order_id as bigint) not in (select id from raw_shop_us.orders
                                                           union all select id from raw_shop_eu.orders)""") == 0
    assert scalar(config_path, """
        select count(*) from raw_shop_us.products__variants v
        where v.sku not in (select c_inv_code from raw_erp_u8.inventory)""") == 0
    assert scalar(config_path, """
        select count(*) from raw_store_files.offline_sales s
        where s.sku is not null and s.sku not in (select c_inv_code from raw_erp_u8.inventory)""") == 0

    # stock.sources counts U8's stock as on hand; Guanjiapo's, Jiandaoyun's and SAP's (the same World stock)
    # are shown, not counted
    for other_erp in ("erp_gjp", "jdy_erp", "erp_sap"):
        assert scalar(config_path, f"select count(*) from marts.fct_inventory where channel_id = '{other_erp}' "
                                   "and not counts_as_on_hand") == scalar(
            config_path, f"select count(*) from marts.fct_inventory where channel_id = '{other_erp}'") > 0
    assert scalar(config_path, "select sum(on_hand) from intermediate.int_stock_on_hand") == scalar(
        config_path, "select sum(quantity_on_hand) from marts.fct_inventory where counts_as_on_hand "
                     "and product_id is not null") == scalar(
        config_path, "select sum(quantity_on_hand) from marts.fct_inventory where channel_id = 'erp_u8' "
                     "and product_id is not null")

    # ... then built the marts, passed the quality gates and pushed the allocated stock to both shops
    assert scalar(config_path, "select count(*) from marts.fct_orders where platform = 'shopify'") == shopify_orders
    assert scalar(config_path, "select count(*) from marts.fct_orders where platform in ('jd', 'pinduoduo', 'amazon', 'woocommerce')") == sum(
        loaded.values())
    # the tracker stage builds again: models its loads left unchanged are current
    assert scalar(config_path, "select count(*) from ops.build_log where outcome not in ('success', 'current')") == 0
    assert scalar(config_path, "select count(*) from ops.quality_runs where success") == 1
    pushed = scalar(config_path, "select count(*) from ops.stock_push_log where outcome = 'success' "
                                 "and channel_id <> 'jdy_erp'")
    assert 0 < pushed <= scalar(config_path, "select count(*) from marts.rpt_stock_availability")
    # ... and mirrored the allocations to Jiandaoyun: three figures per SKU and channel of stock.channels
    # (stock.mirrors; shop_cn, not listed there, is not pushed to nor mirrored)
    assert scalar(config_path, "select count(*) from ops.stock_push_log where outcome = 'success' "
                               "and channel_id = 'jdy_erp'") == 3 * scalar(
        config_path, "select count(distinct product_id || channel_id) from marts.rpt_stock_availability "
                     "where product_id is not null and channel_id in ('shop_us', 'shop_eu', 'jd_cn', 'pdd_cn', "
                     "'amazon_us')") > 0
    assert scalar(config_path, "select count(distinct channel_id) from ops.stock_push_log where outcome = 'success'"
                               " and channel_id in ('jd_cn', 'pdd_cn', 'amazon_us')") == 3  # the marketplaces are stocked too
    for heading in ("orders and revenue per channel and currency", "payment reconciliation by provider and status",
                    "settlement: payouts against what they settled", "settlement:stripe_main",
                    "settlement:alipay_main",
                    "stock write-back: ", "shop_eu synced (", "jdy_erp (mirror) synced (", "jd_cn synced (", "pdd_cn synced (", "amazon_us synced (",
                    "open alerts",
                    "unshipped:shop_us", "Data Docs: ", "index.html"):
        assert heading in result.output
    report = Path(result.output.split("report: ")[1].split()[0])
    assert report.name == "index.html" and "Plotly" in report.read_text(encoding="utf-8")
    assert "\n\n\n" not in result.output  # not a terminal: no live progress leaving blank lines
    for status in ("matched", "excluded", "currency_mismatch", "disputed", "paid_outside_provider",
                   "cancelled_and_refunded", "payment_without_order"):  # one case of each is planted
        assert f"│ {status} " in result.output, status

    status = runner.invoke(app, ["status", "--config", str(config_path)])
    assert status.exit_code == 0, status.output
    rows = {line.split("│")[1].strip(): line for line in status.output.splitlines() if line.startswith("│ ")}
    assert all("success" in rows[name] for name in hub.accounts), status.output

    # a second demo is incremental: the unchanged shops hand over no orders again
    again = runner.invoke(app, ["demo", "--config", str(config_path)])
    assert again.exit_code == 0, again.output
    assert scalar(config_path, "select count(*) from raw_shop_us.orders") + \
        scalar(config_path, "select count(*) from raw_shop_eu.orders") == shopify_orders
    loaded["shop_cn"] = len(world.orders_of("shop_cn"))  # the CNY web shop on WooCommerce
    assert {name: scalar(config_path, f"select count(*) from raw_{name}.orders") for name in loaded} == loaded


def test_check_reports_every_account_against_running_sandboxes(config_path: Path) -> None:
    with Fleet(load_config(config_path)):
        result = runner.invoke(app, ["check", "--config", str(config_path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 5


def test_a_wrong_credential_fails_clearly_and_is_never_stored(config_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    hub = load_config(config_path)
    with Fleet(hub):
        monkeypatch.setenv("CHANNELHUB_SHOP_US_TOKEN", "shpat_wrong_but_secret_0123456789")
        result = runner.invoke(app, ["run", "shop_us", "--config", str(config_path)])
        good_key = hub.account("stripe_main").settings.api_key.get_secret_value()
        assert runner.invoke(app, ["run", "stripe_main", "--config", str(config_path)]).exit_code == 0
    assert result.exit_code == 1
    assert "account 'shop_us'" in result.output and "401" in result.output
    assert ("credentials rejected (HTTP 401): check CHANNELHUB_SHOP_US_TOKEN or the Airflow connection shop_us"
            in " ".join(result.output.split()))  # the next step, in one line
    assert "shpat_wrong_but_secret" not in result.output
    error = scalar(config_path, "select max(error) from ops.run_log where account = 'shop_us'")
    assert "401" in error and "shpat_wrong_but_secret" not in error
    home = Path(config_path.parent / "home")
    for path in [*home.rglob("*"), config_path.parent / "wh.duckdb"]:
        if path.is_file():
            data = path.read_bytes()
            assert b"shpat_wrong_but_secret" not in data, path
            assert good_key.encode() not in data, path


def test_a_config_error_names_account_and_field(config_path: Path) -> None:
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw["accounts"]["shop_us"]["settings"]["page_size"] = 1000
    config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["check", "shop_us", "--config", str(config_path)])
    assert result.exit_code == 1
    assert "account 'shop_us', connector 'shopify', settings field 'page_size'" in result.output
