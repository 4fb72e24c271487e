"""Pushes seller-fulfilled (MFN) quantities to Amazon through Listings Items ``patchListingsItem``.

Amazon keeps one seller quantity per SKU and marketplace (``fulfillment_availability`` with channel
``DEFAULT``) and has no compare-and-set, so the SDK's read-then-write writer does the push (its
docstring says how a concurrent sale is detected): ``getListingsItem`` reads each SKU's quantity and
product type, each SKU is patched in its own call, and the submission's verdict is the answer:
``ACCEPTED`` is the quantity set (Amazon applies it within minutes, so reading it back at once would
show the old one), ``INVALID`` fails the level with Amazon's issues. A level is addressed by
marketplace (in the location's place) and seller SKU.

An Amazon-fulfilled (FBA) SKU's quantity is Amazon's: its listings carry no inventory item in the
marts, so the stock sync never targets them, and a level naming one anyway is refused here unwritten.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import requests

from connectors.sdk import StockLevel, StockPushResult
from connectors.sdk.spec import LoadedLevels
from connectors.sdk.stock_writer import ReadThenWriteStockWriter

from .client import SpApiError, call, make_client
from .settings import AmazonSettings

LISTINGS = "listings/2021-08-01/items"
FBA_REFUSED = "fulfilled by Amazon (FBA): Amazon holds its stock, channelhub never sets it"


class AmazonStockWriter(ReadThenWriteStockWriter):
    loaded_levels: ClassVar[LoadedLevels | None] = LoadedLevels(
        stream="listings", location_column="marketplace_id", item_column="sku", quantity_column="mfn_quantity")
    max_batch = 20  # one call per SKU (patchListingsItem: 5 a second, burst 5)
    holder = "Amazon"
    call_errors = (requests.RequestException, SpApiError, KeyError, TypeError, ValueError)

    def __init__(self, settings: AmazonSettings) -> None:
        self.client, self.seller = make_client(settings), settings.seller_id
        self.product_types: dict[str, str] = {}
        self.fba: set[str] = set()

    def _push_batch(self, location: str, batch: list[StockLevel]) -> list[StockPushResult]:
        settled = super()._push_batch(location, batch)
        return [StockPushResult(result.level, False, FBA_REFUSED) if result.level.item_id in self.fba else result
                for result in settled]

    def read(self, location: str, levels: list[StockLevel]) -> dict[str, int | None]:
        """Each SKU's seller quantity; an unknown SKU is left out (refused by the writer), an FBA one too."""
        held: dict[str, int | None] = {}
        for level in levels:
            try:
                listing = call(self.client, "GET", self._path(level.item_id),
                               params={"marketplaceIds": location, "includedData": "summaries,fulfillmentAvailability"})
            except SpApiError as exc:
                if "HTTP 404" in str(exc):
                    continue
                raise
            channels = {c.get("fulfillmentChannelCode"): c.get("quantity") for c in listing.get("fulfillmentAvailability", [])}
            if channels and "DEFAULT" not in channels:
                self.fba.add(level.item_id)
                continue
            self.product_types[level.item_id] = _product_type(listing, location)
            held[level.item_id] = channels.get("DEFAULT")
        return held

    def write(self, location: str, levels: list[StockLevel]) -> dict[str, int | str]:
        answers: dict[str, int | str] = {}
        for level in levels:
            body = {"productType": self.product_types[level.item_id], "patches": [{
                "op": "replace", "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": level.available}]}]}
            try:
                answer = call(self.client, "PATCH", self._path(level.item_id), params={"marketplaceIds": location},
                              json=body)
            except SpApiError as exc:  # one SKU refused: the others of the batch still go
                answers[level.item_id] = str(exc)
                continue
            if answer.get("status") == "ACCEPTED":
                answers[level.item_id] = level.available
            else:
                issues = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in answer.get("issues", []))
                answers[level.item_id] = f"submission {answer.get('submissionId')} {answer.get('status')}: {issues}"
        return answers

    def _path(self, sku: str) -> str:
        return f"{LISTINGS}/{self.seller}/{quote(sku, safe='')}"


def _product_type(listing: dict[str, Any], marketplace: str) -> str:
    """The product type a patch must name: the listing's summary in the marketplace says it."""
    return next((s["productType"] for s in listing.get("summaries", []) if s.get("marketplaceId") == marketplace),
                "PRODUCT")
