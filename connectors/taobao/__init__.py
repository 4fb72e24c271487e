"""Taobao/Tmall Open Platform (TOP) connector: trades with their sub-orders, refunds, items and SKUs."""

from .connector import TaobaoConnector
from .settings import TaobaoSettings

connector = TaobaoConnector()

__all__ = ["TaobaoConnector", "TaobaoSettings", "connector"]
