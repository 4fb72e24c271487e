"""EasyPost: the web shops' parcels, their labels and tracking (entry point ``easypost``)."""

from .connector import EasypostConnector
from .settings import EasypostSettings

connector = EasypostConnector()

__all__ = ["EasypostConnector", "EasypostSettings", "connector"]
