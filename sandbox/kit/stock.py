"""A channel's own stock of each SKU, as platforms without compare-and-set keep it (Taobao, WooCommerce,
JD, Pinduoduo): a write sets quantities (or, incremental, moves them) all or nothing and stamps them
modified; a sale on the channel lowers one under whoever set it last. Keyed by the World's SKU index;
each platform renders its own ids."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from ..world import World


class StockBook:
    def __init__(self, world: World) -> None:
        self.world = world
        self.quantities = world.on_hand()  # what the channel starts out selling: the ERP's stock
        self.modified = {sku.index: sku.modified_at for sku in world.skus}
        self._lock = threading.Lock()

    def settle(self, changes: Mapping[int, int], incremental: bool = False) -> None:
        """Apply a validated write whole, at one tick of the World's clock; an incremental change never
        takes a quantity below zero."""
        with self._lock:
            now = self.world.tick(1)
            for index, quantity in changes.items():
                self.quantities[index] = max(0, self.quantities[index] + quantity) if incremental else quantity
                self.modified[index] = now

    def sell(self, index: int, quantity: int) -> None:
        """A sale on the channel: its stock goes down under whoever last set it."""
        with self._lock:
            self.quantities[index] -= quantity
