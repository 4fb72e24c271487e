"""Guanjiapo (管家婆) connector: reads the on-premise product's database over SQL, its tables and
columns mapped in each account's settings."""

from .connector import GuanjiapoConnector
from .settings import GuanjiapoSettings

connector = GuanjiapoConnector()

__all__ = ["GuanjiapoConnector", "GuanjiapoSettings", "connector"]
