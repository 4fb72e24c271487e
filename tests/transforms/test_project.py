"""The model graph is read from the SQL itself: order, errors, and rendering for each warehouse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from connectors.sdk import ConfigError
from transforms.project import load_project, render


def write(root: Path, layer: str, name: str, sql: str) -> None:
    (root / layer).mkdir(parents=True, exist_ok=True)
    (root / layer / f"{name}.sql").write_text(sql, encoding="utf-8")


def test_shipped_models_build_in_dependency_order() -> None:
    project = load_project()
    position = {model.name: i for i, model in enumerate(project.models)}
    assert {"fct_orders", "rpt_payment_reconciliation", "rpt_stock_availability", "dim_customers"} <= position.keys()
    for model in project.models:
        assert all(position[dep] < position[model.name] for dep in model.depends_on), model.name
    assert "fct_orders" in project.model("rpt_payment_reconciliation").depends_on
    assert project.model("fct_orders").materialized == "incremental"
    assert project.model("stg_shopify__orders").materialized == "view"
    assert project.model("dim_products").materialized == "table"


def test_ctes_and_external_tables_are_not_dependencies(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a__things", "with source as (select * from sources.a__things) "
                                                "select * from source")
    write(tmp_path, "marts", "dim_things", "with things as (select * from stg_a__things), "
                                           "final as (select * from things) select * from final")
    project = load_project(tmp_path)
    assert [m.name for m in project.models] == ["stg_a__things", "dim_things"]
    assert project.model("dim_things").depends_on == ("stg_a__things",)
    assert project.downstream({"stg_a__things"})[-1].name == "dim_things"


@pytest.mark.parametrize(("files", "message"), [
    ({("marts", "a"): "select * from b", ("marts", "b"): "select * from a"}, "cycle"),
    ({("marts", "a"): "select * from nowhere"}, "reads ['nowhere'], which no model defines"),
    ({("marts", "a"): "select * from raw_shop.orders"}, "refer to models by bare name"),
    ({("staging", "s"): "select 1 as x", ("staging", "t"): "select * from s"}, "staging models read only sources"),
    ({("marts", "a"): "-- materialized: incremental\nselect 1 as x"}, "needs unique_key and watermark"),
    ({("marts", "a"): "select from where"}, "a.sql"),
], ids=["cycle", "unknown-model", "raw-table", "staging-join", "incremental-config", "parse-error"])
def test_a_broken_project_fails_before_anything_runs(tmp_path: Path, files: dict, message: str) -> None:
    for (layer, name), sql in files.items():
        write(tmp_path, layer, name, sql)
    with pytest.raises(ConfigError, match="transforms: ") as error:
        load_project(tmp_path)
    assert message in str(error.value)


def test_render_qualifies_models_and_transpiles_for_postgres(tmp_path: Path) -> None:
    write(tmp_path, "staging", "stg_a__things", "select * from sources.a__things")
    write(tmp_path, "marts", "dim_things",
          "with things as (select * from stg_a__things) "
          "select string_agg(name, ',' order by name) as names, regexp_replace(phone, '[^0-9]', '', 'g') as p "
          "from things")
    project = load_project(tmp_path)
    duck = render(project.model("dim_things"), project, "duckdb")
    pg = " ".join(render(project.model("dim_things"), project, "postgres").split())
    for sql in (duck, pg):
        assert "staging.stg_a__things" in sql
        assert "FROM things" in sql  # the CTE stays a CTE
    assert "STRING_AGG(name, ',' ORDER BY name)" in pg
    assert "REGEXP_REPLACE(phone, '[^0-9]', '', 'g')" in pg


def test_from_minor_units_is_exact_and_knows_zero_decimal_currencies(tmp_path: Path) -> None:
    write(tmp_path, "marts", "amounts", "select from_minor_units(123456, 'usd') as usd, "
                                        "from_minor_units(123456, 'JPY') as jpy")
    project = load_project(tmp_path)
    row = duckdb.sql(render(project.model("amounts"), project, "duckdb")).fetchone()
    assert row == (Decimal("1234.56"), Decimal(123456))
    assert "from_minor_units" not in render(project.model("amounts"), project, "postgres").lower()
