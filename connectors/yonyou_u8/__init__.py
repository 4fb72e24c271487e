"""Yonyou U8 connector: reads a U8 company database (UFDATA_<account>_<year>) over SQL."""

from .connector import YonyouU8Connector
from .settings import U8Settings

connector = YonyouU8Connector()

__all__ = ["U8Settings", "YonyouU8Connector", "connector"]
