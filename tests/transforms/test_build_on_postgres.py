"""The build on PostgreSQL, the production warehouse: the tests of test_build.py whose SQL differs there
(incremental merges, column comments, the quality gates' queries, a failing model's transaction, the
password in the warehouse URL), each checked against the World as on DuckDB.

Tests that exercise logic no warehouse changes (model selection, DuckDB's memory cap, which models a
change of SQL rebuilds) run on DuckDB only. A module of its own, so pytest-xdist builds the two
merchants on two workers at once.
"""

from __future__ import annotations

import pytest

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
