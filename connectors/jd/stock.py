"""Pushes available quantities to JD through ``jingdong.stock.write.updateSkuStock``.

JOS keeps one sellable quantity per SKU, sets it one SKU per call (no batch form is documented) and
has no compare-and-set, so the SDK's read-then-write writer does the push (its docstring says how a
concurrent sale is detected): ``jingdong.sku.read.searchSkuList`` reads a ware's SKUs with their
``stockNum``, each SKU is set in its own call, and the ware is read again to check every write landed
(the write answers only ``success``). A level is addressed by ware (``wareId``, in the location's
place) and ``skuId``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from connectors.sdk import StockLevel
from connectors.sdk.gateway import GatewayError
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import call, make_client
from .settings import MAX_PAGE_SIZE, JdSettings

SKU_FIELDS = "skuId,wareId,outerId,skuName,jdPrice,stockNum,status,modified"


class JdStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="skus", location_column="ware_id", item_column="sku_id", quantity_column="stock_num")
    max_batch = 10  # one call per SKU: small batches keep each write close to the read that checked it
    holder = "JD"
    call_errors = (requests.RequestException, GatewayError, KeyError, TypeError, ValueError)

    def __init__(self, settings: JdSettings) -> None:
        self.client = make_client(settings)

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        answer = call(self.client, "jingdong.sku.read.searchSkuList", wareId=location, page=1,
                      pageSize=MAX_PAGE_SIZE, field=SKU_FIELDS)
        return _quantities(answer)

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        refused: dict[str, str] = {}
        for level in levels:
            try:
                call(self.client, "jingdong.stock.write.updateSkuStock", skuId=level.item_id, stockNum=level.available)
            except GatewayError as exc:  # one SKU refused: the others of the batch still go
                refused[level.item_id] = str(exc)
        return {**self.read(location, levels), **refused}


def _quantities(answer: dict[str, Any]) -> dict[str, Any]:
    return {str(sku["skuId"]): int(sku["stockNum"]) for sku in answer["page"].get("data", [])}
