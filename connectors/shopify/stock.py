"""Pushes available quantities to Shopify: one ``POST inventory_levels/set.json`` per level (the REST
API has no batch form), paced by the same leaky-bucket client as the sync."""

from __future__ import annotations

from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import StockLevel, StockPushResult

from .client import make_client
from .settings import ShopifySettings


class ShopifyStockWriter:
    def __init__(self, settings: ShopifySettings, client: RESTClient | None = None) -> None:
        self.client = client or make_client(settings)

    def push(self, levels: list[StockLevel]) -> list[StockPushResult]:
        return [self._set(level) for level in levels]

    def _set(self, level: StockLevel) -> StockPushResult:
        try:
            body = {"location_id": int(level.location_id), "inventory_item_id": int(level.item_id),
                    "available": level.available, "disconnect_if_necessary": False}
        except ValueError:
            return StockPushResult(level, False, "Shopify location and inventory item ids are integers")
        response = self.client.post("inventory_levels/set.json", json=body)
        if response.status_code == 200:
            return StockPushResult(level, True)
        try:
            errors = response.json().get("errors")
        except ValueError:
            errors = response.text[:200]
        return StockPushResult(level, False, f"HTTP {response.status_code}: {errors}")
