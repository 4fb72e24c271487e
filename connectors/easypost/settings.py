"""What one EasyPost account needs: the API key, where history starts and the page size."""

from __future__ import annotations

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 100  # EasyPost lists: page_size 1..100 (default 20)


class EasypostSettings(RestSettings):
    """``base_url`` is the API host (``/v2`` is added per request), so the sandbox and api.easypost.com
    are configured alike. ``api_key``: a production (``EZAK…``) or test (``EZTK…``) key; each sees its
    own mode's shipments. How far each run looks back is the streams' declared cursor lag (connector.py)."""

    base_url: str = "https://api.easypost.com"
    api_key: SecretStr
    start_date: UtcDatetime | None = None
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
