"""PayPal: the payments, refunds, fees and withdrawals of the merchant's PayPal account (Transaction Search)."""

from .connector import PaypalConnector
from .settings import PaypalSettings

connector = PaypalConnector()

__all__ = ["PaypalConnector", "PaypalSettings", "connector"]
