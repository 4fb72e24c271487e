"""A small copy of the shipped merchant for end-to-end tests: config on free ports in a temp folder,
and a context manager that starts every sandbox and loads every account into the warehouse.

Model, quality, stock and Airflow tests all start from here, so they exercise the same code path as
``make demo`` on a merchant small enough to load in seconds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import sqlalchemy as sa
import yaml

from channelhub.config import HubConfig, load_config
from channelhub.fleet import Fleet, move_sandbox
from channelhub.runner import run_account
from warehouse import Warehouse

SHIPPED = Path(__file__).parents[1] / "channelhub.yml"
SECRET_VARIABLES = ("CHANNELHUB_SHOP_US_TOKEN", "CHANNELHUB_SHOP_EU_TOKEN", "CHANNELHUB_STRIPE_MAIN_KEY",
                    "CHANNELHUB_SHOP_CN_KEY", "CHANNELHUB_SHOP_CN_SECRET",
                    "CHANNELHUB_JD_CN_APP_KEY", "CHANNELHUB_JD_CN_APP_SECRET", "CHANNELHUB_JD_CN_TOKEN",
                    "CHANNELHUB_PDD_CN_CLIENT_ID", "CHANNELHUB_PDD_CN_CLIENT_SECRET", "CHANNELHUB_PDD_CN_TOKEN",
                    "CHANNELHUB_AMAZON_US_CLIENT_ID", "CHANNELHUB_AMAZON_US_CLIENT_SECRET",
                    "CHANNELHUB_AMAZON_US_REFRESH_TOKEN",
                    "CHANNELHUB_PAYPAL_MAIN_CLIENT_ID", "CHANNELHUB_PAYPAL_MAIN_CLIENT_SECRET",
                    "CHANNELHUB_JDY_ERP_API_KEY",
                    "CHANNELHUB_JST_OMS_APP_KEY", "CHANNELHUB_JST_OMS_APP_SECRET", "CHANNELHUB_JST_OMS_REFRESH_TOKEN",
                    "CHANNELHUB_ERP_SAP_PASSWORD",
                    "CHANNELHUB_ALIPAY_MAIN_APP_PRIVATE_KEY", "CHANNELHUB_ALIPAY_MAIN_PUBLIC_KEY",
                    "CHANNELHUB_SHIP_EASYPOST_KEY", "CHANNELHUB_SHIP_SHIPSTATION_KEY", "CHANNELHUB_SHIP_SHIPSTATION_SECRET",
                    "CHANNELHUB_WECHATPAY_MAIN_KEY", "CHANNELHUB_WECHATPAY_MAIN_PLATFORM_KEY",
                    "CHANNELHUB_TRACK_KUAIDI100_CUSTOMER", "CHANNELHUB_TRACK_KUAIDI100_KEY",
                    "CHANNELHUB_TRACK_SF_PARTNER_ID", "CHANNELHUB_TRACK_SF_CHECK_WORD",
                    "CHANNELHUB_WAREHOUSE_URL")
# The merchant the model, stock and alert tests share leaves the marketplaces out: their sandboxes are
# listed in windows from the shipped start dates (Pinduoduo's 30 minutes make a quiet month some 3,000
# calls), and each has its own contract suite. The e2e demo test runs the whole shipped config. PayPal too
# is left to its own suite and the e2e demo: without its account, no order is paid with PayPal.
MARKETPLACES = ("jd", "pinduoduo", "amazon")
# Guanjiapo, PayPal, Jiandaoyun, Jushuitan, SAP Business One, Alipay, WeChat Pay, EasyPost and ShipStation too: their
# contracts build their marts, and the e2e demo runs them with the rest; and the CNY web shop on
# WooCommerce, whose orders the wallets (Alipay, WeChat Pay) pay. Kuaidi100 and SF Express are trackers:
# before a build they have no waybill to ask about.
LEFT_OUT = (*MARKETPLACES, "guanjiapo", "paypal", "woocommerce", "jiandaoyun", "jushuitan", "sap_b1", "alipay",
            "wechatpay", "easypost", "shipstation", "kuaidi100", "sf_express")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def small_config(tmp_path: Path, *, warehouse_url: str | None = None, orders: int = 300, skus: int = 40,
                 customers: int = 80, edit: dict[str, Any] | None = None,
                 leave_out: Collection[str] = LEFT_OUT) -> Path:
    """Write the shipped config, made small, on free ports and in ``tmp_path``; returns its path.

    ``edit`` is merged into the top level (e.g. ``{"stock": {...}}``); the accounts of the connectors in
    ``leave_out`` go, with their shops, stock channels and mirrors. The caller's test should isolate
    ``CHANNELHUB_HOME`` and the secret variables (see :func:`isolate_env`)."""
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["warehouse"]["url"] = warehouse_url or f"duckdb:///{tmp_path}/wh.duckdb"
    raw["sandbox"].update(orders=orders, skus=skus, customers=customers)
    for account in raw["accounts"].values():
        if "base_url" in account["settings"]:
            move_sandbox(account["settings"], free_port())
    raw["accounts"]["erp_u8"]["settings"]["url"] = f"sqlite:///{tmp_path}/u8.sqlite"
    raw["accounts"]["erp_gjp"]["settings"]["url"] = f"sqlite:///{tmp_path}/guanjiapo.sqlite"
    raw["accounts"]["store_files"]["settings"]["folder"] = str(tmp_path / "dropzone")
    raw.update(edit or {})
    for name in [name for name, account in raw["accounts"].items() if account["connector"] in leave_out]:
        del raw["accounts"][name]
        raw["sandbox"]["shops"].pop(name, None)
        raw["stock"]["channels"].pop(name, None)
        if name in raw["stock"].get("sources", ()):
            raw["stock"]["sources"].remove(name)
        if name in raw["stock"].get("mirrors", ()):
            raw["stock"]["mirrors"].remove(name)
    if not raw["stock"].get("sources", True):
        del raw["stock"]["sources"]  # every source left out: every ERP counts
    if "paypal" in leave_out:
        raw["sandbox"]["paypal_share"] = 0.0
    path = tmp_path / "channelhub.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def first_push_stock() -> dict[str, Any]:
    """The shipped stock section with the guardrails open: the sandbox shops were stocked before
    channelhub, so a first push replaces unrelated levels (the demo forces it once for the same reason)."""
    stock = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["stock"]
    return {**stock, "max_zeroed_share": 1.0, "max_drop_fraction": 1.0, "max_raised_share": 1.0,
            "max_total_raise_fraction": 1000.0}


def isolate_env(monkeypatch: Any, tmp_path: Path) -> None:
    """Own dlt state folder and no credentials inherited from the shell."""
    monkeypatch.setenv("CHANNELHUB_HOME", str(tmp_path / "home"))
    for variable in SECRET_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@contextmanager
def loaded_merchant(config_path: Path) -> Iterator[tuple[HubConfig, Fleet]]:
    """Start every sandbox, load every account, and keep the sandboxes up for the caller (stock
    pushes need the Shopify emulators). Credentials the fleet generates are removed afterwards."""
    hub = load_config(config_path)
    with mock.patch.dict(os.environ), Fleet(hub) as fleet:  # the environment as it was, afterwards
        for name in hub.enabled_accounts():
            run_account(hub, name)
        yield hub, fleet


def query(hub: HubConfig, sql: str) -> list[dict[str, Any]]:
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.text(sql))]


def scalar(hub: HubConfig, sql: str) -> Any:
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()
