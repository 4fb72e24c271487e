"""Amazon Selling Partner API connector: orders with their items, listings, FBA inventory; MFN stock write-back."""

from .connector import AmazonConnector
from .settings import AmazonSettings

connector = AmazonConnector()

__all__ = ["AmazonConnector", "AmazonSettings", "connector"]
