"""The build on PostgreSQL, the production warehouse: the tests of test_build.py whose SQL differs there
(incremental merges, column comments, the quality gates' queries, a failing model's transaction, the
password in the warehouse URL), each checked against the World as on DuckDB.

Tests that exercise logic no warehouse changes (model selection, DuckDB's memory cap, which models a
change of SQL rebuilds) run on DuckDB only. A module of its own, so pytest-xdist builds the two
merchants on two workers at once.
"""

from __future__ import annotations

import uuid

import psycopg2.errors
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

import transforms
from channelhub.config import AccessConfig, HubConfig
from channelhub.fleet import Fleet
from tests.pipeline import query, scalar
from transforms import mart_names
from transforms.access import apply_access, departments
from warehouse import Warehouse

# isort: off
# In test_build.py's order: the tests share one merchant, and the later ones change it.
from tests.transforms.test_build import (  # noqa: F401  (pytest collects the imported tests and fixtures)
    built,
    edited_project,
    test_every_mart_is_in_marts_with_exactly_its_contracts_columns,
    test_the_warehouse_carries_the_contracts_descriptions_as_comments,
    test_freshness_shows_each_accounts_last_load_and_its_age_now,
    test_the_built_merchant_passes_every_quality_gate,
    test_built_allocations_reach_both_shops,
    test_orders_and_money_match_what_the_shops_sold,
    test_one_customer_across_shops_payments_and_erp,
    test_stock_availability_nets_open_orders_and_applies_the_policy,
    test_reconciliation_finds_exactly_the_planted_discrepancies,
    test_daily_sales_measures_are_finances_and_leave_test_and_cancelled_orders_aside,
    test_alerts_name_the_worlds_unshipped_orders_open_reconciliation_cases_and_short_stock,
    test_the_report_renders_offline_in_chromium_with_every_chart_and_no_console_error,
    test_merchant_mapping_overrides_code_matching_and_reaches_built_facts,
    test_incremental_build_ends_where_a_full_build_does,
    test_no_secret_reaches_dbt_logs_artifacts_or_docs,
    test_a_failing_model_keeps_the_previous_mart_and_skips_its_dependants,
    test_stock_cannot_leak_through_unknown_codes_or_removed_listings,
    test_bundles_are_as_available_as_their_scarcest_component_and_reserve_their_components,
    test_stock_counted_under_unknown_codes_is_quarantined_and_warned_never_blocking,
)
# isort: on

pytestmark = pytest.mark.e2e  # a whole chain, as test_build.py

WAREHOUSE = "postgres"


def _as(hub: HubConfig, role: str) -> sa.Engine:
    return sa.create_engine(sa.engine.make_url(hub.warehouse_url).set(username=role, password=None), poolclass=NullPool)


def _denied(engine: sa.Engine, *statements: str) -> None:
    """Each statement, in its own session, refused for want of a privilege."""
    for statement in statements:
        with engine.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="permission denied") as refused:
            conn.execute(sa.text("set default_transaction_read_only = off"))  # switching read-only off: no help
            conn.commit()
            conn.execute(sa.text(statement))
        assert isinstance(refused.value.orig, psycopg2.errors.InsufficientPrivilege), statement


def test_each_department_reads_only_its_views_with_pii_masked_and_can_write_nothing(
        built: tuple[HubConfig, Fleet]) -> None:  # noqa: F811 (the fixture imported above)
    hub = built[0].model_copy(update={"access": AccessConfig(role_prefix=f"t{uuid.uuid4().hex[:8]}_")})
    wanted = departments(hub)
    try:
        apply_access(hub)
        counts = {mart: scalar(hub, f"select count(*) from marts.{mart}") for mart in mart_names()}
        for department in wanted:
            engine = _as(hub, department.role)
            with engine.connect() as conn:
                assert conn.execute(sa.text("show transaction_read_only")).scalar() == "on"
                for mart in department.marts:  # unqualified: the role's search_path is its schema
                    assert conn.execute(sa.text(f"select count(*) from {mart}")).scalar() == counts[mart]
            others = [f"bi_{other.name}.{mart}" for other in wanted if other is not department
                      for mart in other.marts if mart not in department.marts][:3]
            _denied(engine, *(f"select * from {view}" for view in others),
                    "select * from marts.fct_orders", "select * from raw_shop_us.orders", "select * from ops.run_log",
                    f"insert into {department.schema}.dim_channels select * from {department.schema}.dim_channels",
                    f"create table {department.schema}.mine (x int)", "create table public.mine (x int)",
                    "create temporary table mine (x int)", "create schema mine", "create view public.v as select 1")
            engine.dispose()

        emails = {row["customer_id"]: row["email"] for row in query(
            hub, "select customer_id, email from marts.dim_customers where email is not null")}
        seen = {}
        for name in ("finance", "sales"):
            with _as(hub, f"{hub.access.role_prefix}{name}").connect() as conn:
                seen[name] = dict(conn.execute(sa.text("select customer_id, email from dim_customers "
                                                       "where email is not null")).all())
        assert emails and seen["sales"] == emails  # sales serves the customers: it sees them
        assert seen["finance"] == {key: f"{email[0]}***@{email.split('@')[1]}" for key, email in emails.items()}

        transforms.build(hub, select=["dim_channels"])  # a rebuilt mart drops its views: the build puts them back
        with _as(hub, f"{hub.access.role_prefix}finance").connect() as conn:
            assert conn.execute(sa.text("select count(*) from dim_channels")).scalar() == counts["dim_channels"]
    finally:
        with Warehouse(hub.warehouse_url).engine.begin() as conn:
            for department in wanted:
                if conn.execute(sa.text("select 1 from pg_roles where rolname = :r"), {"r": department.role}).first():
                    conn.execute(sa.text(f'drop owned by "{department.role}"'))
                    conn.execute(sa.text(f'drop role "{department.role}"'))
