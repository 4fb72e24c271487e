"""Stripe: the payments that settle the web shops' orders (entry point ``stripe``)."""

from .connector import StripeConnector
from .settings import StripeSettings

connector = StripeConnector()

__all__ = ["StripeConnector", "StripeSettings", "connector"]
