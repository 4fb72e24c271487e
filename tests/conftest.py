"""The reliability table: every test marked ``reliability`` is a failure scenario, named by the first line
of its docstring; after a run that included any, the terminal shows scenario → result."""

from __future__ import annotations

import pytest

SCENARIO = "scenario"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("reliability") and isinstance(item, pytest.Function):
            doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
            params = f" [{item.callspec.id}]" if hasattr(item, "callspec") else ""
            item.user_properties.append((SCENARIO, doc + params))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    rows = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            scenario = dict(getattr(report, "user_properties", ())).get(SCENARIO)
            if scenario and report.when == "call":
                rows.append((report.nodeid.split("::")[0].rsplit("/", 1)[-1], scenario, outcome.upper()))
    if rows:
        terminalreporter.write_sep("=", "reliability: scenario → result")
        for module, scenario, result in sorted(rows):
            terminalreporter.write_line(f"{result:<7} {module:<28} {scenario}")
