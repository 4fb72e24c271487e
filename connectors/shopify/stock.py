"""Pushes available quantities to Shopify through the GraphQL Admin API's ``inventorySetQuantities``.

Why GraphQL: the REST ``inventory_levels/set.json`` sets one level per call and cannot compare; the
mutation takes up to 250 levels per call and compares each against ``compareQuantity``. We send the
quantity we believe the shop holds (``StockLevel.expected``), so a level that changed on the shop
since (a sale, a merchant's edit, or our own earlier attempt whose answer was lost) is refused
instead of overwritten. A refused level is read back: if it already holds the target it was an
earlier attempt that landed (reported as done, nothing re-applied); otherwise it is reported stale
with the quantity the shop holds.

Retries are the SDK's tenacity session: 429, 5xx, timeouts, and a ``THROTTLED`` answer (HTTP 200 with
a GraphQL error, marked retryable through ``also_retry``), all under one policy. Between calls the
:class:`CostPacer` reads ``extensions.cost.throttleStatus`` and waits for the bucket to refill
before a call would be throttled.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar

import requests

from connectors.sdk import StockLevel, StockPushResult, retrying_session
from connectors.sdk.spec import LoadedLevels

from .client import TOKEN_HEADER
from .settings import ShopifySettings

log = logging.getLogger("channelhub.shopify.stock")

MAX_QUANTITIES_PER_CALL = 250  # Shopify's cap on a mutation's input array
REASON = "correction"
STALE = "COMPARE_QUANTITY_STALE"
SET_AVAILABLE = """mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { createdAt reason referenceDocumentUri }
    userErrors { field message code }
  }
}"""
READ_AVAILABLE = """query ReadAvailable($ids: [ID!]!) {
  nodes(ids: $ids) { ... on InventoryLevel { id quantities(names: ["available"]) { name quantity } } }
}"""


class CallFailed(Exception):
    """A GraphQL call that did not execute, or whose answer cannot tell whether it did."""


# What a call can end in besides an answer: refused, throttled past the policy, unreachable, or a body
# without the expected fields.
CALL_ERRORS = (CallFailed, requests.RequestException, KeyError, TypeError)


class CostPacer:
    """Client-side pacing from GraphQL's calculated cost: after each answer, when the bucket holds less
    than that call cost, sleep until ``restoreRate`` has refilled the difference. The next call (the
    same mutation, same cost) then fits, so a steady push is never throttled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.slept = 0.0

    def __call__(self, response: requests.Response) -> None:
        try:
            cost = response.json()["extensions"]["cost"]
            status = cost["throttleStatus"]
            deficit = float(cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
            rate = float(status["restoreRate"])
        except (ValueError, KeyError, TypeError):
            return  # not a GraphQL answer with a cost (an error page, a cut body)
        if deficit > 0 and rate > 0:
            with self._lock:
                self.slept += deficit / rate
            time.sleep(deficit / rate)


def _gid(kind: str, value: str) -> str:
    return f"gid://shopify/{kind}/{value}"


def _level_gid(level: StockLevel) -> str:
    return f"gid://shopify/InventoryLevel/{level.location_id}?inventory_item_id={level.item_id}"


class ShopifyStockWriter:
    """Sets ``available`` at (inventory item, location) pairs, compare-and-set, in batches of 250."""

    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="inventory_levels", location_column="location_id", item_column="inventory_item_id",
        quantity_column="available")

    def __init__(self, settings: ShopifySettings, batch_size: int = MAX_QUANTITIES_PER_CALL) -> None:
        self.settings = settings
        self.pacer = CostPacer()
        # A plain session: one endpoint, no paging, so dlt's RESTClient (and its config resolution) adds nothing.
        self.session = retrying_session(settings.retry_policy(), self.pacer, also_retry=_throttled)
        self.session.headers[TOKEN_HEADER] = settings.access_token.get_secret_value()
        self.url = f"{settings.api_root}graphql.json"
        self.batch_size = min(batch_size, MAX_QUANTITIES_PER_CALL)

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        """One result per level, in the order given. A failed batch fails only its own levels."""
        results: dict[int, StockPushResult] = {}
        sendable: list[tuple[int, StockLevel]] = []
        for position, level in enumerate(levels):
            if not (level.item_id.isdigit() and level.location_id.isdigit()):
                results[position] = StockPushResult(level, False, "Shopify location and inventory item ids are integers")
            elif level.expected is None:
                results[position] = StockPushResult(level, False, "the shop's current quantity is unknown (load "
                                                                  "the account first): nothing to compare against")
            else:
                sendable.append((position, level))
        for start in range(0, len(sendable), self.batch_size):
            positions, batch = zip(*sendable[start:start + self.batch_size], strict=True)
            results.update(zip(positions, self._push_batch(list(batch), reference), strict=True))
        return [results[position] for position in range(len(levels))]

    def _push_batch(self, batch: list[StockLevel], reference: str) -> list[StockPushResult]:
        """Send the batch; levels named in ``userErrors`` get their own result and the others are sent
        again (Shopify applies nothing from an input with any user error). Each round settles at least
        one level, so this ends within ``len(batch)`` calls."""
        settled: dict[int, StockPushResult] = {}
        pending = list(range(len(batch)))
        while pending:
            try:
                payload = self._call(SET_AVAILABLE, {"input": self._input([batch[i] for i in pending], reference)})
                errors = payload["inventorySetQuantities"]["userErrors"]
            except CALL_ERRORS as exc:
                detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CallFailed) else str(exc)
                settled.update({i: StockPushResult(batch[i], False, detail) for i in pending})
                break
            if not errors:
                settled.update({i: StockPushResult(batch[i], True) for i in pending})
                break
            by_position = self._errors_by_position(errors, pending)
            if None in by_position:  # an error about the whole input (reason, name, reference)
                settled.update({i: StockPushResult(batch[i], False, _user_errors_text(errors)) for i in pending})
                break
            stale = [i for i, found in by_position.items() if all(e.get("code") == STALE for e in found)]
            settled.update(zip(stale, self._settle_stale([batch[i] for i in stale]), strict=True))
            for i, found in by_position.items():
                if i not in stale:
                    settled[i] = StockPushResult(batch[i], False, _user_errors_text(found))
            pending = [i for i in pending if i not in by_position]
        return [settled[i] for i in range(len(batch))]

    @staticmethod
    def _errors_by_position(errors: list[dict[str, Any]], pending: list[int]) -> dict[int | None, list[dict]]:
        """Map ``field: ["input", "quantities", "<n>", ...]`` back to the batch position of quantity n."""
        found: dict[int | None, list[dict]] = {}
        for error in errors:
            path = error.get("field") or []
            index = int(path[2]) if len(path) > 2 and path[1] == "quantities" and str(path[2]).isdigit() else None
            key = pending[index] if index is not None and index < len(pending) else None
            found.setdefault(key, []).append(error)
        return found

    def _settle_stale(self, levels: list[StockLevel]) -> list[StockPushResult]:
        """Read what the shop holds for levels whose compare failed: the target already (an earlier
        attempt landed, e.g. its answer was lost) is done; anything else is reported, not overwritten."""
        if not levels:
            return []
        try:
            nodes = self._call(READ_AVAILABLE, {"ids": [_level_gid(level) for level in levels]})["nodes"]
            actual = [next((q["quantity"] for q in node["quantities"] if q["name"] == "available"), None)
                      if node else None for node in nodes]
        except CALL_ERRORS as exc:
            log.warning("could not read back %d stale levels: %s", len(levels), exc)
            actual = [None] * len(levels)
        results = []
        for level, held in zip(levels, actual, strict=True):
            if held == level.available:
                results.append(StockPushResult(level, True, "already at target (an earlier attempt landed)", actual=held))
            else:
                shown = "unknown" if held is None else str(held)
                results.append(StockPushResult(
                    level, False, f"stale: the shop holds {shown}, expected {level.expected}; not overwritten",
                    stale=True, actual=held))
        return results

    def _input(self, levels: list[StockLevel], reference: str) -> dict[str, Any]:
        return {
            "name": "available", "reason": REASON, "ignoreCompareQuantity": False,
            **({"referenceDocumentUri": reference} if reference else {}),
            "quantities": [{"inventoryItemId": _gid("InventoryItem", level.item_id),
                            "locationId": _gid("Location", level.location_id),
                            "quantity": level.available, "compareQuantity": level.expected} for level in levels],
        }

    def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.url, json={"query": query, "variables": variables})
        if response.status_code != 200:
            raise CallFailed(f"HTTP {response.status_code}: {_errors_text(response)}")
        try:
            body = response.json()
        except ValueError:
            raise CallFailed("unreadable answer: the change may have landed; the next sync's "
                             "compare-and-set settles it") from None
        errors = body.get("errors") or []
        if _throttled(response):
            raise CallFailed("Shopify kept throttling the call past the retry policy (calculated cost above "
                             "what the bucket holds)")
        if errors:
            raise CallFailed("; ".join(str(error.get("message")) for error in errors))
        return body["data"]


def _user_errors_text(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{error.get('code')}: {error.get('message')}" for error in errors)


def _errors_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("errors"))[:200]
    except (ValueError, AttributeError):
        return response.text[:200]


def _throttled(response: requests.Response) -> bool:
    """A 200 whose GraphQL errors say ``THROTTLED``: the call was not executed and may be sent again."""
    if response.status_code != 200:
        return False
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any((error.get("extensions") or {}).get("code") == "THROTTLED" for error in errors)
