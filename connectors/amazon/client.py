"""SP-API as the connector calls it: Login with Amazon tokens in ``x-amz-access-token``, the usage
plans paced per operation, the retrying session, and Amazon's error envelope turned into an error that
names the operation, Amazon's code and message (never a token or secret)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.http import RETRY_STATUSES
from connectors.sdk.refresh_token import RefreshTokenAuth, lwa_auth

from .quota import Quota, operation_of
from .settings import AmazonSettings


class SpApiError(ChannelhubError):
    """SP-API refused a call for good (400 InvalidInput, 403 Unauthorized, 404…): retrying cannot help."""


def make_client(settings: AmazonSettings) -> dict[str, Any]:
    """``rest_api``'s client: every request paced by the seller's per-operation buckets, carrying a
    Login-with-Amazon access token (traded for the refresh token, cached until a minute before it
    expires). No SigV4: Amazon dropped it in 2023."""
    quota = Quota(settings.seller_id)
    policy = settings.retry_policy()
    auth = lwa_auth(settings.client_id.get_secret_value(), settings.client_secret.get_secret_value(),
                    settings.refresh_token.get_secret_value(), token_url=settings.token_url,
                    session=retrying_session(policy))
    return {"base_url": settings.base_url, "auth": auth, "paginator": "single_page",
            "session": retrying_session(policy, pacer=quota.learn, before_send=quota.wait)}


def refusal(response: requests.Response) -> str:
    """``{"errors": [{"code", "message", "details"}]}`` as one line."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    said = "; ".join(f"{e.get('code')}: {e.get('message')}" + (f" ({e['details']})" if e.get("details") else "")
                     for e in errors if isinstance(e, dict))
    return said or response.text[:200]


def raise_refusal(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A response action: an error answer the retry policy settled on fails naming the operation and
    what Amazon said."""
    if response.status_code < 400:
        return response
    found = operation_of(response.request.method or "GET", urlsplit(response.url).path) if response.request else None
    operation = found[0] if found else urlsplit(response.url).path
    kind = "kept throttling or failing past the retry policy" if response.status_code in RETRY_STATUSES \
        else "refused the call"
    raise SpApiError(f"SP-API {operation} {kind}: HTTP {response.status_code} {refusal(response)}")


def call(client: dict[str, Any], method: str, path: str, **kwargs: Any) -> Any:
    """One direct call (checks, stock writes): the JSON answer, or :class:`SpApiError`."""
    auth: RefreshTokenAuth = client["auth"]
    session: requests.Session = client["session"]
    response = session.request(method, f"{client['base_url'].rstrip('/')}/{path}", auth=auth, **kwargs)
    raise_refusal(response)
    return response.json()
