"""``channelhub.yml``: the merchant's accounts, where their secrets live, and the warehouse.

Validation happens here, once, with errors that name the account and the field, so a typo in the
config fails ``channelhub check`` instead of a run at 3 a.m.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator

from channelhub.alerts import AlertsConfig
from channelhub.stock.policy import StockPolicy, bundle_rows, location_rows, policy_rows
from connectors.sdk import Account, ConfigError, get_connector, require_installed

DEFAULT_CONFIG = Path("channelhub.yml")
DEFAULT_WAREHOUSE_URL = "duckdb:///.channelhub/warehouse.duckdb"
ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
CRON_OR_PRESET = re.compile(r"^(@(once|hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Strict):
    """Where one secret comes from. Under Airflow the connection wins; elsewhere the env variable."""

    env: str | None = None
    airflow_conn_id: str | None = None
    airflow_field: Literal["password", "login", "host", "extra"] = "password"


class AccountConfig(_Strict):
    connector: str
    schedule: str = "@daily"
    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    streams: tuple[str, ...] | None = None  # load only these streams; every stream the connector offers when unset
    # the periodic reconciliation (channelhub/reconcile.py): how often (null: never) and how far back a
    # reconciling run re-reads; ISO 8601 durations (P1D, PT6H) or seconds
    reconcile_every: timedelta | None = timedelta(days=1)
    reconcile_lookback: timedelta = timedelta(days=3)
    # the region (ISO 3166 alpha-2: CN, US) this account's phone numbers without a country code are read
    # in, to match people across sources (transforms/phones.py); unset: the country of its time zone
    phone_region: str | None = None

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        import phonenumbers  # ~30 ms: only a config that sets a region pays for it at DAG parse

        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"phone_region {value!r} is not a region with a numbering plan (ISO 3166 alpha-2, "
                             "e.g. CN, US, DE)")
        return value and value.upper()

    @field_validator("connector")
    @classmethod
    def _installed(cls, name: str) -> str:
        try:
            require_installed(name)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return name

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not CRON_OR_PRESET.match(value.strip()):
            raise ValueError(f"{value!r} is neither a cron expression nor an @preset")
        return value


class WarehouseConfig(_Strict):
    url: str = DEFAULT_WAREHOUSE_URL


class SandboxShop(_Strict):
    currency: str = "USD"
    timezone: str = "UTC"
    marketplace: bool = False  # the platform takes the payment (Taobao, JD, Pinduoduo): no Stripe charges
    checkout: tuple[Literal["stripe", "alipay", "wechatpay"], ...] = ("stripe",)  # who takes its web payments
    # who knows its parcels: EasyPost or ShipStation labels, or courier waybills the shop records itself;
    # by default EasyPost for USD and EUR, the shop for CNY (sandbox/world/shipments.py)
    shipper: Literal["easypost", "shipstation", "shop"] | None = None


class SandboxConfig(_Strict):
    """Size and seed of the emulated merchant every sandbox serves (demo and tests)."""

    seed: int = 42
    orders: int = 2_000
    skus: int = 120
    customers: int = 600
    paypal_share: float = Field(0.0, ge=0, le=1)  # of the orders paid at checkout, those paid with PayPal
    shops: dict[str, SandboxShop] = Field(default_factory=dict)


def _names_of(named: dict[str, Any], what: str, becomes: str) -> dict[str, Any]:
    """Names that become database identifiers: lower-case letters, digits and _."""
    for name in named:
        if not ACCOUNT_NAME.match(name):
            raise ValueError(f"{what} name {name!r} must be lower-case letters, digits and _ (it becomes {becomes})")
    return named


class Department(_Strict):
    """One department's part of the warehouse: the marts it reads, as views in its own schema."""

    marts: tuple[str, ...]
    pii: bool = False  # sees customers' emails, phones, names and addresses unmasked
    password_env: str | None = None  # the role's login password, read from this variable (none: trust/cert auth)


class AccessConfig(_Strict):
    """Department roles on the PostgreSQL warehouse (``channelhub access``, transforms/access.py)."""

    role_prefix: str = Field(default="channelhub_", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    departments: dict[str, Department] = Field(default_factory=lambda: {
        "finance": Department(marts=("fct_payments", "fct_refunds", "fct_payouts", "rpt_payment_reconciliation",
                                     "rpt_daily_sales", "fct_orders", "dim_customers", "dim_channels", "freshness")),
        "warehouse": Department(marts=("fct_inventory", "rpt_stock_availability", "dim_products",
                                       "dim_product_listings", "fct_order_lines", "fct_shipments", "fct_tracking_events",
                                       "rpt_fulfilment", "dim_channels", "freshness")),
        "sales": Department(marts=("fct_orders", "fct_order_lines", "fct_refunds", "dim_customers", "dim_channels",
                                   "dim_products", "rpt_daily_sales", "freshness"), pii=True),
        "management": Department(marts=("rpt_daily_sales", "rpt_payment_reconciliation", "rpt_stock_availability",
                                        "rpt_fulfilment", "dim_channels", "freshness")),
    })

    @field_validator("departments")
    @classmethod
    def _names(cls, departments: dict[str, Department]) -> dict[str, Department]:
        return _names_of(departments, "department", "a role and the schema bi_<department>")


class HubConfig(_Strict):
    warehouse: WarehouseConfig = WarehouseConfig()
    sandbox: SandboxConfig = SandboxConfig()
    accounts: dict[str, AccountConfig]
    stock: StockPolicy | None = None  # stock write-back; off when omitted (channelhub/stock/policy.py)
    alerts: AlertsConfig = AlertsConfig()  # reminders and alerts (channelhub/alerts/config.py)
    access: AccessConfig = AccessConfig()  # department roles on a PostgreSQL warehouse

    @field_validator("accounts")
    @classmethod
    def _names(cls, accounts: dict[str, AccountConfig]) -> dict[str, AccountConfig]:
        return _names_of(accounts, "account", "the schema raw_<account>")

    @field_validator("stock")
    @classmethod
    def _stock_targets(cls, stock: StockPolicy | None, info: ValidationInfo) -> StockPolicy | None:
        if stock is not None and "accounts" in info.data:
            stock.check_accounts(info.data["accounts"])
        return stock

    @field_validator("alerts")
    @classmethod
    def _alert_channels(cls, alerts: AlertsConfig, info: ValidationInfo) -> AlertsConfig:
        unknown = set(alerts.unshipped_after_by_channel) - set(info.data.get("accounts", {}))
        if unknown:
            raise ValueError(f"unshipped_after_by_channel names no account: {sorted(unknown)}")
        return alerts

    @property
    def warehouse_url(self) -> str:
        return os.environ.get("CHANNELHUB_WAREHOUSE_URL") or self.warehouse.url

    def account(self, name: str, *, resolve_secrets: bool = True) -> Account:
        if name not in self.accounts:
            raise ConfigError(f"no account {name!r} in channelhub.yml (have: {', '.join(self.accounts)})")
        return build_account(name, self.accounts[name], resolve_secrets=resolve_secrets)

    def enabled_accounts(self) -> list[str]:
        return [name for name, account in sorted(self.accounts.items()) if account.enabled]

    @property
    def home(self) -> Path:
        return home()

    def stock_policy_rows(self) -> list[dict[str, Any]]:
        return policy_rows(self)

    def stock_location_rows(self) -> list[dict[str, Any]]:
        return location_rows(self)

    def bundle_rows(self) -> list[dict[str, Any]]:
        return bundle_rows(self)

    def access_policy(self) -> dict[str, Any]:
        """The department roles, their marts and PII access, passwords resolved from the environment."""
        return {"role_prefix": self.access.role_prefix, "departments": {
            name: {"marts": department.marts, "pii": department.pii, "password_env": department.password_env,
                   "password": department.password_env and os.environ.get(department.password_env)}
            for name, department in self.access.departments.items()}}

    def counted_warehouses(self) -> list[str]:
        return list(self.stock.warehouses) if self.stock and self.stock.warehouses else []

    def counted_stock_sources(self) -> list[str]:
        """The ERP accounts whose stock is on hand (``stock.sources``); empty: every ERP's."""
        return list(self.stock.sources) if self.stock and self.stock.sources else []


def home() -> Path:
    """Local working directory for dlt pipeline state, dbt's files, the docs sites and sandbox files."""
    return Path(os.environ.get("CHANNELHUB_HOME", ".channelhub"))


def _describe(errors: ValidationError, prefix: str) -> str:
    return "; ".join(
        f"{prefix}field {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" for e in errors.errors()
    )


class DuplicateKey(yaml.YAMLError):
    pass


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: PyYAML keeps the last silently, so a
    second ``shop_us`` would replace the first and a repeated ``stock.channels`` entry reset its policy."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in first and key != "<<":
                raise DuplicateKey(f"key {key!r} appears twice in one mapping: at line {first[key]} and at line {line}")
            first.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


def load_config(path: Path | str | None = None) -> HubConfig:
    path = Path(path or os.environ.get("CHANNELHUB_CONFIG") or DEFAULT_CONFIG)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found (set CHANNELHUB_CONFIG or pass --config)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader) or {}  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return HubConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, '')}") from exc


def _airflow_connection_field(conn_id: str, field: str) -> str | None:
    """The field of an Airflow connection, or None when no such connection is defined.

    Only called inside a running task (the task runner exports ``AIRFLOW_CTX_DAG_ID``): there the
    task SDK fetches the connection through the Execution API or a secrets backend, never from the
    metadata database directly, and registers its password with the log masker."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        value = getattr(BaseHook.get_connection(conn_id), field)
    except AirflowNotFoundException:
        return None
    return str(value) if value else None


def resolve_secret(account: str, key: str, ref: SecretRef) -> SecretStr:
    if ref.airflow_conn_id and os.environ.get("AIRFLOW_CTX_DAG_ID"):
        value = _airflow_connection_field(ref.airflow_conn_id, ref.airflow_field)
        if value:
            return SecretStr(value)
    if ref.env:
        value = os.environ.get(ref.env)
        if value:
            return SecretStr(value)
        raise ConfigError(f"account {account!r}, secret {key!r}: environment variable {ref.env} is not set")
    raise ConfigError(f"account {account!r}, secret {key!r}: no env variable or Airflow connection found")


def build_account(name: str, config: AccountConfig, *, resolve_secrets: bool = True) -> Account:
    """Validate an account's settings against its connector and resolve its secrets, reporting every
    problem at once (a missing token and a bad page size in one message, not one per attempt)."""
    connector = get_connector(config.connector)
    values: dict[str, Any] = dict(config.settings)
    overlap = set(values) & set(config.secrets)
    if overlap:
        raise ConfigError(f"account {name!r}: {sorted(overlap)} must be under secrets:, not settings:")
    problems: list[str] = []
    for key, ref in config.secrets.items():
        values[key] = SecretStr("unresolved")
        if resolve_secrets:
            try:
                values[key] = resolve_secret(name, key, ref)
            except ConfigError as exc:
                problems.append(str(exc))
    try:
        settings = connector.settings_model.model_validate(values)
    except ValidationError as exc:
        problems.insert(0, _describe(exc, f"account {name!r}, connector {connector.name!r}, settings "))
    if problems:
        raise ConfigError("; ".join(problems))
    account = Account(name=name, connector=connector, settings=settings, schedule=config.schedule,
                      selected=config.streams, phone_region=config.phone_region)
    connector.streams_for(account)  # an unknown stream name fails here, not at 3 a.m.
    return account
