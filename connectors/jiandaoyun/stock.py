"""Stock mirror to a Jiandaoyun form: per SKU and sales channel, what channelhub allocates to the channel
and the figures behind it (on hand in the channel's warehouses, available to promise), one record each in
the account's ``stock_writeback`` form, so a merchant running 进销存 on Jiandaoyun sees the allocations
there. A level is one figure of one record: ``StockLevel(sku, location_id=<channel>, item_id=<figure>)``
(``connectors.sdk.MIRROR_FIGURES``), so the stock sync diffs, audits and retries each figure on its own.

Jiandaoyun has no compare-and-set, so each batch (one channel, up to 100 SKUs: the batch calls' limit)
is read first (``data/list`` filtered on the SKUs): a figure that moved away from ``expected`` is
reported stale and left alone, one already at the target is done. Missing records are created in one
``data/batch_create``; existing ones are updated with ``data/batch_update``, which sets the same values
on many records, so once per distinct set of changed figures. Every write carries a ``transaction_id``
derived from the sync's reference and the write itself: a retry of the same write (an answer lost on
the way) is recognised by Jiandaoyun and not applied twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, ClassVar

import requests
from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import MIRROR_FIGURES, StockLevel, StockPushResult, paginate_checked
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import settled_by_reading

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
        if unknown := sorted({level.item_id for level in levels} - set(MIRROR_FIGURES)):
            raise ValueError(f"mirror levels name figures {unknown}; known: {', '.join(MIRROR_FIGURES)}")
        by_record: dict[str, dict[str, list[StockLevel]]] = defaultdict(lambda: defaultdict(list))
        for level in levels:
            by_record[level.location_id][level.sku].append(level)
        results: dict[int, StockPushResult] = {}
        for channel, by_sku in by_record.items():
            skus = list(by_sku)
            for start in range(0, len(skus), MAX_PAGE_SIZE):
                batch = {sku: by_sku[sku] for sku in skus[start:start + MAX_PAGE_SIZE]}
                try:
                    settled = self._push_batch(channel, batch, reference)
                except (*CALL_ERRORS, MappingError) as exc:
                    settled = [StockPushResult(level, False, f"{type(exc).__name__}: {exc}")
                               for located in batch.values() for level in located]
                results.update((id(result.level), result) for result in settled)
        return [results[id(level)] for level in levels]

    def held(self, channel: str, skus: list[str]) -> dict[str, tuple[str, dict[str, int | None]]]:
        """The form's record (data_id, figure -> value) of each SKU the channel has one for."""
        sku, key = self.fields["sku"].widget, self.fields["channel"].widget
        figures = {figure: self.fields[figure].widget for figure in MIRROR_FIGURES}
        body = {**self.target, "limit": MAX_PAGE_SIZE, "fields": [sku, key, *figures.values()], "filter": {
            "rel": "and", "cond": [{"field": sku, "type": "text", "method": "in", "value": skus},
                                   {"field": key, "type": "text", "method": "eq", "value": [channel]}]}}
        pages = paginate_checked(RESTClient(**self.client, data_selector="data"), self.account, "stock_writeback",
                                 LIST, method="POST", json=body)
        return {str(record[sku]): (record["_id"], {figure: _number(record.get(widget))
                                                  for figure, widget in figures.items()})
                for page in pages for record in page}

    def _push_batch(self, channel: str, batch: dict[str, list[StockLevel]],
                    reference: str) -> list[StockPushResult]:
        held = self.held(channel, list(batch))
        settled: list[StockPushResult] = []
        to_create: dict[str, list[StockLevel]] = {}
        to_update: dict[tuple[tuple[str, int], ...], list[tuple[str, list[StockLevel]]]] = defaultdict(list)
        for sku, levels in batch.items():
            data_id, actual = held.get(sku, (None, {}))
            if data_id is None:
                to_create[sku] = levels
                continue
            changed = []
            for level in levels:
                if (outcome := settled_by_reading(level, actual.get(level.item_id), "the form")) is not None:
                    settled.append(outcome)
                else:
                    changed.append(level)
            if changed:
                to_update[tuple(sorted((level.item_id, level.available) for level in changed))].append(
                    (data_id, changed))
        if to_create:
            settled += self._create(channel, to_create, reference)
        for values, records in to_update.items():
            settled += self._update(dict(values), records, reference)
        return settled

    def _create(self, channel: str, records: dict[str, list[StockLevel]], reference: str) -> list[StockPushResult]:
        sku, key = self.fields["sku"].widget, self.fields["channel"].widget
        rows = [{sku: {"value": code}, key: {"value": channel},
                 **{self.fields[level.item_id].widget: {"value": level.available} for level in levels}}
                for code, levels in records.items()]
        levels = [level for located in records.values() for level in located]
        return self._settle(BATCH_CREATE, {"data_list": rows, "is_start_workflow": False}, reference, len(rows), levels)

    def _update(self, values: dict[str, int], records: list[tuple[str, list[StockLevel]]],
                reference: str) -> list[StockPushResult]:
        data = {self.fields[figure].widget: {"value": value} for figure, value in values.items()}
        levels = [level for _, located in records for level in located]
        return self._settle(BATCH_UPDATE, {"data_ids": [data_id for data_id, _ in records], "data": data}, reference,
                            len(records), levels)

    def _settle(self, path: str, body: dict[str, Any], reference: str, records: int,
                levels: list[StockLevel]) -> list[StockPushResult]:
        """One write's outcome for each of its levels: a refused or lost write fails its own levels only, so
        the batch's other writes still go out (and the next sync finds a write whose answer was lost)."""
        try:
            answer = self._write(path, body, reference)
        except CALL_ERRORS as exc:
            return [StockPushResult(level, False, f"{type(exc).__name__}: {exc}") for level in levels]
        done = answer.get("success_count") == records
        return [StockPushResult(level, done, "" if done else f"{path.rsplit('/', 1)[1]} answered {answer}",
                                actual=level.available if done else None) for level in levels]

    def _write(self, path: str, body: dict[str, Any], reference: str) -> dict[str, Any]:
        """One batch call; its transaction id is a function of the sync and of what it writes, so the
        retrying session's resend of a call whose answer was lost is the same transaction."""
        content = f"{reference}|{path}|{sorted(map(str, body.items()))}"
        return post(self.settings, self.client, path,
                    {**self.target, **body, "transaction_id": str(uuid.uuid5(uuid.NAMESPACE_URL, content))})


def _number(value: Any) -> int | None:
    """A number widget's value as the figure it holds; an empty widget holds none."""
    return None if value in (None, "") else int(value)
