"""Validated settings of one Shopify account (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, SecretStr, field_validator

from connectors.sdk import RestSettings

MAX_PAGE_SIZE = 250  # Shopify rejects limit > 250


class ShopifySettings(RestSettings):
    """``base_url`` is the shop's origin (``https://my-shop.myshopify.com`` or a sandbox's
    ``http://127.0.0.1:8701``); the connector appends ``/admin/api/<api_version>/``.

    ``calls_per_second`` is the plan's leak rate (2 Standard, 4 Advanced, 20 Plus): the client paces
    itself from ``X-Shopify-Shop-Api-Call-Limit`` at that rate so it never has to be told 429.
    """

    api_version: str = Field("2024-07", pattern=r"^\d{4}-(01|04|07|10)$")
    access_token: SecretStr
    start_date: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    calls_per_second: float = Field(2.0, gt=0)

    @field_validator("start_date")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        """A naive start date would be read in whatever zone the worker runs in."""
        if value.tzinfo is None:
            raise ValueError("start_date needs a UTC offset, e.g. 2024-01-01T00:00:00Z")
        return value.astimezone(UTC)

    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/admin/api/{self.api_version}/"
