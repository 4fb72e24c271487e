"""The HTTP client of a WooCommerce store: its API root, auth and the retrying session."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from connectors.sdk import retrying_session
from connectors.sdk.rest import OAuth1QueryAuth, TotalPagesHeaderPaginator

from .settings import WooCommerceSettings


def make_client(settings: WooCommerceSettings) -> dict[str, Any]:
    """``rest_api``'s client: HTTP Basic over https; over plain http WooCommerce accepts only OAuth 1.0a
    signatures."""
    key, secret = settings.consumer_key.get_secret_value(), settings.consumer_secret.get_secret_value()
    auth = (HttpBasicAuth(key, secret) if settings.base_url.startswith("https://")
            else OAuth1QueryAuth(consumer_key=key, consumer_secret=secret))
    return {"base_url": settings.api_root, "auth": auth, "paginator": TotalPagesHeaderPaginator(),
            "session": retrying_session(settings.retry_policy())}
