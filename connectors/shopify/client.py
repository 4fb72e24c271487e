"""The HTTP client every Shopify call goes through: dlt's RESTClient following ``Link`` headers, the
access token header, and the shared tenacity session paced by Shopify's leaky-bucket header."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.auth import APIKeyAuth
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from connectors.sdk import LeakyBucketPacer, retrying_session

from .settings import ShopifySettings

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
TOKEN_HEADER = "X-Shopify-Access-Token"


def make_client(settings: ShopifySettings) -> dict[str, Any]:
    """``rest_api``'s client (``RESTClient(**make_client(settings))`` for a direct call), rooted at
    ``/admin/api/<version>/``.

    ``HeaderLinkPaginator`` requests the ``rel="next"`` URL verbatim and drops the first request's
    params, which is exactly Shopify's rule: page_info requests carry only ``limit`` (and ``fields``).
    """
    pacer = LeakyBucketPacer(CALL_LIMIT_HEADER, settings.calls_per_second)
    return {"base_url": settings.api_root, "paginator": HeaderLinkPaginator(),
            "auth": APIKeyAuth(name=TOKEN_HEADER, api_key=settings.access_token.get_secret_value(), location="header"),
            "session": retrying_session(settings.retry_policy(), pacer)}

