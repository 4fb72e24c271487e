"""pytest plugin registered under ``pytest11``: fixtures every connector's contract tests need."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .postgres import fresh_postgres_database

if TYPE_CHECKING:
    from .contract import ContractEnv

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


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A PostgreSQL contract class runs with the end-to-end checks (``-m e2e``) unless it is one of the
    suite's few that cover a load path (:attr:`PostgresParity.in_quick_suite`): the rows a source lands on
    PostgreSQL go through the same destination whichever API they came from. Likewise the failure
    scenarios (``reliability``) of a connector's test module, the contract's and its own, unless its
    contract class is one of those (:attr:`ConnectorContract.scenarios_in_quick_suite`)."""
    from .contract import ConnectorContract, PostgresParity

    for item in items:
        cls = getattr(item, "cls", None)
        parity_elsewhere = cls is not None and issubclass(cls, PostgresParity) and not cls.in_quick_suite
        scenario = item.get_closest_marker("reliability") is not None
        if parity_elsewhere or scenario and _scenarios_elsewhere(item, ConnectorContract):
            item.add_marker(pytest.mark.e2e)


def _scenarios_elsewhere(item: pytest.Item, contract: type) -> bool:
    """Whether ``item``'s module holds a connector contract whose scenarios run with the e2e checks."""
    module = getattr(item, "module", None)
    classes = [value for value in vars(module).values() if isinstance(value, type) and issubclass(value, contract)
               and value is not contract] if module is not None else []
    return bool(classes) and not any(cls.scenarios_in_quick_suite for cls in classes)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL service (CHANNELHUB_TEST_PG)")
    config.addinivalue_line("markers", "reliability: a failure scenario, listed in the reliability table")


@pytest.fixture
def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ContractEnv]]:
    """Envs of a test's own, beside the contract's shared one (a small shop to change at will):
    ``make_env(Env, *args, **options)`` is ``Env(tmp_path, *args, **options)`` with the env's variables
    and a home of its own set; every env made is closed after the test."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    envs: list[ContractEnv] = []

    def make(env_class: type[ContractEnv], *args: Any, **options: Any) -> ContractEnv:
        for variable, value in env_class.environment.items():
            monkeypatch.setenv(variable, value)
        envs.append(env_class(tmp_path, *args, **options))
        return envs[-1]

    yield make
    for env in envs:
        env.close()

