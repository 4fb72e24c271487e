"""``channelhub connector new``: the generated connector passes the contract against its generated
sandbox before any edit, on DuckDB and PostgreSQL, and is lint-clean.

The connector is generated into a scratch project (a copy of pyproject.toml) and registered the way an
install would: a ``.dist-info`` with the entry points the command wrote. Its own test module then runs
in a fresh pytest, as an integration engineer would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channelhub.cli import app
from channelhub.scaffold import LAYOUT

ROOT = Path(__file__).parents[1]


def install_entry_points(project: Path, site: Path, name: str) -> None:
    """What ``pip install`` writes for discovery: a dist-info holding the project's entry points."""
    groups = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]
    info = site / "channelhub_scratch-0.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: channelhub-scratch\nVersion: 0.0.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for entry, target in entries.items() if entry == name)
        for group, entries in groups.items() if group.startswith("channelhub.")), encoding="utf-8")


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.parametrize(("style", "kind", "name"), [("rest", "channel", "acme_market"),
                                                     ("gateway", "channel", "acme_gateway"),
                                                     ("file", "file", "acme_files"),
                                                     ("sql", "erp", "acme_erp")])
def test_a_generated_connector_passes_the_contract_before_any_edit(tmp_path: Path, style: str, kind: str,
                                                                   name: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8")

    result = CliRunner().invoke(app, ["connector", "new", name, "--kind", kind, "--style", style,
                                      "--root", str(project)])
    assert result.exit_code == 0, result.output
    for path in LAYOUT.values():
        assert (project / path.format(name=name)).is_file(), path
    again = CliRunner().invoke(app, ["connector", "new", name, "--root", str(project)])
    assert again.exit_code == 1 and "exists already" in again.output

    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
                           "--config", f"src = [{str(ROOT)!r}, {str(project)!r}]",  # first-party: both trees
                           "connectors", "sandbox", "tests"], check=False, cwd=project, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout

    install_entry_points(project, tmp_path / "site", name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(project)])}
    run = subprocess.run([sys.executable, "-m", "pytest", f"tests/connectors/test_{name}.py", "-n", "0", "-q",
                          "-p", "no:cacheprovider"], check=False, cwd=project, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-1000:]
