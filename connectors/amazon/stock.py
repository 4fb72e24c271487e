"""Pushes seller-fulfilled (MFN) quantities to Amazon: one ``patchListingsItem`` per SKU, or one
``JSON_LISTINGS_FEED`` for a push of ``feed_from`` SKUs or more.

Amazon keeps one seller quantity per SKU and marketplace (``fulfillment_availability`` with channel
``DEFAULT``) and has no compare-and-set, so the SDK's read-then-write writer does the push (its
docstring says how a concurrent sale is detected): ``searchListingsItems`` reads up to 20 SKUs a call
(their quantity and product type, which a patch must name), and what did not move is written. A small
push patches each SKU (batches of 20, each written close to its read); the submission's verdict is the
answer: ``ACCEPTED`` counts as set (Amazon applies it within minutes, so reading it back at once would
show the old quantity), ``INVALID`` fails the level with Amazon's issues. A large one goes as one feed
per 10,000 SKUs (createFeedDocument → upload → createFeed → getFeed polled → the processing report): a
message the report names fails its level with its issues, the others count as set; a feed that ends
``CANCELLED`` or ``FATAL`` fails its levels. A level is addressed by marketplace (in the location's place)
and seller SKU.

An Amazon-fulfilled (FBA) SKU's quantity is Amazon's: its listings carry no inventory item in the
marts, so the stock sync never targets them, and a level naming one anyway is refused here unwritten.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import quote

import requests

from connectors.sdk import StockLevel, StockPushResult
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import SpApiError, call, make_client
from .documents import download, poll, upload
from .settings import MAX_LISTINGS_PAGE, AmazonSettings

LISTINGS, FEEDS = "listings/2021-08-01/items", "feeds/2021-06-30"
FBA_REFUSED = "fulfilled by Amazon (FBA): Amazon holds its stock, channelhub never sets it"
PATCH_BATCH, FEED_BATCH = 20, 10_000  # patchListingsItem: 5 a second, burst 5; a feed: 10,000 messages
FEED_TYPE = "application/json; charset=UTF-8"


class AmazonStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="listings", location_column="marketplace_id", item_column="sku", quantity_column="mfn_quantity")
    max_batch = PATCH_BATCH
    holder = "Amazon"
    call_errors = (requests.RequestException, SpApiError, KeyError, TypeError, ValueError)

    def __init__(self, settings: AmazonSettings) -> None:
        self.settings, self.client, self.seller = settings, make_client(settings), settings.seller_id
        self.product_types: dict[str, str] = {}
        self.fba: set[str] = set()
        self.feeds: list[str] = []  # the feeds this writer submitted, for the audit trail

    def push(self, levels: list[StockLevel], reference: str = "") -> list[StockPushResult]:
        self.max_batch = FEED_BATCH if len(levels) >= self.settings.feed_from else PATCH_BATCH
        return super().push(levels, reference)

    def _push_batch(self, location: str, batch: list[StockLevel]) -> list[StockPushResult]:
        settled = super()._push_batch(location, batch)
        return [StockPushResult(result.level, False, FBA_REFUSED) if result.level.item_id in self.fba else result
                for result in settled]

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        """Each SKU's seller quantity; an unknown SKU is left out (refused by the writer), an FBA one too."""
        held: dict[str, int | None] = {}
        skus = list(dict.fromkeys(level.item_id for level in levels))
        for start in range(0, len(skus), MAX_LISTINGS_PAGE):
            found = call(self.client, "GET", f"{LISTINGS}/{self.seller}", params={
                "marketplaceIds": location, "identifiers": ",".join(skus[start:start + MAX_LISTINGS_PAGE]),
                "identifiersType": "SKU", "pageSize": MAX_LISTINGS_PAGE, "includedData": "summaries,fulfillmentAvailability"})
            for listing in found.get("items", []):
                sku = listing["sku"]
                channels = {c.get("fulfillmentChannelCode"): c.get("quantity")
                            for c in listing.get("fulfillmentAvailability", [])}
                if channels and "DEFAULT" not in channels:
                    self.fba.add(sku)
                    continue
                self.product_types[sku] = _product_type(listing, location)
                held[sku] = channels.get("DEFAULT")
        return held

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        return self._feed(location, levels) if len(levels) >= self.settings.feed_from else self._patch(location, levels)

    def _patches(self, level: StockLevel) -> list[dict[str, Any]]:
        return [{"op": "replace", "path": "/attributes/fulfillment_availability",
                 "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": level.available}]}]

    def _patch(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        answers: dict[str, int | str] = {}
        for level in levels:
            body = {"productType": self.product_types[level.item_id], "patches": self._patches(level)}
            try:
                answer = call(self.client, "PATCH", f"{LISTINGS}/{self.seller}/{quote(level.item_id, safe='')}",
                              params={"marketplaceIds": location}, json=body)
            except SpApiError as exc:  # one SKU refused: the others of the batch still go
                answers[level.item_id] = str(exc)
                continue
            if answer.get("status") == "ACCEPTED":
                answers[level.item_id] = level.available
            else:
                issues = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in answer.get("issues", []))
                answers[level.item_id] = f"submission {answer.get('submissionId')} {answer.get('status')}: {issues}"
        return answers

    def _feed(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        content = {"header": {"sellerId": self.seller, "version": "2.0", "issueLocale": "en_US"},
                   "messages": [{"messageId": n, "sku": level.item_id, "operationType": "PATCH",
                                 "productType": self.product_types[level.item_id], "patches": self._patches(level)}
                                for n, level in enumerate(levels, start=1)]}
        document = call(self.client, "POST", f"{FEEDS}/documents", json={"contentType": FEED_TYPE})
        upload(self.settings, document["url"], json.dumps(content).encode(), FEED_TYPE)
        feed_id = call(self.client, "POST", f"{FEEDS}/feeds", json={
            "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [location],
            "inputFeedDocumentId": document["feedDocumentId"]})["feedId"]
        self.feeds.append(feed_id)
        feed = poll(self.client, self.settings, f"{FEEDS}/feeds/{feed_id}")
        if feed.get("processingStatus") != "DONE":
            return dict.fromkeys((level.item_id for level in levels),
                                 f"feed {feed_id} ended {feed.get('processingStatus')}: nothing known to be set")
        result = json.loads(download(self.settings, call(
            self.client, "GET", f"{FEEDS}/documents/{feed['resultFeedDocumentId']}")))
        refused: dict[int, list[str]] = {}
        for issue in result.get("issues", []):
            if issue.get("severity") == "ERROR":
                refused.setdefault(issue.get("messageId"), []).append(f"{issue.get('code')}: {issue.get('message')}")
        return {level.item_id: f"feed {feed_id} message {n}: {'; '.join(refused[n])}" if n in refused else level.available
                for n, level in enumerate(levels, start=1)}


def _product_type(listing: dict[str, Any], marketplace: str) -> str:
    """The product type a patch must name: the listing's summary in the marketplace says it."""
    return next((s["productType"] for s in listing.get("summaries", []) if s.get("marketplaceId") == marketplace),
                "PRODUCT")
