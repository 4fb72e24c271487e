"""Connector discovery through the ``channelhub.connectors`` entry-point group.

A third-party package adds a connector by declaring, in its own pyproject.toml::

    [project.entry-points."channelhub.connectors"]
    woocommerce = "channelhub_woocommerce:connector"

where ``connector`` is an instance of :class:`connectors.sdk.Connector`. Entry points are loaded one by
one on demand, so a broken third-party connector fails only the accounts that use it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from .errors import ConfigError
from .spec import Connector

GROUP = "channelhub.connectors"


def _entry_points() -> dict[str, EntryPoint]:
    return {entry.name: entry for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name)}


def require_installed(name: str) -> None:
    """Fail as :func:`get_connector` would for a name no installed package registers, without loading the
    connector: config validation (at every DAG parse) checks names, runs load what they use."""
    entries = _entry_points()
    if name not in entries:
        raise ConfigError(f"unknown connector {name!r} (installed: {', '.join(entries) or 'none'})")


@cache
def get_connector(name: str) -> Connector:
    require_installed(name)
    entry = _entry_points()[name]
    try:
        connector = entry.load()
    except Exception as exc:
        raise ConfigError(f"connector {name!r} ({entry.value}) failed to load: {exc}") from exc
    if not isinstance(connector, Connector):
        raise ConfigError(f"entry point {name!r} ({entry.value}) is not a channelhub Connector")
    if connector.name != name:
        raise ConfigError(f"entry point {name!r} loads connector named {connector.name!r}; "
                          "one name per connector everywhere")
    return connector


def available_connectors() -> dict[str, Connector]:
    return {name: get_connector(name) for name in _entry_points()}
