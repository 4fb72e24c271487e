"""ShipStation: the labels a shop's orders ship with and the orders ShipStation imported (entry point
``shipstation``)."""

from .connector import ShipstationConnector
from .settings import ShipstationSettings

connector = ShipstationConnector()

__all__ = ["ShipstationConnector", "ShipstationSettings", "connector"]
