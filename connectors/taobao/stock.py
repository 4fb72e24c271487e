"""Pushes available quantities to Taobao through ``taobao.skus.quantity.update`` (type 1: full).

TOP keeps one quantity per SKU and has no compare-and-set, so the SDK's read-then-write writer does the
push (its docstring says how a concurrent sale is detected): ``taobao.item.seller.get`` reads an item's
SKUs, one ``skus.quantity.update`` call sets at most 20 of them and answers with the item's SKUs. The
batch call works per item: a level is addressed by item (``num_iid``, in the location's place) and
``sku_id``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from connectors.sdk import StockLevel
from connectors.sdk.gateway import GatewayError
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import call, make_client
from .settings import TaobaoSettings


class TaobaoStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="skus", location_column="_items_num_iid", item_column="sku_id", quantity_column="quantity")
    max_batch = 20  # skuid_quantities: at most 20 SKUs per call
    holder = "Taobao"
    call_errors = (requests.RequestException, GatewayError, KeyError, TypeError, ValueError)

    def __init__(self, settings: TaobaoSettings) -> None:
        self.client = make_client(settings)

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        return _quantities(call(self.client, "taobao.item.seller.get", num_iid=location, fields="num_iid,skus"))

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        return _quantities(call(self.client, "taobao.skus.quantity.update", num_iid=location, type=1,
                                skuid_quantities=";".join(f"{level.item_id}:{level.available}" for level in levels)))


def _quantities(answer: dict[str, Any]) -> dict[str, Any]:
    return {str(sku["sku_id"]): int(sku["quantity"]) for sku in answer["item"].get("skus", {}).get("sku", [])}
