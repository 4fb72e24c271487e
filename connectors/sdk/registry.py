"""Connector discovery through the ``channelhub.connectors`` entry-point group.

A third-party package adds a connector by declaring, in its own pyproject.toml::

    [project.entry-points."channelhub.connectors"]
    woocommerce = "channelhub_woocommerce:connector"

where ``connector`` is an instance of :class:`connectors.sdk.Connector`.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from .errors import ConfigError
from .spec import Connector

GROUP = "channelhub.connectors"


@cache
def available_connectors() -> dict[str, Connector]:
    found: dict[str, Connector] = {}
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        connector = entry.load()
        if not isinstance(connector, Connector):
            raise ConfigError(f"entry point {entry.name!r} ({entry.value}) is not a channelhub Connector")
        if connector.name != entry.name:
            raise ConfigError(f"entry point {entry.name!r} loads connector named {connector.name!r}; "
                              "one name per connector everywhere")
        found[entry.name] = connector
    return found


def get_connector(name: str) -> Connector:
    connectors = available_connectors()
    if name not in connectors:
        known = ", ".join(connectors) or "none"
        raise ConfigError(f"unknown connector {name!r} (installed: {known})")
    return connectors[name]
