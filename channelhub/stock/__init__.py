"""Stock write-back: allocate the merchant's stock to channels (``stock:`` in channelhub.yml) and push
it safely (compare-and-set, guarded, audited in ``ops.stock_push_log``)."""

from typing import Any

from .policy import ChannelPolicy, SkuOverride, StockPolicy, policy_rows

__all__ = ["ChannelPolicy", "ChannelStatus", "ChannelSync", "SkuOverride", "StockPolicy", "StockSyncReport",
           "policy_rows", "sync_stock"]

# The sync needs the warehouse (SQLAlchemy); the config only needs the policy, so the sync loads on
# first use and reading channelhub.yml stays fast.
_SYNC = {"ChannelStatus", "ChannelSync", "StockSyncReport", "sync_stock"}


def __getattr__(name: str) -> Any:
    if name in _SYNC:
        from . import sync

        return getattr(sync, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
