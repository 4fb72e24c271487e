"""The ERP's side: warehouses and the stock the merchant holds in them, each record versioned like a
rowversion so an ERP sandbox can serve changes since a version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .catalog import Sku

WAREHOUSES = [("01", "Main warehouse", "总仓"), ("02", "Shanghai store", "上海门店")]


@dataclass(slots=True)
class StockRecord:
    sku: Sku
    warehouse: str
    quantity: int
    version: int          # a rowversion: bumped on every change (U8's ufts)
    modified_at: datetime
