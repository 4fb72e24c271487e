"""Stock write-back for channels without compare-and-set (WooCommerce, Taobao, most marketplaces):
read, refuse what moved, write the rest, read the answer back. Written once; a channel says how to
read and write one batch.

Levels are grouped by location (for these channels the product or item a batch call works on) and cut
into batches of the API's maximum. Per batch:

1. read the current quantities and refuse every level that moved away from ``expected`` (a sale or an
   edit since channelhub last set or loaded it): reported stale with the quantity read, nothing
   written. A level already at its target is done (an earlier push whose answer was lost); an item the
   location does not have is refused without a write;
2. write the others in one call and check the answer: an item not at its target is a failure.

How a concurrent sale is detected: a sale before step 1 makes the level stale. A sale inside the gap
between the two calls (one round trip) is overwritten; its order arrives with the next load, the
allocation nets it as an open order, and the next push sets the corrected quantity. A batch whose call
fails reports each of its levels failed with the error; other batches go on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from typing import ClassVar

import requests

from .spec import LoadedLevels, StockLevel, StockPushResult


def settled_by_reading(level: StockLevel, actual: int | None, holder: str) -> StockPushResult | None:
    """What reading the level just before writing it settles: already at the target (nothing to send),
    or moved since channelhub last saw it (stale: reported, not overwritten); None when it must be written."""
    if actual == level.available:
        return StockPushResult(level, True, "already at the target", actual=actual)
    if level.expected is not None and actual != level.expected:
        return StockPushResult(level, False, f"{holder} holds {actual}, expected {level.expected}", stale=True,
                               actual=actual)
    return None


class ReadThenWriteStockWriter(ABC):
    loaded_levels: ClassVar[LoadedLevels | None]
    max_batch: ClassVar[int]
    holder: ClassVar[str]  # how a stale message names the channel: "store", "Taobao"
    call_errors: ClassVar[tuple[type[Exception], ...]] = (requests.RequestException, KeyError, TypeError, ValueError)

    @abstractmethod
    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        """The quantity of each of ``levels``' items the location has, by item id."""

    @abstractmethod
    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        """Set ``levels``; per item id, the quantity the answer shows, or the channel's refusal."""

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        by_location: dict[str, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_location[level.location_id].append(level)
        results: dict[int, StockPushResult] = {}
        for location, located in by_location.items():
            for start in range(0, len(located), self.max_batch):
                batch = located[start:start + self.max_batch]
                try:
                    settled = self._push_batch(location, batch)
                except self.call_errors as exc:
                    settled = [StockPushResult(level, False, f"{type(exc).__name__}: {exc}") for level in batch]
                results.update((id(result.level), result) for result in settled)
        return [results[id(level)] for level in levels]

    def _push_batch(self, location: str, batch: list[StockLevel]) -> list[StockPushResult]:
        held = self.read(location, batch)
        settled, to_write = [], []
        for level in batch:
            actual = held.get(level.item_id)
            if level.item_id not in held:
                settled.append(StockPushResult(level, False, f"{location} has no item {level.item_id}"))
            elif (outcome := settled_by_reading(level, actual, self.holder)) is not None:
                settled.append(outcome)
            else:
                to_write.append(level)
        answers = self.write(location, to_write) if to_write else {}
        for level in to_write:
            answer = answers.get(level.item_id, "not in the answer")
            if isinstance(answer, str):
                settled.append(StockPushResult(level, False, answer))
            elif answer != level.available:
                settled.append(StockPushResult(level, False, f"read back {answer}", actual=answer))
            else:
                settled.append(StockPushResult(level, True, actual=answer))
        return settled
