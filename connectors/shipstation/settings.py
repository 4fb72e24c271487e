"""What one ShipStation account needs: the API key and secret, the account's currency, where history
starts and the page size."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 500  # ShipStation V1 lists: pageSize up to 500


class ShipstationSettings(RestSettings):
    """``base_url`` is the API V1 host (``https://ssapi.shipstation.com``), so the sandbox and ShipStation
    are configured alike. ``api_key`` and ``api_secret`` (ShipStation: Settings → Account → API Settings)
    are sent as HTTP Basic user and password. ShipStation writes label costs as bare numbers, in the
    account's billing currency: ``currency`` names it. How far each run looks back is the streams'
    declared cursor lag (connector.py)."""

    base_url: str = "https://ssapi.shipstation.com"
    api_key: SecretStr
    api_secret: SecretStr
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    start_date: UtcDatetime | None = None
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
