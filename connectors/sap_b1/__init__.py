"""SAP Business One Service Layer connector: items with their stock per warehouse, business partners,
and the sales documents (orders, deliveries, invoices, credit notes) with their lines."""

from .connector import SapB1Connector
from .settings import SapB1Settings

connector = SapB1Connector()

__all__ = ["SapB1Connector", "SapB1Settings", "connector"]
