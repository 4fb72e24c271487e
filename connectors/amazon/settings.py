"""Validated settings of one Amazon seller in one marketplace (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # getOrders: MaxResultsPerPage 1..100
MAX_LISTINGS_PAGE = 20  # searchListingsItems: pageSize ≤ 20
# region -> (SP-API host, its Login with Amazon token endpoint)
REGIONS = {"NA": ("https://sellingpartnerapi-na.amazon.com", "https://api.amazon.com/auth/o2/token"),
           "EU": ("https://sellingpartnerapi-eu.amazon.com", "https://api.amazon.co.uk/auth/o2/token"),
           "FE": ("https://sellingpartnerapi-fe.amazon.com", "https://api.amazon.co.jp/auth/o2/token")}


class AmazonSettings(RestSettings):
    """``region`` picks the SP-API host and its LWA token endpoint (``base_url``/``token_url`` override
    them, e.g. for a sandbox). ``client_id``/``client_secret`` are the app's LWA credentials,
    ``refresh_token`` the seller's authorisation of it; ``seller_id`` is the selling partner id (Listings
    Items addresses SKUs under it), ``marketplace_id`` the one marketplace this account loads and stocks.
    ``start_date``: the first run reads orders updated since then, from one flat-file report unless
    ``backfill_with_reports`` is off."""

    region: Literal["NA", "EU", "FE"] = "NA"
    base_url: str = ""
    token_url: str = ""
    client_id: SecretStr
    client_secret: SecretStr
    refresh_token: SecretStr
    seller_id: str = Field(pattern=r"^[A-Z0-9]{8,20}$")
    marketplace_id: str = Field(pattern=r"^[A-Z0-9]{8,20}$")
    start_date: UtcDatetime
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    listings_page_size: int = Field(MAX_LISTINGS_PAGE, ge=1, le=MAX_LISTINGS_PAGE)
    backfill_with_reports: bool = True  # the first sync reads orders from one report, not getOrders
    poll_seconds: float = Field(15.0, gt=0)  # a report's or feed's first poll waits, growing to 5 minutes
    poll_timeout_minutes: int = Field(60, ge=1)  # then a report's range is read through the Orders API
    feed_from: int = Field(20, ge=1)  # stock pushes of this many SKUs of a marketplace go as one JSON_LISTINGS_FEED

    @model_validator(mode="before")
    @classmethod
    def _regional_endpoints(cls, values: Any) -> Any:
        if isinstance(values, dict):
            host, token_url = REGIONS.get(values.get("region", "NA"), REGIONS["NA"])
            values = {**values, "base_url": values.get("base_url") or host,
                      "token_url": values.get("token_url") or token_url}
        return values
