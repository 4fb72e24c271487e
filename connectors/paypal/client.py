"""The HTTP side of the connector: OAuth 2 client credentials as PayPal wants them (HTTP Basic on the
token call), a token traded again when PayPal says it expired, and PayPal's error envelope turned into
an error that says what PayPal said."""

from __future__ import annotations

import threading
from typing import Any

import requests
from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests.auth import _basic_auth_str

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.http import RESIGN
from connectors.sdk.session import LoginRefused

from .settings import PaypalSettings

TOKEN_PATH = "/v1/oauth2/token"
STALE = "channelhub_paypal_refused"  # the Authorization a request was refused with: trade it before resending
EARLY_SECONDS = 60  # trade a token this long before it expires, so none expires on the way
_TRADING = threading.Lock()  # windows are read on several threads: one token trade serves them all


class PaypalAPIError(ChannelhubError):
    """PayPal refused a request for good (after retries): status, PayPal's ``name``, message, the
    ``details`` (field and issue) and the ``debug_id`` PayPal's support asks for. Never the token."""

    def __init__(self, response: requests.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        self.status = response.status_code
        self.name = body.get("name") or body.get("error") or "no error body"
        self.paypal_message = body.get("message") or body.get("error_description") or response.reason
        details = "; ".join(f"{d.get('field', '?')}: {d.get('issue', '')}" for d in body.get("details") or []
                            if isinstance(d, dict))
        path = (response.request.path_url if response.request else "?").split("?")[0]
        hint = " (narrow window_days)" if self.name == "RESULTSET_TOO_LARGE" else ""
        super().__init__(f"PayPal answered HTTP {self.status} {self.name} on {path}: {self.paypal_message}"
                         + (f" [{details}]" if details else "") + f"{hint} [debug_id {body.get('debug_id', '?')}]")


@configspec
class PaypalAuth(OAuth2ClientCredentials):
    """dlt's client-credentials flow (token cached until shortly before ``expires_in``) with the client
    authenticated by HTTP Basic, as PayPal's token endpoint requires, and a new token traded before a
    request is resent that PayPal refused with 401 ``invalid_token`` (a token revoked or expired early)."""

    def build_access_token_request(self) -> dict[str, Any]:
        return {"headers": {"Authorization": _basic_auth_str(self.client_id, self.client_secret)},
                "data": {"grant_type": "client_credentials"}}

    def obtain_token(self) -> None:
        """A refusal says what PayPal said (``invalid_client``), never the credentials; not retried."""
        try:
            super().obtain_token()
        except requests.HTTPError as exc:
            raise LoginRefused(f"PayPal refused the client credentials: {PaypalAPIError(exc.response)}; check "
                               "client_id and client_secret of the REST app") from None

    @property
    def bearer(self) -> str:
        return f"Bearer {self.access_token}"

    def parse_expiration_in_seconds(self, response_json: Any) -> int:
        return max(0, super().parse_expiration_in_seconds(response_json) - EARLY_SECONDS)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with _TRADING:  # requests refused with the same token (several windows at once) trade it once
            refused = getattr(request, STALE, None)
            if self.access_token is None or self.is_token_expired() or refused == self.bearer:
                self.obtain_token()
        request.headers["Authorization"] = self.bearer
        setattr(request, RESIGN, self.__call__)
        return request


def token_refused(response: requests.Response) -> bool:
    """``also_retry`` of the session: a 401 ``invalid_token`` is sent again, under the retry policy, with
    a new token (the request remembers the one refused; ``RESIGN`` trades it)."""
    if response.status_code != 401 or response.request is None or response.request.path_url == TOKEN_PATH:
        return False
    try:
        refused = response.json().get("error") == "invalid_token"
    except (ValueError, AttributeError):
        return False
    if refused:
        setattr(response.request, STALE, response.request.headers.get("Authorization"))
    return refused


def api_session(settings: PaypalSettings) -> requests.Session:
    """The shared retrying session (429/5xx/timeouts, and an expired token), which then raises
    :class:`PaypalAPIError` on an error answer instead of dlt's bare HTTPError."""
    session = retrying_session(settings.retry_policy(), also_retry=token_refused)
    send = session.send

    def checked(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = send(request, **kwargs)
        if response.status_code >= 400:
            raise PaypalAPIError(response)
        return response

    session.send = checked  # type: ignore[method-assign]
    return session


def make_auth(settings: PaypalSettings) -> PaypalAuth:
    return PaypalAuth(access_token_url=f"{settings.base_url.rstrip('/')}{TOKEN_PATH}",
                      client_id=settings.client_id.get_secret_value(),
                      client_secret=settings.client_secret.get_secret_value(),
                      session=retrying_session(settings.retry_policy()))


def make_client(settings: PaypalSettings) -> RESTClient:
    """Transaction Search pages are numbered from 1; each answer says ``total_pages``."""
    return RESTClient(settings.base_url.rstrip("/"), auth=make_auth(settings), session=api_session(settings),
                      paginator=PageNumberPaginator(base_page=1, page=1, page_param="page", total_path="total_pages"))
