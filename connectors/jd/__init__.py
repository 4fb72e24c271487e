"""JD Open Platform (JOS, 京东宙斯) connector: POP orders with their items, refunds, and SKUs with stock."""

from .connector import JdConnector
from .settings import JdSettings

connector = JdConnector()

__all__ = ["JdConnector", "JdSettings", "connector"]
