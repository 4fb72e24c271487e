"""The layering rules of the README hold (the import-linter contracts in pyproject.toml are kept), and every
installed connector is held to the contract under its one name."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_layering_contract_is_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_installed_connector_runs_the_contract_on_both_warehouses() -> None:
    """One name per connector everywhere: each connector found through the entry points has its test
    module, tests/connectors/test_<name>.py, with the contract on DuckDB and its PostgreSQL parity, and
    a sandbox registered under the same name."""
    from importlib.metadata import entry_points

    from channelhub.testing import ConnectorContract, PostgresParity
    from connectors.sdk import available_connectors

    sandboxes = {entry.name for entry in entry_points(group="channelhub.sandboxes")}
    for name in available_connectors():
        module = importlib.import_module(f"tests.connectors.test_{name}")
        classes = [value for value in vars(module).values() if isinstance(value, type)]
        assert any(issubclass(c, ConnectorContract) and c is not ConnectorContract for c in classes), name
        assert any(issubclass(c, PostgresParity) and c is not PostgresParity for c in classes), name
        assert name in sandboxes, f"connector {name!r} has no sandbox entry point"
