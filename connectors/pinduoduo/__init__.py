"""Pinduoduo Open Platform (拼多多开放平台) connector: orders with their items, after-sales refunds and SKUs."""

from .connector import PinduoduoConnector
from .settings import PinduoduoSettings

connector = PinduoduoConnector()

__all__ = ["PinduoduoConnector", "PinduoduoSettings", "connector"]
