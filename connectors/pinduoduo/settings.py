"""Validated settings of one Pinduoduo shop (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # order.number.list.increment.get, refund.list.increment.get, goods.list.get: ≤ 100
MAX_WINDOW_MINUTES = 30  # start_updated_at..end_updated_at may span at most 30 minutes


class PinduoduoSettings(RestSettings):
    """``client_id``/``client_secret`` identify the application (PDD's open platform console);
    ``access_token`` is the shop's authorisation of it. ``start_date``: the first run reads orders and
    after-sales updated since then, one ``window_minutes`` window per call (PDD allows 30 minutes, so a
    day costs 48 listing calls per stream)."""

    base_url: str = "https://gw-api.pinduoduo.com"
    client_id: SecretStr
    client_secret: SecretStr
    access_token: SecretStr
    start_date: UtcDatetime
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    window_minutes: int = Field(MAX_WINDOW_MINUTES, ge=1, le=MAX_WINDOW_MINUTES)
