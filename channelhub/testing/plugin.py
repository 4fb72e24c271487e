"""pytest plugin registered under ``pytest11``: fixtures every connector's contract tests need."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import fresh_postgres_database

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    """Remember on the test item whether any phase failed, for fixtures that clean up after failures
    only (the contract catches its shared source up after a failed test, not after every test)."""
    report: pytest.TestReport = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL service, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url
