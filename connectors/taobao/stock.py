"""Pushes available quantities to Taobao through ``taobao.skus.quantity.update`` (type 1: full).

TOP keeps one quantity per SKU and has no compare-and-set. The batch call works per item (``num_iid``),
so a level is addressed by item (in the location's place) and ``sku_id``. Per item, in batches of at
most 20 SKUs:

1. read the item's SKU quantities (``taobao.item.seller.get``) and refuse every level that moved away
   from ``expected`` (a sale since channelhub last set or loaded it): reported stale with the quantity
   read, nothing written. A level already at its target is done (an earlier push whose answer was lost);
2. write the others in one call and read its answer back: a SKU not at its target is a failure.

A sale in the one round trip between 1 and 2 is overwritten; its trade arrives with the next load, the
allocation nets it as an open order, and the next push corrects the quantity.
"""

from __future__ import annotations

from collections import defaultdict
from typing import ClassVar

import requests

from connectors.sdk import StockLevel, StockPushResult
from connectors.sdk.gateway import GatewayError
from connectors.sdk.spec import LoadedLevels

from .client import call, make_client
from .settings import TaobaoSettings

MAX_BATCH = 20  # skuid_quantities: at most 20 SKUs per call
CALL_ERRORS = (requests.RequestException, GatewayError, KeyError, TypeError, ValueError)


class TaobaoStockWriter:
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="skus", location_column="_items_num_iid", item_column="sku_id", quantity_column="quantity")

    def __init__(self, settings: TaobaoSettings) -> None:
        self.client = make_client(settings)

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        by_item: dict[str, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_item[level.location_id].append(level)
        results: dict[int, StockPushResult] = {}
        for item, item_levels in by_item.items():
            for start in range(0, len(item_levels), MAX_BATCH):
                batch = item_levels[start:start + MAX_BATCH]
                try:
                    settled = self._push_batch(item, batch)
                except CALL_ERRORS as exc:
                    settled = [StockPushResult(level, False, f"{type(exc).__name__}: {exc}") for level in batch]
                results.update((id(result.level), result) for result in settled)
        return [results[id(level)] for level in levels]

    def _push_batch(self, item: str, batch: list[StockLevel]) -> list[StockPushResult]:
        held = self._quantities(call(self.client, "taobao.item.seller.get", num_iid=item, fields="num_iid,skus"))
        settled, to_write = [], []
        for level in batch:
            actual = held.get(level.item_id)
            if level.item_id not in held:
                settled.append(StockPushResult(level, False, f"item {item} has no SKU {level.item_id}"))
            elif actual == level.available:
                settled.append(StockPushResult(level, True, "already at the target", actual=actual))
            elif level.expected is not None and actual != level.expected:
                settled.append(StockPushResult(level, False, f"Taobao holds {actual}, expected {level.expected}",
                                               stale=True, actual=actual))
            else:
                to_write.append(level)
        if to_write:
            answer = call(self.client, "taobao.skus.quantity.update", num_iid=item, type=1,
                          skuid_quantities=";".join(f"{level.item_id}:{level.available}" for level in to_write))
            written = self._quantities(answer)
            for level in to_write:
                actual = written.get(level.item_id)
                settled.append(StockPushResult(level, True, actual=actual) if actual == level.available
                               else StockPushResult(level, False, f"read back {actual}", actual=actual))
        return settled

    @staticmethod
    def _quantities(answer: dict) -> dict[str, int]:
        return {str(sku["sku_id"]): int(sku["quantity"]) for sku in answer["item"].get("skus", {}).get("sku", [])}
