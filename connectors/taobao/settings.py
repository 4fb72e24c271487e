"""Validated settings of one Taobao/Tmall shop (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # trades.sold.increment.get and refunds.receive.get: page_size ≤ 100
MAX_WINDOW_MINUTES = 24 * 60  # start_modified..end_modified may span at most one day


class TaobaoSettings(RestSettings):
    """``app_key``/``app_secret`` identify the application (TOP console); ``session`` is the shop's
    authorisation of it (the seller's session key). ``start_date``: the first run reads trades modified
    since then, one ``window_minutes`` window per call (TOP allows a day; 30 minutes suits busy shops)."""

    base_url: str = "https://eco.taobao.com"
    app_key: SecretStr
    app_secret: SecretStr
    session: SecretStr
    sign_method: Literal["md5", "hmac", "hmac-sha256"] = "hmac-sha256"
    start_date: UtcDatetime
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    window_minutes: int = Field(MAX_WINDOW_MINUTES, ge=1, le=MAX_WINDOW_MINUTES)
