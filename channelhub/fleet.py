"""Start the sandbox of every account in ``channelhub.yml``, all rendering one World.

Used by ``channelhub sandbox serve``, ``channelhub demo`` and the tests. Sandboxes are found through the
``channelhub.sandboxes`` entry points, named like the connectors they emulate. Each account's sandbox
listens where the account's settings point (its ``base_url`` port, its SQLite path, its drop folder), so
the shipped config works unedited. Credentials are generated per process unless the environment
already names one, and exported to the variables the config reads, so no credential is ever written
to a file.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

from connectors.sdk import ConfigError
from sandbox.launch import Launcher, Running, SandboxSetupError
from sandbox.world import ShopSpec, World, WorldSpec

from .config import AccountConfig, HubConfig

GROUP = "channelhub.sandboxes"


def launcher(account: str, connector: str) -> Launcher:
    found = [entry for entry in entry_points(group=GROUP) if entry.name == connector]
    if not found:
        raise ConfigError(f"account {account!r}: connector {connector!r} has no sandbox")
    loaded = found[0].load()
    if not isinstance(loaded, Launcher):
        raise ConfigError(f"sandbox entry point {connector!r} ({found[0].value}) is not a sandbox Launcher")
    return loaded


def move_sandbox(settings: dict[str, Any], port: int) -> None:
    """Point an account's settings (as written in channelhub.yml) at its sandbox on another ``port``:
    ``base_url``, and the endpoints the same sandbox serves with it (Amazon's LWA ``token_url``), so
    tests and benchmarks run beside the shipped ports. A path in ``base_url`` stays (SAP Business One's
    ``/b1s/v2``)."""
    old = settings["base_url"]
    settings["base_url"] = urlunsplit(urlsplit(old)._replace(scheme="http", netloc=f"127.0.0.1:{port}"))
    if "token_url" in settings:
        settings["token_url"] = settings["token_url"].replace(old, settings["base_url"])


def world_for(hub: HubConfig) -> World:
    sandbox = hub.sandbox
    shops = tuple(ShopSpec(name, shop.currency, shop.timezone, shop.marketplace, shop.checkout, shop.shipper)
                  for name, shop in sorted(sandbox.shops.items()))
    return World(WorldSpec(seed=sandbox.seed, orders=sandbox.orders, skus=sandbox.skus,
                           customers=sandbox.customers, paypal_share=sandbox.paypal_share,
                           **({"shops": shops} if shops else {})))


class Fleet:
    def __init__(self, hub: HubConfig) -> None:
        self.hub = hub
        self.running: list[Running] = []
        self.world: World | None = None
        self.exported: dict[str, str] = {}  # env variable -> credential the sandboxes accept

    def _credentials(self, account: str, config: AccountConfig, launch: Launcher) -> dict[str, str]:
        values = {}
        for key, ref in config.secrets.items():
            if not ref.env:
                raise ConfigError(f"account {account!r}, secret {key!r}: a sandbox needs an env variable to set")
            value = os.environ.get(ref.env) or launch.new_credential(key)
            os.environ[ref.env] = value
            self.exported[ref.env] = value
            values[key] = value
        return values

    def start(self) -> Fleet:
        self.world = world_for(self.hub)
        try:
            for name in self.hub.enabled_accounts():
                config = self.hub.accounts[name]
                launch = launcher(name, config.connector)
                credentials = self._credentials(name, config, launch)
                try:
                    self.running.append(launch.start(self.world, name, config.settings, credentials))
                except SandboxSetupError as exc:
                    raise ConfigError(str(exc)) from exc
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
