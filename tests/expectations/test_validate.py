"""The quality gates on DuckDB and PostgreSQL: a clean warehouse passes, planted violations fail with
their table, column and expectation named, severities decide the verdict, results land in ops.quality_*,
Data Docs are published, and the row-count band compares with the last good run. The gates on a real
built merchant run in tests/transforms/test_build.py, on the merchant those tests build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from channelhub import cli
from channelhub.config import HubConfig, load_config
from expectations import ValidationReport, mart_suites, raw_suites, validate
from tests.expectations.tables import execute, write_marts, write_raw_tables
from tests.pipeline import isolate_env, query, small_config

BAND = "expect_table_row_count_to_be_between"
DUCKDB_ONLY = pytest.mark.parametrize("hub", ["duckdb"], indirect=True)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubConfig:
    """The shipped accounts (made small) over a fresh warehouse holding a minimal valid raw layer and marts.
    PostgreSQL runs once, for the planted violations (its datasource and queries find exactly them, so
    every other rule passed there, and the results are recorded); the tests of what the warehouse does
    not change (Data Docs, the band, missing tables, a clean pass) pick DuckDB alone with ``DUCKDB_ONLY``."""
    isolate_env(monkeypatch, tmp_path)
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    path = small_config(tmp_path, warehouse_url=url)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["accounts"]["shop_eu"]["enabled"] = False  # shop_us's six tables again: no rule more, a second per run
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    hub = load_config(path)
    write_raw_tables(hub)
    write_marts(hub, orders=10)
    return hub


def failures(outcomes: list) -> set[tuple[str, str, str | None, str]]:
    return {(o.severity, o.table_name, o.column_name, o.expectation) for o in outcomes}


def stored_failures(hub: HubConfig, report: ValidationReport) -> set[tuple[str, str, str | None, str]]:
    rows = query(hub, f"select severity, table_name, column_name, expectation from ops.quality_results "
                      f"where run_id = '{report.run_id}' and not success")
    return {(r["severity"], r["table_name"], r["column_name"], r["expectation"]) for r in rows}


def test_raw_suites_follow_each_connectors_declared_keys(tmp_path: Path) -> None:
    hub = load_config(small_config(tmp_path))
    suites = {suite.name: suite for suite in raw_suites(hub)}
    expected = {f"raw_{name}.{stream.name}" for name in hub.enabled_accounts()
                for stream in hub.account(name, resolve_secrets=False).connector.streams}
    assert set(suites) == expected
    assert {"raw_shop_us.orders", "raw_shop_eu.orders", "raw_stripe_main.charges", "raw_erp_u8.current_stock",
            "raw_store_files.offline_sales"} <= set(suites)

    def checks(name: str) -> set[tuple[str, tuple[str, ...], str]]:
        return {(e.expectation_type, tuple(getattr(e, "column_list", None) or [e.column]), e.severity.value)
                for e in suites[name].expectations}

    assert checks("raw_erp_u8.current_stock") == {  # U8's AutoID as dlt names it, its stock key, its quantity
        ("expect_column_values_to_not_be_null", ("auto_id",), "critical"),
        ("expect_column_values_to_be_unique", ("auto_id",), "critical"),
        *(("expect_column_values_to_not_be_null", (column,), "critical")
          for column in ("c_wh_code", "c_inv_code", "c_batch", "i_quantity")),
        ("expect_compound_columns_to_be_unique", ("c_wh_code", "c_inv_code", "c_batch"), "critical")}
    assert ("expect_compound_columns_to_be_unique", ("inventory_item_id", "location_id"), "critical") in \
        checks("raw_shop_us.inventory_levels")
    assert ("expect_compound_columns_to_be_unique", ("source_file", "source_sheet", "source_row"), "critical") \
        in checks("raw_store_files.offline_sales")


def test_raw_suites_check_only_the_streams_an_account_loads(tmp_path: Path) -> None:
    """A U8 edition without some tables is loaded with ``streams:``; the gates must not then fail it
    (and block stock pushes) for the tables it never reads."""
    raw = yaml.safe_load(small_config(tmp_path).read_text(encoding="utf-8"))
    raw["accounts"]["erp_u8"]["streams"] = ["inventory", "current_stock"]
    raw["accounts"]["shop_us"]["streams"] = ["orders", "locations", "inventory_levels"]
    (tmp_path / "channelhub.yml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    names = {suite.name for suite in raw_suites(load_config(tmp_path / "channelhub.yml"))}
    assert {name for name in names if name.startswith("raw_erp_u8.")} == {"raw_erp_u8.inventory",
                                                                         "raw_erp_u8.current_stock"}
    assert {name for name in names if name.startswith("raw_shop_us.")} == {
        "raw_shop_us.orders", "raw_shop_us.locations", "raw_shop_us.inventory_levels"}
    assert "raw_shop_eu.products" in names  # an account without a list keeps every stream


@DUCKDB_ONLY
def test_clean_warehouse_passes_and_is_recorded_with_data_docs(hub: HubConfig) -> None:
    report = validate(hub)

    assert report.ok and report.critical == [] and report.warnings == [], failures(report.critical + report.warnings)
    assert {o.suite for o in report.outcomes} == {s.name for s in [*raw_suites(hub), *mart_suites()]}
    [run] = query(hub, "select * from ops.quality_runs")
    assert (run["run_id"], run["success"], run["critical_failures"], run["warnings"]) == (report.run_id, True, 0, 0)
    assert run["docs_path"] == str(report.docs_index)
    results = query(hub, f"select * from ops.quality_results where run_id = '{report.run_id}'")
    assert len(results) == len(report.outcomes) and all(r["success"] for r in results)
    assert report.exceptions == []
    # first run: no band, the count is recorded as the next run's baseline
    [orders_count] = [r for r in results if r["table_name"] == "marts.fct_orders" and r["expectation"] == BAND]
    assert orders_count["observed"] == "10"

    assert report.docs_index is not None and report.docs_index.is_file()
    assert report.docs_index.parent == Path(hub_home()) / "data_docs"
    assert "marts.fct_orders" in report.docs_index.read_text(encoding="utf-8")
    pages = list((report.docs_index.parent / "validations").rglob("*.html"))
    assert len(pages) == len({o.suite for o in report.outcomes})


def hub_home() -> Path:
    from channelhub.runner import home

    return home().resolve()


@pytest.mark.reliability
def test_planted_violations_fail_by_name_and_severity(hub: HubConfig) -> None:
    """Bad data fails quality by name: a duplicated key, a duplicated stock row, a NULL quantity, bad marts.

    Stock under a code no SKU has is a warning, never a critical block of every channel."""
    execute(hub,
            "insert into raw_shop_us.orders (id) select id from raw_shop_us.orders where id = 'id-0'",
            "insert into raw_erp_u8.current_stock select 'auto_id-9', c_wh_code, c_inv_code, c_batch, i_quantity "
            "from raw_erp_u8.current_stock where auto_id = 'auto_id-0'",
            "update raw_erp_u8.current_stock set i_quantity = null where auto_id = 'auto_id-1'",
            "update marts.fct_inventory set quantity_on_hand = -3 where product_id = 'CH-0001-M'",
            "update marts.fct_inventory set product_id = null where product_id = 'CH-0002-L'",  # a code no SKU has
            "update marts.fct_orders set total_amount = total_amount + 0.02 where order_id = 'shop_us:1001'",
            "update marts.fct_orders set total_amount = total_amount - 0.01 where order_id = 'shop_us:1002'",
            "update marts.fct_payments set amount_refunded = amount_captured + 1 where payment_id = 'ch_3'")

    report = validate(hub)

    assert not report.ok
    assert failures(report.critical) == {
        ("critical", "raw_shop_us.orders", "id", "expect_column_values_to_be_unique"),
        ("critical", "raw_erp_u8.current_stock", "c_wh_code, c_inv_code, c_batch", "expect_compound_columns_to_be_unique"),
        ("critical", "raw_erp_u8.current_stock", "i_quantity", "expect_column_values_to_not_be_null"),
        ("critical", "marts.fct_inventory", "quantity_on_hand", "expect_column_values_to_be_between")}
    assert failures(report.warnings) == {  # one cent off is within tolerance, two cents is not
        ("warning", "marts.fct_inventory", "product_id", "expect_column_values_to_not_be_null"),  # never a block
        ("warning", "marts.fct_orders", "total_amount_deviation", "expect_column_values_to_be_between"),
        ("warning", "marts.fct_payments", "amount_captured, amount_refunded",
         "expect_column_pair_values_a_to_be_greater_than_b")}
    deviation = next(o for o in report.warnings if o.table_name == "marts.fct_orders")
    assert (deviation.observed, deviation.details) == ("1 of 10 rows unexpected", "e.g. 0.02")
    stock = next(o for o in report.critical if o.table_name == "marts.fct_inventory")
    assert stock.details == "e.g. -3"

    assert stored_failures(hub, report) == failures(report.critical + report.warnings)
    [run] = query(hub, f"select * from ops.quality_runs where run_id = '{report.run_id}'")
    assert (run["success"], run["critical_failures"], run["warnings"]) == (False, 4, 3)


@DUCKDB_ONLY
def test_data_docs_work_offline_keep_history_and_show_business_exceptions(hub: HubConfig) -> None:
    first = validate(hub)
    execute(hub, "update marts.rpt_payment_reconciliation set status = 'unpaid' where order_id = 'shop_us:1001'",
            "update marts.rpt_payment_reconciliation set status = 'overpaid' where order_id in "
            "('shop_us:1002', 'shop_us:1003')")

    report = validate(hub)

    assert report.ok and report.warnings == []  # an open business case is reported, never a failed gate
    [exception] = report.exceptions
    assert (exception.severity, exception.table_name, exception.column_name) == \
        ("info", "marts.rpt_payment_reconciliation", "status")
    assert (exception.observed, exception.details) == ("3 of 10 rows unexpected", "e.g. overpaid ×2, unpaid")
    assert query(hub, f"select severity from ops.quality_results where run_id = '{report.run_id}' and not success") \
        == [{"severity": "info"}]

    site = report.docs_index.parent
    index = report.docs_index.read_text(encoding="utf-8")
    assert first.run_id in index and report.run_id in index  # the earlier run stays listed
    pages = list(site.rglob("*.html"))
    assert len(pages) > 2 * len(report.outcomes) // 10
    for page in pages:  # nothing a browser would fetch from the internet
        assert not re.search(r'<(script|link|img)\b[^>]*(src|href)="https?://', page.read_text(encoding="utf-8")), page
    assert (site / "static/vendor/bootstrap.min.css").is_file()
    assert (site / "static/vendor/fontawesome/webfonts/fa-solid-900.woff2").is_file()


@DUCKDB_ONLY
def test_row_count_band_compares_with_the_last_good_run(hub: HubConfig) -> None:
    assert validate(hub).ok  # baseline: 10 orders
    execute(hub, "delete from marts.fct_orders where order_id not in ('shop_us:1001', 'shop_us:1002', "
                 "'shop_us:1003', 'shop_us:1004')",
            "insert into raw_shop_us.orders (id) select id from raw_shop_us.orders where id = 'id-0'")

    failed = validate(hub)
    shrunk = ("warning", "marts.fct_orders", None, BAND)
    assert not failed.ok and shrunk in failures(failed.warnings)

    execute(hub, "delete from raw_shop_us.orders where id = 'id-0'")
    report = validate(hub)

    # the failed run is no baseline: still compared with the first run's 10 orders; a warning alone
    # leaves the run ok
    assert report.ok and failures(report.warnings) == {shrunk}
    [band] = report.warnings
    assert band.observed == "4"
    assert stored_failures(hub, report) == {shrunk}


@DUCKDB_ONLY
def test_missing_marts_and_columns_are_critical_failures_not_crashes(hub: HubConfig) -> None:
    execute(hub, "drop table marts.rpt_daily_sales", "alter table marts.fct_payments rename to all_payments",
            "create table marts.fct_payments as select payment_id, currency, amount_captured, fee_amount, fee_variance, "
            "net_amount from marts.all_payments")

    report = validate(hub)

    assert not report.ok
    assert failures(report.critical) == {
        ("critical", "marts.rpt_daily_sales", None, "expect_table_to_exist"),
        ("critical", "marts.fct_payments", "amount_refunded", "expect_column_to_exist")}
    missing = next(o for o in report.critical if o.table_name == "marts.rpt_daily_sales")
    assert "does not exist" in missing.details and "channelhub build" in missing.details
    assert report.docs_index is not None and report.docs_index.is_file()  # every other table was validated
    assert len(stored_failures(hub, report)) == 2


@DUCKDB_ONLY
def test_a_stream_without_rows_yet_is_reported_once_its_account_has_loaded_never_failed(hub: HubConfig) -> None:
    """dlt creates a table at its first row: a stream with nothing yet (no refunds this month) has none.
    Once its account has loaded that is reported, never a failure holding back every channel's stock;
    an account never loaded stays critical."""
    execute(hub, "drop table raw_stripe_main.refunds", "create table raw_stripe_main._dlt_loads (load_id varchar)",
            "drop table raw_erp_u8.customer")

    report = validate(hub)

    absent = {(o.table_name, o.severity, o.success) for o in report.outcomes if o.expectation == "expect_table_to_exist"}
    assert absent == {("raw_stripe_main.refunds", "info", True), ("raw_erp_u8.customer", "critical", False)}
    assert [o.table_name for o in report.critical] == ["raw_erp_u8.customer"]


def test_cli_validate_prints_failures_and_exits_1_on_critical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_env(monkeypatch, tmp_path)
    config_path = small_config(tmp_path)
    hub = load_config(config_path)
    write_raw_tables(hub)
    write_marts(hub)
    monkeypatch.setattr(cli.console, "width", 250)
    runner = CliRunner()

    clean = runner.invoke(cli.app, ["validate", "--config", str(config_path)])
    assert clean.exit_code == 0, clean.output
    assert "passed: 0 critical, 0 warning(s)" in clean.output
    assert f"Data Docs: {hub_home() / 'data_docs' / 'index.html'}" in clean.output

    execute(hub, "update marts.fct_inventory set quantity_on_hand = -3 where product_id = 'CH-0001-M'")
    failed = runner.invoke(cli.app, ["validate", "--config", str(config_path)])
    assert failed.exit_code == 1, failed.output
    assert "FAILED: 1 critical" in failed.output
    [row] = [line for line in failed.output.splitlines() if "marts.fct_inventory" in line]
    assert "critical" in row and "quantity_on_hand" in row and "expect_column_values_to_be_between" in row
