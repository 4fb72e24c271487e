"""Kuaidi100 (快递100): where the parcels the hub knows are, asked one waybill at a time (entry point
``kuaidi100``)."""

from .connector import Kuaidi100Connector
from .settings import Kuaidi100Settings

connector = Kuaidi100Connector()

__all__ = ["Kuaidi100Connector", "Kuaidi100Settings", "connector"]
