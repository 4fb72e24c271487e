"""The HTTP side of the connector: dlt's ``RESTClient`` on our retrying session, Stripe's cursor paging,
and Stripe's error envelope turned into an error that says what Stripe said."""

from __future__ import annotations

from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from connectors.sdk import ChannelhubError, retrying_session

from .settings import StripeSettings


class StripeAPIError(ChannelhubError):
    """Stripe refused a request for good (after retries): status, error type/code and Stripe's message."""

    def __init__(self, response: requests.Response) -> None:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        self.status = response.status_code
        self.type, self.code = error.get("type"), error.get("code")
        self.stripe_message = error.get("message") or response.reason
        kind = "/".join(part for part in (self.type, self.code) if part)
        path = (response.request.path_url if response.request else "?").split("?")[0]
        super().__init__(f"Stripe answered HTTP {self.status} ({kind or 'no error body'}) on {path}: "
                         f"{self.stripe_message} [Request-Id {response.headers.get('Request-Id', '?')}]")


def raise_for_stripe_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.status_code >= 400:
        raise StripeAPIError(response)


def headers(settings: StripeSettings) -> dict[str, str]:
    return {"Stripe-Version": settings.stripe_version} if settings.stripe_version else {}


def make_client(settings: StripeSettings) -> dict[str, Any]:
    """``rest_api``'s client. Lists are ``{"object": "list", "has_more": ..., "data": [...]}``; the next
    page starts after the last object's id and there is none once ``has_more`` is false."""
    return {
        "base_url": settings.base_url.rstrip("/"),
        "headers": headers(settings),
        "auth": BearerTokenAuth(settings.api_key.get_secret_value()),
        "paginator": JSONResponseCursorPaginator(cursor_path="data[-1].id", cursor_param="starting_after",
                                                 has_more_path="has_more"),
        "session": retrying_session(settings.retry_policy()),
    }
