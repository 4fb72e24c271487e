"""Validated settings of one Jushuitan account (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_ORDER_PAGE = 50  # orders.single.query and the after-sales query: page_size ≤ 50
MAX_STOCK_PAGE = 100  # inventory.query, sku.query: page_size ≤ 100
MAX_WINDOW_DAYS = 7  # modified_begin..modified_end may span at most 7 days


class JushuitanSettings(RestSettings):
    """``app_key``/``app_secret`` identify the application (Jushuitan's open platform console);
    ``refresh_token`` is the merchant's authorisation of it, traded for an access token at each run.
    ``start_date``: the first run reads orders and after-sales modified since then, one ``window_days``
    window per call; ``catalog_start_date`` (default: ``start_date``) the same for SKUs and stock, which
    change rarely and may have last changed long before. ``shops``: the Jushuitan ``shop_id``s whose
    orders and after-sales to read (empty: every shop), so a shop the hub also reads directly is not
    counted twice (README)."""

    base_url: str = "https://openapi.jushuitan.com"
    app_key: SecretStr
    app_secret: SecretStr
    refresh_token: SecretStr
    start_date: UtcDatetime
    catalog_start_date: UtcDatetime | None = None
    shops: tuple[int, ...] = ()
    page_size: int = Field(MAX_ORDER_PAGE, ge=1, le=MAX_ORDER_PAGE)
    stock_page_size: int = Field(MAX_STOCK_PAGE, ge=1, le=MAX_STOCK_PAGE)
    window_days: int = Field(MAX_WINDOW_DAYS, ge=1, le=MAX_WINDOW_DAYS)
