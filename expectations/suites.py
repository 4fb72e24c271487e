"""The quality rules, as code: one Great Expectations suite per warehouse table.

Every expectation carries GX's own ``severity``:

- ``critical``: the data cannot be trusted to drive stock write-back (broken keys, missing tables,
  negative or over-allocated stock). A critical failure makes the run fail and blocks the sync.
- ``warning``: a business rule is off (unknown status, a total off by more than a cent, refunds above
  the captured amount, a table that shrank or grew drastically). Reported, never blocking.
- ``info``: business exceptions the data shows rather than errors in it (open reconciliation cases,
  codes that match no SKU), reported next to the checks for the people who act on them.

Raw suites are derived from the streams each account really loads (``Connector.streams_for``, with their
declared primary keys), so a new connector or account is covered without editing this file. Mart suites are derived from the marts'
contracts (:mod:`expectations.contracts`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import great_expectations.expectations as gxe
import sqlalchemy as sa
import sqlglot
from dlt.common.normalizers.naming.snake_case import NamingConvention
from great_expectations.expectations import Expectation

from warehouse import Hub

CRITICAL, WARNING, INFO = "critical", "warning", "info"
# A table between half and double its size at the last good run is normal growth or churn; outside
# that band a load most likely went missing or was duplicated.
ROW_COUNT_BAND = (0.5, 2.0)
ROW_COUNT_EXPECTATION = "expect_table_row_count_to_be_between"
# dlt normalises source column names (U8's ``cInvCode`` lands as ``c_inv_code``) with this convention.
_DLT_NAMING = NamingConvention()


@dataclass(frozen=True)
class TableSuite:
    """The expectations of one table, plus the derived columns (SQL expressions, computed in the
    warehouse in exact NUMERIC) some of them read.

    Only the columns the expectations name are selected, so a million-row table costs a few narrow
    columns, not the whole row."""

    schema: str
    table: str
    expectations: tuple[Expectation, ...]
    derived: dict[str, str] = field(default_factory=dict)
    missing_hint: str = ""

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def checked_columns(self) -> list[str]:
        """Columns the expectations read directly from the table (derived ones are computed)."""
        names = (c for e in self.expectations for c in expectation_columns(e) if c not in self.derived)
        return list(dict.fromkeys(names))

    def required_columns(self) -> list[str]:
        """Every table column this suite needs, including those the derived columns are computed from."""
        sources = (column.name for expression in self.derived.values()
                   for column in sqlglot.parse_one(expression).find_all(sqlglot.exp.Column))
        return list(dict.fromkeys([*self.checked_columns(), *sources]))

    def select(self) -> sa.Select:
        columns = [sa.column(name) for name in self.checked_columns()]
        derived = [sa.literal_column(expression).label(name) for name, expression in self.derived.items()]
        return sa.select(*columns, *derived).select_from(sa.table(self.table, schema=self.schema))

    def with_row_count_band(self, baseline: int | None) -> TableSuite:
        """Add the row-count check against the last good run. Without a baseline (no successful run yet,
        or the table was empty then) the count is only recorded: growth from nothing is no alarm."""
        if not baseline:
            check = gxe.ExpectTableRowCountToBeBetween(
                min_value=0, severity=WARNING,
                description="No baseline from an earlier successful run: the row count is recorded "
                            "for the next run's band.")
        else:
            low, high = ROW_COUNT_BAND
            check = gxe.ExpectTableRowCountToBeBetween(
                min_value=math.ceil(baseline * low), max_value=math.floor(baseline * high), severity=WARNING,
                description=f"Row count within {low:.0%}-{high:.0%} of the last successful run "
                            f"({baseline:,} rows).")
        return replace(self, expectations=(*self.expectations, check))


def expectation_columns(expectation: Expectation) -> list[str]:
    """The columns an expectation reads, whatever its domain (column, pair or column list)."""
    single = [getattr(expectation, key, None) for key in ("column", "column_A", "column_B")]
    return [c for c in single if c] + list(getattr(expectation, "column_list", None) or [])


def _key(columns: Iterable[str]) -> list[Expectation]:
    """Not-null on every key column, and uniqueness of the key (single or compound). Critical:
    duplicated or missing keys fan out joins and double-count orders and stock."""
    columns = list(columns)
    checks = _not_null(*columns)
    if len(columns) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=columns[0], severity=CRITICAL))
    else:
        checks.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=columns, severity=CRITICAL))
    return checks


def _not_null(*columns: str) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, severity=CRITICAL) for c in columns]


def raw_suites(hub: Hub) -> list[TableSuite]:
    """Key checks of every stream every enabled account loads, from its connector's declaration: a U8
    account that loads three tables is not failed for the three it never reads. A stream's declared
    business key (``Stream.unique``: a stock row's warehouse, item and batch) and ``not_null`` columns
    (its quantities) are critical too: a duplicated stock row is summed, a NULL quantity read as 0."""
    suites = []
    for name in hub.enabled_accounts():
        account = hub.account(name, resolve_secrets=False)
        for stream in account.connector.streams_for(account):
            normal = _DLT_NAMING.normalize_identifier
            checks = _key(normal(column) for column in stream.primary_key)
            if stream.unique:
                checks += _key(normal(column) for column in stream.unique)
            checks += _not_null(*(normal(column) for column in stream.not_null))
            suites.append(TableSuite(
                f"raw_{name}", normal(stream.name), tuple(checks),
                missing_hint=f"has account {name!r} been loaded? (`channelhub run {name}`)"))
    return suites
