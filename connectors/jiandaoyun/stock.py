"""Stock write-back to a Jiandaoyun form: channelhub's available-to-promise level per SKU and warehouse, one
record each in the account's ``stock_writeback`` form, so a merchant running 进销存 on Jiandaoyun sees the
allocations there.

Jiandaoyun has no compare-and-set, so each batch (one warehouse, up to 100 SKUs: the batch calls' limit)
is read first (``data/list`` filtered on the SKUs): a record that moved away from ``expected`` is
reported stale and left alone, one already at the target is done. Missing records are created in one
``data/batch_create``; existing ones are updated with ``data/batch_update``, which sets one value on many
records, so once per distinct quantity. Every write carries a ``transaction_id`` derived from the sync's
reference and the write itself: a retry of the same write (an answer lost on the way) is recognised by
Jiandaoyun and not applied twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, ClassVar

import requests
from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import StockLevel, StockPushResult, paginate_checked
from connectors.sdk.spec import LoadedLevels

from .client import (
    BATCH_CREATE,
    BATCH_UPDATE,
    LIST,
    Field,
    JiandaoyunError,
    MappingError,
    make_client,
    post,
    resolve,
)
from .settings import MAX_PAGE_SIZE, JiandaoyunSettings

CALL_ERRORS = (requests.RequestException, JiandaoyunError, KeyError, TypeError, ValueError)


class JiandaoyunStockWriter:
    # the form is channelhub's own output, not a channel's holding: nothing loaded to compare against
    loaded_levels: ClassVar[LoadedLevels | None] = None

    def __init__(self, account: str, settings: JiandaoyunSettings) -> None:
        assert settings.stock_writeback is not None
        self.account, self.settings, self.form = account, settings, settings.stock_writeback
        self.client = make_client(settings)
        self._fields: dict[str, Field] | None = None
        self.target = {"app_id": settings.app_of(self.form), "entry_id": self.form.entry_id}

    @property
    def fields(self) -> dict[str, Field]:
        if self._fields is None:  # resolved on first use: a writer is made even when nothing is pushed
            self._fields = resolve(self.settings, self.client, self.form, self.settings.writeback_labels(),
                                   "stock write-back")
        return self._fields

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        by_location: dict[str, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_location[level.location_id].append(level)
        results: dict[int, StockPushResult] = {}
        for location, located in by_location.items():
            for start in range(0, len(located), MAX_PAGE_SIZE):
                batch = located[start:start + MAX_PAGE_SIZE]
                try:
                    settled = self._push_batch(location, batch, reference)
                except (*CALL_ERRORS, MappingError) as exc:
                    settled = [StockPushResult(level, False, f"{type(exc).__name__}: {exc}") for level in batch]
                results.update((id(result.level), result) for result in settled)
        return [results[id(level)] for level in levels]

    def held(self, location: str, skus: list[str]) -> dict[str, tuple[str, int | None]]:
        """The form's record (data_id, quantity) of each SKU the warehouse has one for."""
        sku, warehouse, quantity = (self.fields[c].widget for c in ("sku", "warehouse", "quantity"))
        body = {**self.target, "limit": MAX_PAGE_SIZE, "fields": [sku, warehouse, quantity], "filter": {
            "rel": "and", "cond": [{"field": sku, "type": "text", "method": "in", "value": skus},
                                   {"field": warehouse, "type": "text", "method": "eq", "value": [location]}]}}
        pages = paginate_checked(RESTClient(**self.client, data_selector="data"), self.account, "stock_writeback",
                                 LIST, method="POST", json=body)
        held: dict[str, tuple[str, int | None]] = {}
        for page in pages:
            for record in page:
                value = record.get(quantity)
                held[str(record[sku])] = (record["_id"], None if value in (None, "") else int(value))
        return held

    def _push_batch(self, location: str, batch: list[StockLevel], reference: str) -> list[StockPushResult]:
        held = self.held(location, [level.item_id for level in batch])
        settled, to_create, to_update = [], [], defaultdict(list)
        for level in batch:
            data_id, actual = held.get(level.item_id, (None, None))
            if data_id is not None and actual == level.available:
                settled.append(StockPushResult(level, True, "already at the target", actual=actual))
            elif data_id is not None and level.expected is not None and actual != level.expected:
                settled.append(StockPushResult(level, False, f"the form holds {actual}, expected {level.expected}",
                                               stale=True, actual=actual))
            elif data_id is None:
                to_create.append(level)
            else:
                to_update[level.available].append((data_id, level))
        if to_create:
            settled += self._create(location, to_create, reference)
        for quantity, pairs in to_update.items():
            settled += self._update(quantity, pairs, reference)
        return settled

    def _create(self, location: str, levels: list[StockLevel], reference: str) -> list[StockPushResult]:
        sku, warehouse, quantity = (self.fields[c].widget for c in ("sku", "warehouse", "quantity"))
        rows = [{sku: {"value": level.item_id}, warehouse: {"value": location}, quantity: {"value": level.available}}
                for level in levels]
        answer = self._write(BATCH_CREATE, {"data_list": rows, "is_start_workflow": False}, reference)
        created = answer.get("success_count") == len(levels)
        return [StockPushResult(level, created, "" if created else f"batch_create answered {answer}",
                                actual=level.available if created else None) for level in levels]

    def _update(self, available: int, pairs: list[tuple[str, StockLevel]], reference: str) -> list[StockPushResult]:
        quantity = self.fields["quantity"].widget
        answer = self._write(BATCH_UPDATE, {"data_ids": [data_id for data_id, _ in pairs],
                                            "data": {quantity: {"value": available}}}, reference)
        updated = answer.get("success_count") == len(pairs)
        return [StockPushResult(level, updated, "" if updated else f"batch_update answered {answer}",
                                actual=available if updated else None) for _, level in pairs]

    def _write(self, path: str, body: dict[str, Any], reference: str) -> dict[str, Any]:
        """One batch call; its transaction id is a function of the sync and of what it writes, so the
        retrying session's resend of a call whose answer was lost is the same transaction."""
        content = f"{reference}|{path}|{sorted(map(str, body.items()))}"
        return post(self.settings, self.client, path,
                    {**self.target, **body, "transaction_id": str(uuid.uuid5(uuid.NAMESPACE_URL, content))})
