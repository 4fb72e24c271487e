"""WooCommerce REST API v3 connector: orders (with lines and refunds), products and their variations."""

from .connector import WooCommerceConnector
from .settings import WooCommerceSettings

connector = WooCommerceConnector()

__all__ = ["WooCommerceConnector", "WooCommerceSettings", "connector"]
