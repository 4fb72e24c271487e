"""Shopify Admin REST connector: orders, products, customers, inventory; pushes stock levels."""

from .connector import ShopifyConnector
from .settings import ShopifySettings

connector = ShopifyConnector()

__all__ = ["ShopifyConnector", "ShopifySettings", "connector"]
