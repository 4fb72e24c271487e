"""What one Stripe account needs: the API key, where history starts, and how far each run looks back."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, SecretStr

from connectors.sdk import RestSettings

LOOKBACK_DAYS = 3
MAX_PAGE_SIZE = 100  # Stripe's documented maximum ``limit``


class StripeSettings(RestSettings):
    """``base_url`` is the API host (``/v1`` is added per request) so the sandbox and api.stripe.com are
    configured alike. ``lookback_seconds`` is the re-read window behind the last seen ``created``."""

    base_url: str = "https://api.stripe.com"
    api_key: SecretStr
    start_date: AwareDatetime | None = None
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    lookback_seconds: int = Field(LOOKBACK_DAYS * 86_400, ge=0)
    stripe_version: str | None = None
