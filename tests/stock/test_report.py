"""``channelhub sync-stock``: the diff and outcome tables it prints and its exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from channelhub.cli import app, console
from tests.stock.conftest import StockEnv, raised

runner = CliRunner()


def invoke(env: StockEnv, tmp_path: Path, *args: str):
    path = tmp_path / "stock.yml"
    path.write_text(yaml.safe_dump(env.config), encoding="utf-8")
    return runner.invoke(app, ["sync-stock", "--config", str(path), *args])


def test_cli_prints_the_diff_and_exits_1_only_when_a_channel_is_refused_or_failed(
        make_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)  # one table row per line
    env: StockEnv = make_env(skus=60)
    env.load()
    env.build(raised)
    refused = invoke(env, tmp_path, "--dry-run")
    assert refused.exit_code == 1, refused.output
    assert "refused" in refused.output and "no quality run recorded" in refused.output

    env.validate()
    dry = invoke(env, tmp_path, "--dry-run", "--account", "shop_us")
    assert dry.exit_code == 0, (dry.output, dry.exception)
    sku = env.world.skus[0].code
    old, new = env.held("shop_us")[sku], env.allocated("shop_us")[sku]
    assert "dry run: nothing pushed" in dry.output and "dry-run" in dry.output
    assert any(sku in line and f" {old} " in line and f" {new} " in line for line in dry.output.splitlines())
    assert "... 10 more" in dry.output and "shop_eu" not in dry.output
    assert env.mutations("shop_us") == [] and env.push_log() == []

    pushed = invoke(env, tmp_path)
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.count("synced") == 2 and env.held("shop_us") == env.allocated("shop_us")

    env.sandboxes["shop_eu"].faults.server_error = 10
    env.reallocate(lambda shop, index, current: current + 1)
    failed = invoke(env, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert any("shop_eu" in line and "failed" in line and "60 failed, 0 stale of 60 changes" in line
               for line in failed.output.splitlines())
