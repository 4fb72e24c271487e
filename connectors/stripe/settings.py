"""What one Stripe account needs: the API key, where history starts, the page size and API version."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, SecretStr

from connectors.sdk import RestSettings

MAX_PAGE_SIZE = 100  # Stripe's documented maximum ``limit``


class StripeSettings(RestSettings):
    """``base_url`` is the API host (``/v1`` is added per request) so the sandbox and api.stripe.com are
    configured alike. How far each run looks back is the streams' declared cursor lag (connector.py)."""

    base_url: str = "https://api.stripe.com"
    api_key: SecretStr
    start_date: AwareDatetime | None = None
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    stripe_version: str | None = None
