"""OAuth 2's refresh-token grant as a dlt auth class: a long-lived refresh token traded at the token
endpoint for a short-lived access token, sent on every request and traded again before it expires.

Amazon's SP-API is the first user (Login with Amazon: ``https://api.amazon.com/auth/o2/token``, the
token in ``x-amz-access-token``); the header and its prefix are declared, so a bearer API uses the
same class. dlt's ``OAuth2ClientCredentials`` already does the exchange and the expiry; this adds
the grant, the header, and trading a little early so a request never leaves with a token that
expires on the way.
"""

from __future__ import annotations

from typing import Any

import requests
from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials

from .session import LoginRefused

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"


@configspec
class RefreshTokenAuth(OAuth2ClientCredentials):
    """``access_token_url``, ``client_id``, ``client_secret``, ``refresh_token``; ``header`` and
    ``prefix`` say how the access token travels (LWA: ``x-amz-access-token``, no prefix)."""

    refresh_token: TSecretStrValue = None
    header: str = "Authorization"
    prefix: str = "Bearer "
    early_seconds: int = 60

    def build_access_token_request(self) -> dict[str, Any]:
        request = super().build_access_token_request()
        request["data"] |= {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        return request

    def obtain_token(self) -> None:
        """Trade the refresh token; a refusal says what the server said (RFC 6749's ``error``), never
        the credentials, and is not retried: a wrong or revoked token stays wrong."""
        try:
            super().obtain_token()
        except requests.HTTPError as exc:
            try:
                body = exc.response.json()
            except ValueError:
                body = {}
            raise LoginRefused(f"{self.access_token_url} refused the refresh token (HTTP {exc.response.status_code}"
                               f" {body.get('error', '')}: {body.get('error_description', '')}); authorise the "
                               "app again for a new one") from None

    def parse_expiration_in_seconds(self, response_json: Any) -> int:
        return max(0, super().parse_expiration_in_seconds(response_json) - self.early_seconds)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.access_token is None or self.is_token_expired():
            self.obtain_token()
        request.headers[self.header] = f"{self.prefix}{self.access_token}"
        return request


def lwa_auth(client_id: str, client_secret: str, refresh_token: str, token_url: str = LWA_TOKEN_URL,
             session: requests.Session | None = None) -> RefreshTokenAuth:
    """Login with Amazon, as SP-API expects it."""
    return RefreshTokenAuth(access_token_url=token_url, client_id=client_id, client_secret=client_secret,
                            refresh_token=refresh_token, header="x-amz-access-token", prefix="", session=session)
