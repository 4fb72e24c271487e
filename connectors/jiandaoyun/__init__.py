"""Jiandaoyun (简道云) connector: the forms of a merchant's 进销存 app (products, stock, customers, sales
outbound documents), mapped to entities by widget label in each account's settings, and a stock write-back
form."""

from .connector import JiandaoyunConnector
from .settings import JiandaoyunSettings

connector = JiandaoyunConnector()

__all__ = ["JiandaoyunConnector", "JiandaoyunSettings", "connector"]
