"""Start the sandbox of every account in ``channelhub.yml``, all rendering one World.

Used by ``channelhub sandbox serve`` and ``channelhub demo``. Each account's sandbox listens where the
account's settings point (its ``base_url`` port, its SQLite path, its drop folder), so the shipped
config works unedited. Credentials are generated per process unless the environment already names one,
and exported to the variables the config reads, so no credential is ever written to a file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import urlparse

from channelhub.config import AccountConfig, HubConfig
from connectors.sdk import ConfigError

from .world import ShopSpec, World, WorldSpec

CREDENTIAL_PREFIX = {"shopify": "shpat_", "stripe": "sk_test_"}


@dataclass
class Running:
    account: str
    connector: str
    where: str
    stop: Callable[[], None]
    sandbox: object = None  # the emulator itself, for tests that mutate or inspect it


def _port(account: str, config: AccountConfig) -> int:
    url = urlparse(str(config.settings.get("base_url", "")))
    if url.hostname not in {"127.0.0.1", "localhost"} or not url.port:
        raise ConfigError(f"account {account!r}: settings field 'base_url' must be http://127.0.0.1:<port> "
                          "to be served by a sandbox")
    return url.port


def _shopify(world: World, account: str, config: AccountConfig, credentials: dict[str, str]) -> Running:
    from .shopify import ShopifySandbox

    sandbox = ShopifySandbox(world, shop=account, access_token=credentials["access_token"],
                             api_version=str(config.settings.get("api_version", "2024-07")))
    return Running(account, "shopify", sandbox.serve(port=_port(account, config)), sandbox.stop, sandbox)


def _stripe(world: World, account: str, config: AccountConfig, credentials: dict[str, str]) -> Running:
    from .stripe import StripeSandbox

    sandbox = StripeSandbox(world, api_key=credentials["api_key"])
    return Running(account, "stripe", sandbox.serve(port=_port(account, config)), sandbox.stop, sandbox)


def _yonyou_u8(world: World, account: str, config: AccountConfig, credentials: dict[str, str]) -> Running:
    from .yonyou_u8 import build_u8

    url = str(config.settings["url"])
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    sandbox = build_u8(url, world)
    return Running(account, "yonyou_u8", sandbox.url.render_as_string(hide_password=True), sandbox.close, sandbox)


def _spreadsheet(world: World, account: str, config: AccountConfig, credentials: dict[str, str]) -> Running:
    from .spreadsheet import DropFolder

    folder = Path(str(config.settings["folder"]))
    DropFolder(folder).write_demo(world)
    return Running(account, "spreadsheet", str(folder), lambda: None)


LAUNCHERS: dict[str, Callable[[World, str, AccountConfig, dict[str, str]], Running]] = {
    "shopify": _shopify, "stripe": _stripe, "yonyou_u8": _yonyou_u8, "spreadsheet": _spreadsheet,
}


def world_for(hub: HubConfig) -> World:
    sandbox = hub.sandbox
    shops = tuple(ShopSpec(name, shop.currency, shop.timezone) for name, shop in sorted(sandbox.shops.items()))
    return World(WorldSpec(seed=sandbox.seed, orders=sandbox.orders, skus=sandbox.skus,
                           customers=sandbox.customers, **({"shops": shops} if shops else {})))


class Fleet:
    def __init__(self, hub: HubConfig) -> None:
        self.hub = hub
        self.running: list[Running] = []
        self.world: World | None = None
        self.exported: dict[str, str] = {}  # env variable -> credential the sandboxes accept

    def _credentials(self, account: str, config: AccountConfig) -> dict[str, str]:
        values = {}
        for key, ref in config.secrets.items():
            if not ref.env:
                raise ConfigError(f"account {account!r}, secret {key!r}: a sandbox needs an env variable to set")
            value = os.environ.get(ref.env) or CREDENTIAL_PREFIX.get(config.connector, "") + secrets.token_hex(16)
            os.environ[ref.env] = value
            self.exported[ref.env] = value
            values[key] = value
        return values

    def start(self) -> Fleet:
        self.world = world_for(self.hub)
        try:
            for name in self.hub.enabled_accounts():
                config = self.hub.accounts[name]
                launch = LAUNCHERS.get(config.connector)
                if launch is None:
                    raise ConfigError(f"account {name!r}: connector {config.connector!r} has no sandbox")
                self.running.append(launch(self.world, name, config, self._credentials(name, config)))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self.running:
            self.running.pop().stop()

    def sandbox(self, account: str) -> object:
        for running in self.running:
            if running.account == account:
                return running.sandbox
        raise KeyError(f"no sandbox is running for account {account!r}")

    def describe(self) -> list[str]:
        return [f"{r.account:<14} {r.connector:<12} {r.where}" for r in self.running]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
