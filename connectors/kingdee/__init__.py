"""Kingdee K3Cloud (金蝶云星空) WebAPI connector: materials, stock, sales orders with their lines, customers."""

from .connector import KingdeeConnector
from .settings import KingdeeSettings

connector = KingdeeConnector()

__all__ = ["KingdeeConnector", "KingdeeSettings", "connector"]
