"""Kingdee's signed ``X-Api-*`` / ``X-Kd-*`` request headers (K3Cloud third-party apps, WebAPI SDK 7+).

Every request carries two HMACs instead of a session: one of its path and time under the client secret
hidden in the app id, one of the caller's identity (data centre, user, language, organisation) under
the app secret. Nothing to log in to and nothing to expire, but a signature holds only for its path and
second, so a resend is signed again.

Written from the protocol as the official SDK computes it (kingdee-cdp-webapi-sdk 8.2,
``WebApiClient.BuildHeader``), not from its code; the tests check both give the same headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, urlsplit

import requests
from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.auth import AuthConfigBase

from .http import RESIGN

# The key the SDKs XOR the app id's secret part with (the Java SDK's ``xOrSec``; Python keeps it
# rot13-scrambled). It is a constant of the protocol, not a credential.
APP_ID_KEY = b"0054f397c6234378b09ca7d3e5debce7"


def hex_hmac_b64(key: str, message: str) -> str:
    """Kingdee's signature encoding: base64 of the lowercase *hex text* of an HMAC-SHA256."""
    hex_text = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(hex_text.encode()).decode()


def split_app_id(app_id: str) -> tuple[str, str]:
    """``<client id>_<32 base64 characters>`` -> (client id, client secret). The secret is the decoded
    part XORed with :data:`APP_ID_KEY`, base64 again."""
    client_id, _, hidden = app_id.partition("_")
    try:
        raw = base64.b64decode(hidden, validate=True)
    except ValueError:
        raw = b""
    if not client_id or len(hidden) != 32 or not raw:
        raise ValueError("app_id must be '<client id>_<32 characters>', as Kingdee's app registration shows it")
    return client_id, base64.b64encode(bytes(b ^ k for b, k in zip(raw, APP_ID_KEY, strict=False))).decode()


def kingdee_headers(path: str, *, acct_id: str, user: str, app_id: str, app_secret: str, lcid: int = 2052,
                    org_num: int = 0, timestamp: int) -> dict[str, str]:
    """The signed headers of a POST to ``path`` (``/k3cloud/Kingdee.BOS...kdsvc``) at ``timestamp``
    (unix seconds; the SDK sends the same value as the nonce)."""
    client_id, client_secret = split_app_id(app_id)
    stamp = str(timestamp)
    canonical = f"POST\n{quote(path, safe='')}\n\nx-api-nonce:{stamp}\nx-api-timestamp:{stamp}\n"
    app_data = f"{acct_id},{user},{lcid},{org_num}"
    return {
        "X-Api-ClientID": client_id, "X-Api-Auth-Version": "2.0",
        "x-api-timestamp": stamp, "x-api-nonce": stamp, "x-api-signheaders": "x-api-timestamp,x-api-nonce",
        "X-Api-Signature": hex_hmac_b64(client_secret, canonical),
        "X-Kd-Appkey": app_id, "X-Kd-Appdata": base64.b64encode(app_data.encode()).decode(),
        "X-Kd-Signature": hex_hmac_b64(app_secret, app_id + app_data),
    }


@configspec
class KingdeeSignedHeaders(AuthConfigBase):
    """Signs every request dlt prepares, and every resend again (``http.RESIGN``) with the time then."""

    acct_id: str = None
    user: str = None
    app_id: TSecretStrValue = None
    app_secret: TSecretStrValue = None
    lcid: int = 2052
    org_num: int = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(kingdee_headers(
            urlsplit(request.url or "").path, acct_id=self.acct_id, user=self.user, app_id=self.app_id,
            app_secret=self.app_secret, lcid=self.lcid, org_num=self.org_num, timestamp=int(time.time())))
        setattr(request, RESIGN, self)
        return request
