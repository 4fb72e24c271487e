"""SF Express (顺丰, 丰桥 open platform): the routes of the SF waybills the hub knows (entry point ``sf_express``)."""

from .connector import SfExpressConnector
from .settings import SfExpressSettings

connector = SfExpressConnector()

__all__ = ["SfExpressConnector", "SfExpressSettings", "connector"]
