"""Validated settings of one JD POP shop (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # pop.order.search and sku.read.searchSkuList: page_size ≤ 100
MAX_REFUND_PAGE_SIZE = 50  # refundapply.queryPageList: pageSize ≤ 50
MAX_WINDOW_MINUTES = 30 * 24 * 60  # start_date..end_date: at most 30 days (not documented; what JOS enforces is unknown)


class JdSettings(RestSettings):
    """``app_key``/``app_secret`` identify the application (JOS console); ``access_token`` is the shop's
    authorisation of it (OAuth). ``start_date``: the first run reads orders modified, and refunds
    reviewed, since then, one ``window_minutes`` window per call."""

    base_url: str = "https://api.jd.com"
    app_key: SecretStr
    app_secret: SecretStr
    access_token: SecretStr
    start_date: UtcDatetime
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    refund_page_size: int = Field(MAX_REFUND_PAGE_SIZE, ge=1, le=MAX_REFUND_PAGE_SIZE)
    window_minutes: int = Field(24 * 60, ge=1, le=MAX_WINDOW_MINUTES)
