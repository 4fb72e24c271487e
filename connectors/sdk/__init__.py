"""The connector SDK: what a connector declares and the shared plumbing it is built from."""

from typing import Any

from .account import Account
from .errors import ChannelhubError, ConfigError, SourceDataError
from .registry import available_connectors, get_connector, require_installed
from .settings import ConnectorSettings, RestSettings, RetrySettings, TimeZoneName, UtcDatetime
from .spec import (
    MIRROR_FIGURES,
    CheckResult,
    Connector,
    ConnectorKind,
    Cursor,
    StockLevel,
    StockPushResult,
    StockWriter,
    Stream,
)

__all__ = [
    "MIRROR_FIGURES",
    "Account",
    "ChannelhubError",
    "CheckResult",
    "ConfigError",
    "Connector",
    "ConnectorKind",
    "ConnectorSettings",
    "Cursor",
    "LeakyBucketPacer",
    "RestSettings",
    "RetryPolicy",
    "RetrySettings",
    "SourceDataError",
    "StockLevel",
    "StockPushResult",
    "StockWriter",
    "Stream",
    "TimeZoneName",
    "UtcDatetime",
    "available_connectors",
    "get_connector",
    "paginate_checked",
    "quarantining",
    "require_installed",
    "retry_after_seconds",
    "retrying_session",
]

# The HTTP helpers import dlt's REST client (half a second), the quarantine pyarrow: loaded on first use,
# so commands that only read declarations and config (`channelhub --help`, `check`) start fast.
_LAZY = {**dict.fromkeys(("LeakyBucketPacer", "RetryPolicy", "paginate_checked", "retry_after_seconds",
                          "retrying_session"), "http"),
         "quarantining": "quarantine"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
