"""Jushuitan (聚水潭) OMS connector: orders and after-sales of the shops it routes, SKUs, warehouses and
stock per warehouse, through its open platform (version 2)."""

from .connector import JushuitanConnector
from .settings import JushuitanSettings

connector = JushuitanConnector()

__all__ = ["JushuitanConnector", "JushuitanSettings", "connector"]
