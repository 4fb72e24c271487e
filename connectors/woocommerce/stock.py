"""Pushes available quantities to WooCommerce through ``products/<id>/variations/batch``.

WooCommerce keeps one ``stock_quantity`` per variation and has no compare-and-set, so the SDK's
read-then-write writer does the push (its docstring says how a concurrent sale is detected). The batch
endpoint works per product: a level is addressed by product id (in the location's place) and variation
id; batches hold at most 100 variations. An id the batch answer refuses comes back with its message.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk import StockLevel
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import make_client
from .settings import WooCommerceSettings


class WooCommerceStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="variations", location_column="_products_id", item_column="id", quantity_column="stock_quantity")
    max_batch = 100  # WooCommerce's default limit of items per batch request
    holder = "store"

    def __init__(self, settings: WooCommerceSettings) -> None:
        client = make_client(settings)
        self.root, self.session, self.auth = settings.api_root, client["session"], client["auth"]

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        response = self.session.get(f"{self.root}/products/{location}/variations", auth=self.auth,
                                    params={"include": ",".join(level.item_id for level in levels),
                                            "per_page": self.max_batch})
        response.raise_for_status()
        return {str(variation["id"]): variation.get("stock_quantity") for variation in response.json()}

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        body = {"update": [{"id": int(level.item_id), "manage_stock": True, "stock_quantity": level.available}
                           for level in levels]}
        response = self.session.post(f"{self.root}/products/{location}/variations/batch", json=body, auth=self.auth)
        response.raise_for_status()
        return {str(item["id"]): item["error"].get("message", "refused") if "error" in item else item.get("stock_quantity")
                for item in response.json().get("update", [])}
