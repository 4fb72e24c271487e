"""Alipay: the merchant's daily trade bills (payments and refunds, with Alipay's service fee) and
account bills (the balance's movements and its withdrawals to the bank), from the open platform's bill
download."""

from .connector import AlipayConnector
from .settings import AlipaySettings

connector = AlipayConnector()

__all__ = ["AlipayConnector", "AlipaySettings", "connector"]
