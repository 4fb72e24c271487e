"""Server side of Kingdee's signed-header family (K3Cloud third-party apps): checks the ``X-Api-*`` and
``X-Kd-*`` headers of one request against the apps registered on the server.

Written from the protocol description (../shared/reference/erp_systems.md, section 2), independently of
the connector's signer, so one misunderstanding cannot pass on both sides. The server knows the app's
id and secret from its registration; the client secret the path signature uses is hidden in the app
id (base64 of the secret XOR a fixed 32-byte key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

XOR_KEY = "0054f397c6234378b09ca7d3e5debce7"
CLOCK_SKEW = 15 * 60  # seconds a signature's timestamp may be off; Kingdee documents none


class SignatureRejected(ValueError):
    """The headers do not authenticate the request; the message says which part failed."""


@dataclass(frozen=True)
class Caller:
    """Who a signed request acts as: the ``X-Kd-Appdata`` the app signed."""

    app_id: str
    acct_id: str
    user: str
    lcid: int
    org_num: int


def client_secret(app_id: str) -> str:
    hidden = app_id.split("_", 1)[1] if "_" in app_id else ""
    raw = base64.b64decode(hidden)
    key = XOR_KEY.encode()[:len(raw)]
    mixed = (int.from_bytes(raw, "big") ^ int.from_bytes(key, "big")).to_bytes(len(raw), "big")
    return base64.b64encode(mixed).decode()


def _sign(key: str, text: str) -> str:
    digest = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(binascii.hexlify(digest)).decode()


def verify(headers: Mapping[str, str], path: str, apps: Mapping[str, str], now: float | None = None) -> Caller:
    """The caller of a POST to ``path`` signed with ``headers`` (case-insensitive), or
    :class:`SignatureRejected`. ``apps``: app id -> app secret of every registered app. Timestamps in
    seconds (the Python SDK) or milliseconds (the Java SDK) are both accepted."""
    get = {name.lower(): value for name, value in headers.items()}.get
    app_id = get("x-kd-appkey", "")
    if app_id not in apps:
        raise SignatureRejected("unknown app (X-Kd-Appkey)")
    if get("x-api-auth-version") != "2.0" or get("x-api-clientid") != app_id.split("_", 1)[0]:
        raise SignatureRejected("X-Api-ClientID or X-Api-Auth-Version does not match the app")
    stamp, nonce = get("x-api-timestamp", ""), get("x-api-nonce", "")
    signed = [name.strip().lower() for name in get("x-api-signheaders", "").split(",")]
    if not stamp.isdigit() or sorted(signed) != ["x-api-nonce", "x-api-timestamp"]:
        raise SignatureRejected("x-api-timestamp or x-api-signheaders missing")
    seconds = int(stamp) / 1000 if len(stamp) > 11 else int(stamp)
    if abs((time.time() if now is None else now) - seconds) > CLOCK_SKEW:
        raise SignatureRejected("x-api-timestamp outside the allowed clock skew")
    text = "POST\n" + quote(path, safe="") + "\n\n" + f"x-api-nonce:{nonce}\n" + f"x-api-timestamp:{stamp}\n"
    if not hmac.compare_digest(get("x-api-signature", ""), _sign(client_secret(app_id), text)):
        raise SignatureRejected("X-Api-Signature does not match")
    try:
        app_data = base64.b64decode(get("x-kd-appdata", "")).decode("utf-8")
        acct_id, user, lcid, org_num = app_data.split(",")
        caller = Caller(app_id, acct_id, user, int(lcid), int(org_num))
    except ValueError as exc:
        raise SignatureRejected("X-Kd-Appdata is not base64 of 'acct_id,user,lcid,org_num'") from exc
    if not hmac.compare_digest(get("x-kd-signature", ""), _sign(apps[app_id], app_id + app_data)):
        raise SignatureRejected("X-Kd-Signature does not match")
    return caller
