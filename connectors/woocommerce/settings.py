"""Validated settings of one WooCommerce store (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # WordPress REST: per_page 1..100


class WooCommerceSettings(RestSettings):
    """``base_url`` is the WordPress site (``https://shop.example.com``); the connector appends
    ``/wp-json/wc/v3``. Over https it authenticates with HTTP Basic, over plain http with OAuth 1.0a
    signatures, as WooCommerce requires. ``consumer_key``/``consumer_secret`` are a REST API key with
    read access (WooCommerce > Settings > Advanced > REST API)."""

    consumer_key: SecretStr
    consumer_secret: SecretStr
    start_date: UtcDatetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/wp-json/wc/v3"
