"""Validated settings of one Shopify account (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, TimeZoneName, UtcDatetime

MAX_PAGE_SIZE = 250  # Shopify rejects limit > 250


class ShopifySettings(RestSettings):
    """``base_url`` is the shop's origin (``https://my-shop.myshopify.com`` or a sandbox's
    ``http://127.0.0.1:8701``); the connector appends ``/admin/api/<api_version>/``.

    ``calls_per_second`` is the plan's leak rate (2 Standard, 4 Advanced, 20 Plus): the client paces
    itself from ``X-Shopify-Shop-Api-Call-Limit`` at that rate so it never has to be told 429.
    """

    api_version: str = Field("2024-07", pattern=r"^\d{4}-(01|04|07|10)$")
    access_token: SecretStr
    start_date: UtcDatetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    calls_per_second: float = Field(2.0, gt=0)
    timezone: TimeZoneName = "UTC"  # the shop's IANA zone (shop.json iana_timezone): its business days

    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/admin/api/{self.api_version}/"
