"""The connector SDK: what a connector declares and the shared plumbing it is built from."""

from .account import Account
from .errors import ChannelhubError, ConfigError, SourceDataError
from .http import LeakyBucketPacer, RetryPolicy, paginate_checked, retry_after_seconds, retrying_session
from .registry import available_connectors, get_connector
from .settings import ConnectorSettings, RestSettings, RetrySettings, TimeZoneName
from .spec import (
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
    "available_connectors",
    "get_connector",
    "paginate_checked",
    "retry_after_seconds",
    "retrying_session",
]
