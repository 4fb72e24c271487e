"""Jushuitan's open platform (version 2) as the connector calls it: every call a signed POST form whose
business parameters travel as one JSON ``biz``, an access token traded for the merchant's refresh token,
errors inside HTTP 200 answers, and the retrying session.

The signature (``md5_hex_lower(app_secret + k1v1k2v2…)``, parameters sorted by name, ``sign`` left out,
no secret at the end, lower case) differs from the TOP family's, so it is written here rather than in
``connectors/sdk/gateway.py``; the envelope check and the retries are the SDK's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
from dlt.common.configuration import configspec
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from connectors.sdk import retrying_session
from connectors.sdk.gateway import FORM, ErrorEnvelopes, GatewayError
from connectors.sdk.http import RESIGN
from connectors.sdk.refresh_token import RefreshTokenAuth
from connectors.sdk.session import LoginRefused

from .settings import JushuitanSettings

ZONE = "Asia/Shanghai"  # every time, window bounds included, is Beijing wall clock; only the stamp is UNIX seconds
TOKEN_PATH = "openWeb/auth/refreshToken"
# 199 and 200: flow control (per second and per day), retried with backoff; every other code (sign, token,
# arguments) is the caller's and fails at once.
RATE_LIMITED = frozenset({199, 200})
TOKEN_REFUSED = 102  # access_token无效或已过期 (the sandbox's number: Jushuitan's table is not public)
# Windows are read on several threads: one token trade at a time. Module-wide, as dlt deep-copies auths
# (a lock cannot be copied); trades are rare.
TRADING = threading.Lock()


def sign(params: Mapping[str, str], secret: str) -> str:
    """``md5_hex_lower(app_secret + k1v1k2v2…)`` over every parameter but ``sign``, sorted by name."""
    text = "".join(f"{key}{value}" for key, value in sorted(params.items()) if key != "sign")
    return hashlib.md5(f"{secret}{text}".encode()).hexdigest()


def failed_answer(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Jushuitan answers every call ``{"code": 0, "msg", "data"}``; any other code is an error."""
    return dict(body) if body.get("code") not in (0, "0", None) else None


@dataclass(frozen=True)
class JushuitanEnvelopes(ErrorEnvelopes):
    """The SDK's envelope check, naming the API by its path: Jushuitan has one path per API. An access
    token refused before its announced expiry (``TOKEN_REFUSED``) is handed to ``token_refused`` (the
    auth forgets it) and the call is sent again, so the resend trades a new one."""

    token_refused: Callable[[str], None] | None = None

    def retryable(self, response: requests.Response) -> bool:
        error = self.error(response)
        if error is not None and error.get("code") == TOKEN_REFUSED and self.token_refused is not None:
            body = response.request.body if isinstance(response.request.body, str) \
                else (response.request.body or b"").decode()
            self.token_refused(dict(parse_qsl(body)).get("access_token", ""))
            return True
        return super().retryable(response)

    def raise_for_error(self, response: requests.Response) -> None:
        error = self.error(response)
        if error is not None:
            raise GatewayError(urlsplit(response.url).path, error)


ERRORS = JushuitanEnvelopes(retry_codes=RATE_LIMITED, business=failed_answer)


def _biz_value(value: str) -> Any:
    """Numbers as JSON numbers (``page_index``, ``wms_co_id``, ``shop_id``); everything else as text."""
    return int(value) if value.isdigit() and (value == "0" or not value.startswith("0")) else value


@configspec
class JushuitanAuth(RefreshTokenAuth):
    """The SDK's refresh-token auth on Jushuitan's terms: the token call is a signed form
    (``grant_type=refresh_token``, ``scope=all``) answering inside the usual envelope, and the access
    token travels in every call's signed form, not a header. dlt's query parameters (pages, windows) and
    any form fields become ``biz``; a resend is signed again with a fresh timestamp."""

    def build_access_token_request(self) -> dict[str, Any]:
        form = {"app_key": self.client_id, "timestamp": str(int(time.time())), "grant_type": "refresh_token",
                "charset": "utf-8", "refresh_token": self.refresh_token, "scope": "all"}
        return {"data": {**form, "sign": sign(form, self.client_secret)}}

    def parse_access_token(self, response_json: Any) -> str:
        error = failed_answer(response_json)
        if error is not None:
            raise LoginRefused(f"{self.access_token_url} refused the refresh token: error {error.get('code')} "
                               f"{error.get('msg', '')!r}; authorise the app again for a new one")
        return str(response_json["data"]["access_token"])

    def parse_expiration_in_seconds(self, response_json: Any) -> int:
        lifetime = int(response_json["data"].get("expires_in", self.default_token_expiration))
        return max(0, lifetime - self.early_seconds)

    def forget(self, refused: str) -> None:
        """The platform refused ``refused`` before its time: the next call trades a new token (unless
        another thread already did)."""
        with TRADING:
            if self.access_token == refused:
                self.access_token = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with TRADING:
            if self.access_token is None or self.is_token_expired():
                self.obtain_token()
            token = self.access_token
        url = urlsplit(request.url or "")
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        form = dict(parse_qsl(body, keep_blank_values=True)) if FORM in request.headers.get("Content-Type", "") else {}
        biz = form.get("biz") or json.dumps(
            {key: _biz_value(value) for key, value in sorted({**dict(parse_qsl(url.query)), **form}.items())},
            ensure_ascii=False, separators=(",", ":"))
        signed = {"app_key": self.client_id, "access_token": token, "timestamp": str(int(time.time())),
                  "charset": "utf-8", "version": "2", "biz": biz}
        request.method = "POST"  # Jushuitan takes every call as a POST form; dlt pages with GET and a query
        request.url = urlunsplit(url._replace(query=""))
        request.headers.pop("Content-Length", None)
        request.prepare_body(data={**signed, "sign": sign(signed, self.client_secret)}, files=None)
        setattr(request, RESIGN, self.__call__)
        return request


def make_client(settings: JushuitanSettings) -> dict[str, Any]:
    """``rest_api``'s client: every call signed with the app secret and carrying an access token traded
    for the refresh token (cached until a minute before it expires)."""
    policy = settings.retry_policy()
    base = settings.base_url.rstrip("/")
    auth = JushuitanAuth(access_token_url=f"{base}/{TOKEN_PATH}", client_id=settings.app_key.get_secret_value(),
                         client_secret=settings.app_secret.get_secret_value(),
                         refresh_token=settings.refresh_token.get_secret_value(),
                         session=retrying_session(policy, also_retry=ERRORS.retryable))
    envelopes = replace(ERRORS, token_refused=auth.forget)
    return {"base_url": base, "auth": auth, "paginator": "single_page", "session": envelopes.session(policy)}


def pages(client: Mapping[str, Any]) -> RESTClient:
    """Numbered pages (``page_index`` from 1) while the answer says ``data.has_next``."""
    return RESTClient(client["base_url"], auth=client["auth"], session=client["session"],
                      paginator=PageNumberPaginator(base_page=1, page=1, page_param="page_index", total_path=None,
                                                    has_more_path="data.has_next"))


def call(client: Mapping[str, Any], path: str, **biz: Any) -> dict[str, Any]:
    """One call outside a dlt resource (checks, writes): the answer's ``data``; an error answer raises
    ``GatewayError``, another HTTP status ``HTTPError``."""
    response = client["session"].post(f"{client['base_url']}/{path}", data=biz, auth=client["auth"])
    if response.status_code != 200:
        raise requests.HTTPError(f"{path}: HTTP {response.status_code}", response=response)
    return response.json()["data"]
