"""The dbt project: layers and materialisations, the macros every model shares, and the contracts
the mart quality suites are derived from. No warehouse needed beyond a scratch DuckDB file."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import great_expectations.expectations as gxe
import pytest
import yaml

from connectors.sdk import ConfigError
from expectations import CRITICAL, WARNING, mart_suites
from expectations.contracts import suite_for
from transforms import mart_names, project, seeds
from transforms.project import Dbt
from warehouse import Warehouse, ensure_tables


@pytest.fixture(scope="module")
def dbt(tmp_path_factory: pytest.TempPathFactory) -> Dbt:
    scratch = tmp_path_factory.mktemp("dbt")
    return Dbt(Warehouse(f"duckdb:///{scratch}/scratch.duckdb"), scratch / "work")


def test_layers_land_in_their_schemas_with_their_materialisation(dbt: Dbt) -> None:
    models = {node.name: node for node in dbt.models()}
    position = {name: i for i, name in enumerate(models)}
    for node in models.values():
        layer = node.fqn[1]
        assert node.schema == layer, node.name
        incremental = ("int_shopify__orders", "fct_orders", "fct_order_lines", "fct_payments",  # on dlt's loads
                       "fct_refunds", "rpt_payment_reconciliation")
        walked_once = ("int_customer_identities",)  # a recursive walk that three models read
        live = ("freshness",)  # a mart that is a view on ops.run_log: data age as of the query
        assert node.config.materialized == ("incremental" if node.name in incremental else "table"
                                            if node.name in walked_once else "view" if node.name in live else {
            "staging": "view", "intermediate": "view"}.get(layer, "table")), node.name
        assert node.name in live or node.name.startswith(
            {"staging": "stg_", "intermediate": "int_"}.get(layer, ("fct_", "dim_", "rpt_")))
        for parent in node.depends_on.nodes:
            if parent.startswith("model."):
                assert position[parent.split(".")[-1]] < position[node.name], node.name
        if layer == "staging":  # staging reads sources only: rename and cast, no joins
            assert not [parent for parent in node.depends_on.nodes if parent.startswith("model.")], node.name
    assert sorted(name for name, node in models.items() if node.fqn[1] == "marts") == mart_names()


def test_selectors_follow_dbt_and_a_change_of_logic_changes_the_fingerprint(dbt: Dbt) -> None:
    downstream = [n.name for n in dbt.models(["stg_stripe__refunds+"])]
    assert downstream[:3] == ["stg_stripe__refunds", "int_stripe__refunds", "fct_refunds"]
    assert set(downstream[3:]) == {"fct_payouts", "rpt_payment_reconciliation"}  # both read fct_refunds
    orders = {n.name: n for n in dbt.models()}
    assert dbt.fingerprint(orders["fct_orders"]) != dbt.fingerprint(orders["fct_order_lines"])
    assert dbt.fingerprint(orders["fct_orders"]) == Dbt(dbt.warehouse, dbt.work_dir).fingerprint(orders["fct_orders"])


def _show(dbt: Dbt, sql: str) -> tuple:
    result = dbt.invoke(["show"], "--inline", sql, "--output", "json")
    assert result.success, result.exception
    return tuple(result.result.results[0].agate_table.rows[0])


def test_from_minor_units_is_exact_by_the_iso_4217_exponent(dbt: Dbt) -> None:
    with dbt.warehouse.engine.begin() as conn:
        ensure_tables(conn, seeds.currencies)
        conn.execute(seeds.currencies.delete())
        conn.execute(seeds.currencies.insert(), seeds.currency_rows())
    row = _show(dbt, "select {{ from_minor_units('123456', \"'usd'\") }} as usd, "
                     "{{ from_minor_units('123456', \"'JPY'\") }} as jpy, "
                     "{{ from_minor_units('123456', \"'kwd'\") }} as kwd, "
                     "{{ from_minor_units('123456', \"'XYZ'\") }} as unknown")
    assert row == (Decimal("1234.56"), Decimal(123456), Decimal("123.456"), None)


def test_phones_are_staged_as_digits_and_a_person_is_keyed_by_an_identifier(dbt: Dbt) -> None:
    row = _show(dbt, "select {{ phone_digits(\"'+86 (138) 0000-1234'\") }} as phone, "
                     "{{ phone_digits(\"' - '\") }} as blank, {{ customer_key(\"'email:a@x.io'\") }} as person, "
                     "{{ customer_key(\"'email:a@x.io'\") }} as again, {{ customer_key(\"'phone:+4912'\") }} as other")
    assert row[:2] == ("+8613800001234", None)
    assert row[2] == row[3] != row[4] and row[2].startswith("cus_") and len(row[2]) == 20


def test_every_mart_has_a_contract_and_its_suite_follows_it() -> None:
    suites = {suite.table: suite for suite in mart_suites()}
    assert sorted(suites) == mart_names()
    orders = {(type(e).__name__, getattr(e, "column", None)): e for e in suites["fct_orders"].expectations}
    assert orders[("ExpectColumnValuesToBeUnique", "order_id")].severity == CRITICAL
    assert orders[("ExpectColumnValuesToBeInSet", "status")].severity == WARNING
    assert "total_amount_deviation" in suites["fct_orders"].derived
    assert {"total_amount", "discount_amount"} <= set(suites["fct_orders"].required_columns())
    stock = [e for e in suites["rpt_stock_availability"].expectations
             if isinstance(e, gxe.ExpectColumnPairValuesAToBeGreaterThanB)]
    assert stock[0].description == "Never allocate more than is available to promise."


def test_a_contract_test_without_a_gate_equivalent_is_an_error(tmp_path: Path) -> None:
    model = yaml.safe_load("name: x\ncolumns:\n  - name: a\n    data_tests: [relationships_typo]")
    with pytest.raises(ConfigError, match="x.yml: model x: test 'relationships_typo' has no quality-gate"):
        suite_for(model, tmp_path / "x.yml")


def test_a_connector_package_ships_its_own_staging_models(dbt: Dbt, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # the older connectors keep their models in transforms/
    assert set(project.connector_models()) == {"woocommerce", "kingdee", "taobao", "spreadsheet", "jd", "pinduoduo",
                                                 "amazon", "guanjiapo", "paypal", "jiandaoyun", "jushuitan", "sap_b1", "alipay",
                                                 "easypost", "wechatpay", "shipstation", "kuaidi100", "sf_express"}
    shipped = tmp_path / "channelhub_fake" / "models" / "staging" / "fake"
    shipped.mkdir(parents=True)
    (shipped / "stg_fake__things.sql").write_text("select 1 as thing_id", encoding="utf-8")
    monkeypatch.setattr(project, "connector_models", lambda: {"fake": tmp_path / "channelhub_fake" / "models"})
    scratch = Dbt(dbt.warehouse, tmp_path / "work")

    [node] = scratch.models(["stg_fake__things"])
    assert (node.schema, node.config.materialized) == ("staging", "view")
    assert scratch.invoke(["run"], "--select", "stg_fake__things").success
    assert _show(scratch, "select * from {{ ref('stg_fake__things') }}") == (1,)
    # dbt writes what it ran under target/, never over the package's or this project's sources
    assert (shipped / "stg_fake__things.sql").read_text(encoding="utf-8") == "select 1 as thing_id"
    assert (tmp_path / "work" / "target" / "run" / "channelhub" / "models_fake" / "staging" / "fake").is_dir()


def test_the_conformed_var_of_plain_dbt_runs_lists_this_projects_conformed_models() -> None:
    """dbt_project.yml's default ``conformed`` var (plain ``dbt`` in transforms/) is what channelhub finds
    in this project's own models, so the two cannot drift; packaged connectors add theirs on top."""
    declared = yaml.safe_load((project.ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["conformed"]
    assert declared == project.conformed_models([project.ROOT / "models"])
    packaged = project.conformed_models(list(project.connector_models().values()))
    assert {"int_woocommerce__orders", "int_taobao__orders"} <= set(packaged["orders"])
    assert {"int_kingdee__stock_levels", "int_spreadsheet__stock_levels"} <= set(packaged["stock_levels"])


def test_a_merchant_builds_only_its_own_connectors_models(dbt: Dbt) -> None:
    """With JD alone configured: no other connector's models but those a mart reads by name; the marts
    union JD's conformed models only, and a role JD does not play keeps one model (no row, typed)."""
    jd_only = Dbt(dbt.warehouse, dbt.work_dir, connectors={"jd"})
    names = {node.name for node in jd_only.models()}
    assert {"stg_jd__orders", "int_jd__orders", "fct_orders", "rpt_stock_availability"} <= names
    assert not {name for name in names if name.startswith(("stg_pinduoduo__", "int_pinduoduo__", "int_taobao__"))}
    assert "stg_shopify__variants" in names  # dim_products reads it
    assert jd_only.conformed["orders"] == ["int_jd__orders"]
    assert len(jd_only.conformed["customers"]) == len(jd_only.conformed["payments"]) == 1
    assert names < {node.name for node in dbt.models()}

    compiled = {item.node.name: item.node for item in jd_only.invoke(["compile"], "--select", "fct_orders").result}
    unioned = set(re.findall(r"int_[a-z0-9_]+__orders", compiled["fct_orders"].compiled_code))
    assert unioned == {"int_jd__orders"}


def test_one_parse_serves_every_database_name(dbt: Dbt, tmp_path: Path) -> None:
    """A manifest names its database; each warehouse gets its own copy renamed, so a test database or
    another DuckDB file costs no parse."""
    other = Dbt(Warehouse(f"duckdb:///{tmp_path}/other_name.duckdb"), tmp_path / "work")
    assert other._parse_key() == dbt._parse_key()
    orders = next(node for node in other.manifest.nodes.values() if node.name == "fct_orders")
    assert (orders.database, orders.relation_name) == ("other_name", '"other_name"."marts"."fct_orders"')
    mine = next(node for node in dbt.manifest.nodes.values() if node.name == "fct_orders")
    assert mine.database == "scratch"
