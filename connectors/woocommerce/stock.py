"""Pushes available quantities to WooCommerce through ``products/<id>/variations/batch``.

WooCommerce keeps one ``stock_quantity`` per variation and has no compare-and-set. Its batch endpoint
works per product, so a level is addressed by product id (in the location's place) and variation id.
Per product, in batches of at most 100:

1. read the variations' quantities (``include=<ids>``) and refuse every level that moved away from
   ``expected`` (a sale or an edit since channelhub last set or loaded it): reported stale with the
   quantity read, nothing written. A level already at its target is done (an earlier push whose answer
   was lost);
2. write the others in one batch, and read the answer back: a variation the answer does not show at
   its target is reported failed.

How a concurrent sale is detected: a sale before step 1 makes the level stale. A sale inside the gap
between step 1 and step 2 (one round trip) is overwritten; its order arrives with the next load, the
allocation nets it as an open order, and the next push sets the corrected quantity.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

import requests

from connectors.sdk import StockLevel, StockPushResult
from connectors.sdk.spec import LoadedLevels

from .client import make_client
from .settings import WooCommerceSettings

MAX_BATCH = 100  # WooCommerce's default limit of items per batch request
CALL_ERRORS = (requests.RequestException, KeyError, TypeError, ValueError)


class WooCommerceStockWriter:
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="variations", location_column="_products_id", item_column="id", quantity_column="stock_quantity")

    def __init__(self, settings: WooCommerceSettings) -> None:
        client = make_client(settings)
        self.root, self.session, self.auth = settings.api_root, client["session"], client["auth"]

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        by_product: dict[str, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_product[level.location_id].append(level)
        results: dict[int, StockPushResult] = {}
        for product, product_levels in by_product.items():
            for start in range(0, len(product_levels), MAX_BATCH):
                batch = product_levels[start:start + MAX_BATCH]
                try:
                    settled = self._push_batch(product, batch)
                except CALL_ERRORS as exc:
                    settled = [StockPushResult(level, False, f"{type(exc).__name__}: {exc}") for level in batch]
                results.update((id(result.level), result) for result in settled)
        return [results[id(level)] for level in levels]

    def _push_batch(self, product: str, batch: list[StockLevel]) -> list[StockPushResult]:
        held = self._quantities(product, [level.item_id for level in batch])
        settled: list[StockPushResult] = []
        to_write: list[StockLevel] = []
        for level in batch:
            actual = held.get(level.item_id)
            if actual == level.available:
                settled.append(StockPushResult(level, True, "already at the target", actual=actual))
            elif level.expected is not None and actual != level.expected:
                settled.append(StockPushResult(level, False, f"store holds {actual}, expected {level.expected}",
                                               stale=True, actual=actual))
            else:
                to_write.append(level)
        if to_write:
            settled += self._write(product, to_write)
        return settled

    def _quantities(self, product: str, variations: list[str]) -> dict[str, int | None]:
        response = self.session.get(f"{self.root}/products/{product}/variations", auth=self.auth,
                                    params={"include": ",".join(variations), "per_page": MAX_BATCH})
        response.raise_for_status()
        return {str(v["id"]): v.get("stock_quantity") for v in response.json()}

    def _write(self, product: str, levels: list[StockLevel]) -> list[StockPushResult]:
        body = {"update": [{"id": int(level.item_id), "manage_stock": True, "stock_quantity": level.available}
                           for level in levels]}
        response = self.session.post(f"{self.root}/products/{product}/variations/batch", json=body, auth=self.auth)
        response.raise_for_status()
        answers: dict[str, dict[str, Any]] = {str(item["id"]): item for item in response.json().get("update", [])}
        results = []
        for level in levels:
            answer = answers.get(level.item_id, {})
            if "error" in answer:
                results.append(StockPushResult(level, False, answer["error"].get("message", "refused")))
            elif answer.get("stock_quantity") != level.available:
                results.append(StockPushResult(level, False, f"read back {answer.get('stock_quantity')}",
                                               actual=answer.get("stock_quantity")))
            else:
                results.append(StockPushResult(level, True, actual=level.available))
        return results
