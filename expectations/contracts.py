"""The mart suites, derived from each mart's contract: the YAML beside its model in
``transforms/models/marts``. Grain, columns, keys, accepted values and constraints are written there
once; dbt documents them (dbt docs, column comments in the warehouse) and this module turns their
data tests into Great Expectations expectations, so the gate checks exactly what the contract says.

A test's dbt severity is the gate's: ``error`` (dbt's default) is critical and blocks stock
write-back, ``warn`` is a warning, and ``meta: {gate: info}`` marks a business exception report (open
reconciliation cases, unmapped codes): shown in Data Docs and recorded, never a failure of the gate.
``config.meta.description`` becomes the expectation's description.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import yaml
from great_expectations.expectations import Expectation

from connectors.sdk import ConfigError
from transforms.project import MARTS, MARTS_SCHEMA

from .suites import CRITICAL, INFO, WARNING, TableSuite

Builder = Callable[[str | None, dict[str, Any], dict[str, Any]], Expectation]


def _column(column: str | None, test: str) -> str:
    if column is None:
        raise ConfigError(f"contract test {test!r} belongs under a column")
    return column


def _anchored(regex: str) -> str:
    """Patterns match the whole value (``^...$``): DuckDB's ``~`` always does and PostgreSQL's only
    when anchored, so only anchored patterns mean the same on both warehouses."""
    if not (regex.startswith("^") and regex.endswith("$")):
        raise ConfigError(f"matches_pattern {regex!r}: anchor the pattern with ^ and $ (it must match the whole value)")
    return regex


BUILDERS: dict[str, Builder] = {
    "unique": lambda column, args, kw: gxe.ExpectColumnValuesToBeUnique(column=_column(column, "unique"), **kw),
    "not_null": lambda column, args, kw: gxe.ExpectColumnValuesToNotBeNull(column=_column(column, "not_null"), **kw),
    "accepted_values": lambda column, args, kw: gxe.ExpectColumnValuesToBeInSet(
        column=_column(column, "accepted_values"), value_set=list(args["values"]), **kw),
    "accepted_range": lambda column, args, kw: gxe.ExpectColumnValuesToBeBetween(
        column=_column(column, "accepted_range"), min_value=args.get("min_value"), max_value=args.get("max_value"),
        **kw),
    "matches_pattern": lambda column, args, kw: gxe.ExpectColumnValuesToMatchRegex(
        column=_column(column, "matches_pattern"), regex=_anchored(args["regex"]), **kw),
    "at_least": lambda column, args, kw: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=_column(column, "at_least"), column_B=args["other"], or_equal=True, **kw),
    "unique_combination_of_columns": lambda column, args, kw: gxe.ExpectCompoundColumnsToBeUnique(
        column_list=list(args["combination_of_columns"]), **kw),
    "within_tolerance": lambda column, args, kw: gxe.ExpectColumnValuesToBeBetween(
        column=args["name"], min_value=-args["tolerance"], max_value=args["tolerance"], **kw),
}


def _tests(model: dict[str, Any]) -> Iterator[tuple[str | None, str, dict[str, Any], dict[str, Any]]]:
    """(column or None for model-level, test name, arguments, config) of every data test."""
    scoped = [(None, model.get("data_tests") or [])]
    scoped += [(column["name"], column.get("data_tests") or []) for column in model.get("columns") or []]
    for column, tests in scoped:
        for test in tests:
            if isinstance(test, str):
                yield column, test, {}, {}
            else:
                ((name, spec),) = test.items()
                yield column, name, dict(spec.get("arguments") or {}), dict(spec.get("config") or {})


def suite_for(model: dict[str, Any], path: Path) -> TableSuite:
    expectations, derived = [], {}
    for column, test, arguments, config in _tests(model):
        if test not in BUILDERS:
            raise ConfigError(f"{path.name}: model {model['name']}: test {test!r} has no quality-gate "
                              f"equivalent (known: {', '.join(sorted(BUILDERS))})")
        meta = config.get("meta") or {}
        options = {"severity": INFO if meta.get("gate") == "info" else
                   WARNING if config.get("severity") == "warn" else CRITICAL}
        if description := meta.get("description"):
            options["description"] = description
        expectations.append(BUILDERS[test](column, arguments, options))
        if test == "within_tolerance":
            derived[arguments["name"]] = arguments["expression"]
    return TableSuite(MARTS_SCHEMA, model["name"], tuple(expectations), derived,
                      missing_hint="have the marts been built? (`channelhub build`)")


def mart_suites(folder: Path = MARTS) -> list[TableSuite]:
    """One suite per mart, from the contracts in ``folder``."""
    suites = []
    for path in sorted(folder.glob("*.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []:
            suites.append(suite_for(model, path))
    return suites
