"""Pushes available quantities to Pinduoduo through ``pdd.goods.quantity.update`` (``update_type`` 1: full).

PDD keeps one quantity per SKU and has no compare-and-set, so the SDK's read-then-write writer does the
push (its docstring says how a concurrent sale is detected): ``pdd.goods.detail.get`` reads a goods'
SKUs before the write and again after it, as the update answers only ``is_success``. The update sets one
SKU per call (no batch form is documented), so a batch is one level: the gap in which a sale can be
overwritten stays one round trip. A level is addressed by goods (``goods_id``, in the location's place)
and ``sku_id``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from connectors.sdk import StockLevel
from connectors.sdk.gateway import GatewayError
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import call, make_client
from .settings import PinduoduoSettings


class PinduoduoStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="skus", location_column="goods_id", item_column="sku_id", quantity_column="sku_quantity")
    max_batch = 1  # pdd.goods.quantity.update: one SKU per call
    holder = "Pinduoduo"
    call_errors = (requests.RequestException, GatewayError, KeyError, TypeError, ValueError)

    def __init__(self, settings: PinduoduoSettings) -> None:
        self.client = make_client(settings)

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        return _quantities(call(self.client, "pdd.goods.detail.get", goods_id=location))

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        for level in levels:
            answer = call(self.client, "pdd.goods.quantity.update", goods_id=location, sku_id=level.item_id,
                          quantity=level.available, update_type=1)
            if not answer.get("is_success"):
                return {level.item_id: "Pinduoduo answered is_success false"}
        return self.read(location, levels)


def _quantities(answer: dict[str, Any]) -> dict[str, Any]:
    return {str(sku["sku_id"]): int(sku["quantity"]) for sku in answer.get("sku_list", [])}
