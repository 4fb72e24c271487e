"""Stock write-back: allocate the merchant's stock to channels (``stock:`` in channelhub.yml) and push
it safely (compare-and-set, guarded, audited in ``ops.stock_push_log``)."""

from .policy import ChannelPolicy, SkuOverride, StockPolicy, policy_rows
from .sync import ChannelStatus, ChannelSync, StockSyncReport, sync_stock

__all__ = ["ChannelPolicy", "ChannelStatus", "ChannelSync", "SkuOverride", "StockPolicy", "StockSyncReport",
           "policy_rows", "sync_stock"]
