"""channelhub.yml validation: every error names the account and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from channelhub import config as config_module
from channelhub.config import HubConfig, load_config
from connectors.sdk import CheckResult, ConfigError, Connector, ConnectorKind, ConnectorSettings, Stream


class FakeSettings(ConnectorSettings):
    base_url: str
    token: SecretStr
    page_size: int = 50


class FakeConnector(Connector):
    name = "fake"
    kind = ConnectorKind.CHANNEL
    settings_model = FakeSettings
    streams = (Stream("orders", ("id",)),)

    def source(self, account):  # pragma: no cover - not run here
        raise NotImplementedError

    def check(self, account) -> CheckResult:  # pragma: no cover
        return CheckResult(True, "ok")


@pytest.fixture(autouse=True)
def fake_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    real, real_installed = config_module.get_connector, config_module.require_installed
    monkeypatch.setattr(config_module, "get_connector",
                        lambda name: FakeConnector() if name == "fake" else real(name))
    monkeypatch.setattr(config_module, "require_installed", lambda name: None if name == "fake" else real_installed(name))


def hub(**account) -> HubConfig:
    return HubConfig.model_validate({"accounts": {"shop_a": {"connector": "fake", **account}}})


def test_secrets_come_from_the_environment_and_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_A_TOKEN", "shpat_real")
    account = hub(settings={"base_url": "http://x"}, secrets={"token": {"env": "SHOP_A_TOKEN"}}).account("shop_a")
    assert account.settings.token.get_secret_value() == "shpat_real"
    assert "shpat_real" not in repr(account.settings)
    assert account.dataset == "raw_shop_a"


def test_missing_secret_names_account_secret_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_A_TOKEN", raising=False)
    config = hub(settings={"base_url": "http://x"}, secrets={"token": {"env": "SHOP_A_TOKEN"}})
    with pytest.raises(ConfigError, match="account 'shop_a', secret 'token': environment variable SHOP_A_TOKEN"):
        config.account("shop_a")


def test_bad_setting_names_account_connector_and_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", "x")
    config = hub(settings={"base_url": "http://x", "page_size": "many"}, secrets={"token": {"env": "T"}})
    with pytest.raises(ConfigError, match="account 'shop_a', connector 'fake', settings field 'page_size'"):
        config.account("shop_a")


def test_unknown_setting_is_an_error_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", "x")
    config = hub(settings={"base_url": "http://x", "shop_ulr": "typo"}, secrets={"token": {"env": "T"}})
    with pytest.raises(ConfigError, match="settings field 'shop_ulr': Extra inputs are not permitted"):
        config.account("shop_a")


def test_secret_given_as_plain_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T", "x")
    config = hub(settings={"base_url": "http://x", "token": "inline"}, secrets={"token": {"env": "T"}})
    with pytest.raises(ConfigError, match=r"account 'shop_a': \['token'\] must be under secrets:"):
        config.account("shop_a")


def test_unknown_connector_is_named_at_its_own_field(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yml"
    path.write_text("accounts:\n  x: {connector: nope}\nstock:\n  channels: {x: {}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as failure:
        load_config(path)
    assert "field 'accounts.x.connector'" in str(failure.value) and "unknown connector 'nope' (installed: " in str(
        failure.value)
    assert "field 'stock" not in str(failure.value)


@pytest.mark.parametrize(("text", "key", "lines"), [
    ("accounts:\n  shop_us: {connector: fake}\n  shop_us: {connector: fake, enabled: false}\n", "shop_us", (2, 3)),
    ("accounts:\n  a:\n    connector: fake\n    schedule: '@daily'\n    schedule: '@hourly'\n", "schedule", (4, 5)),
    ("accounts: {a: {connector: fake}}\nstock:\n  channels:\n    a: {percentage: 60, floor: 2}\n    a: {}\n", "a",
     (4, 5)),
], ids=["account", "setting", "stock-channel"])
@pytest.mark.reliability
def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path, text: str, key: str,
                                                         lines: tuple[int, int]) -> None:
    """A key given twice in channelhub.yml is an error naming both lines."""
    path = tmp_path / "channelhub.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=f"key '{key}' appears twice in one mapping: at line {lines[0]} and at "
                                          f"line {lines[1]}"):
        load_config(path)


@pytest.mark.parametrize(("raw", "message"), [
    ({"accounts": {"Shop-A": {"connector": "fake"}}}, "account name 'Shop-A'"),
    ({"accounts": {"a": {"connector": "fake", "schedule": "sometimes"}}}, "field 'accounts.a.schedule'"),
    ({"accounts": {"a": {"connector": "fake", "secrets": {"t": {"envv": "X"}}}}}, "accounts.a.secrets.t.envv"),
], ids=["account-name", "schedule", "secret-ref"])
def test_file_errors_name_the_path(tmp_path: Path, raw: dict, message: str) -> None:
    import yaml

    path = tmp_path / "channelhub.yml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(path)


def test_env_overrides_warehouse_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNELHUB_WAREHOUSE_URL", "postgresql://u@h/db")
    assert hub().warehouse_url == "postgresql://u@h/db"


def test_shipped_config_is_valid() -> None:
    config = load_config(Path(__file__).parents[1] / "channelhub.yml")
    assert {"shop_us", "shop_eu", "stripe_main", "erp_u8", "store_files"} <= set(config.accounts)


def test_alert_and_access_sections_name_what_is_wrong() -> None:
    accounts = {"shop": {"connector": "fake"}}
    with pytest.raises(ValueError, match="unshipped_after_by_channel names no account: \\['shop_xx'\\]"):
        HubConfig.model_validate({"accounts": accounts, "alerts": {"unshipped_after_by_channel": {"shop_xx": "PT1H"}}})
    with pytest.raises(ValueError, match="department name 'Finance' must be lower-case"):
        HubConfig.model_validate({"accounts": accounts, "access": {"departments": {"Finance": {"marts": ["dim_channels"]}}}})
    from transforms.access import departments

    wrong = HubConfig.model_validate({"accounts": accounts, "access": {"departments": {"ops": {"marts": ["fct_oders"]}}}})
    with pytest.raises(ConfigError, match="access.departments.ops: no mart named fct_oders"):
        departments(wrong)
