"""WeChat Pay API v3's RSA signatures (``WECHATPAY2-SHA256-RSA2048``), both ways.

A request is signed with the merchant's API private key: ``Authorization: WECHATPAY2-SHA256-RSA2048
mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`` where the signature is
base64(SHA256withRSA(PKCS#1 v1.5)) of ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``. Every answer is
signed by WeChat Pay with its platform key: ``Wechatpay-Timestamp``, ``-Nonce``, ``-Signature`` and
``-Serial`` headers over ``TIMESTAMP\\nNONCE\\nBODY\\n``, checked here against the platform public key
before the answer is read (an answer that fails is not WeChat Pay's: a man in the middle, or a wrong
key). Written from WeChat Pay's documentation (pay.weixin.qq.com/doc/v3/merchant/4012365336); the
tests check the wechatpayv3 SDK's signatures pass the sandbox's independent verifier, and ours too.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.auth import AuthBase

from .errors import ChannelhubError
from .http import RESIGN
from .rsa_signing import sign, verify

SCHEME = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW = 300  # seconds: an answer signed further from now than this is a replay


class SignatureRejected(ChannelhubError):
    """An answer whose platform signature does not verify: never read, never retried."""


def authorization(key: rsa.RSAPrivateKey, *, mchid: str, serial_no: str, method: str, path: str, body: str = "",
                  timestamp: int | None = None, nonce: str | None = None) -> str:
    """The ``Authorization`` value of one request (``path`` with its query, no host)."""
    stamp, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(16).upper()
    signature = sign(key, f"{method}\n{path}\n{stamp}\n{nonce}\n{body}\n".encode())
    return (f'{SCHEME} mchid="{mchid}",nonce_str="{nonce}",timestamp="{stamp}",serial_no="{serial_no}",'
            f'signature="{signature}"')


def verify_response(response: requests.Response, key: rsa.RSAPublicKey, key_id: str) -> None:
    """Raises :class:`SignatureRejected` unless the answer carries WeChat Pay's valid, recent signature
    by the platform key ``key_id``."""
    headers = response.headers
    stamp, nonce = headers.get("Wechatpay-Timestamp", ""), headers.get("Wechatpay-Nonce", "")
    where = urlsplit(response.url).path
    if headers.get("Wechatpay-Serial") != key_id:
        raise SignatureRejected(f"the answer to {where} is signed by key {headers.get('Wechatpay-Serial')!r}, "
                                f"not the platform public key {key_id!r} (check platform_public_key_id)")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_SKEW:
        raise SignatureRejected(f"the answer to {where} carries no recent Wechatpay-Timestamp ({stamp!r})")
    if not verify(key, f"{stamp}\n{nonce}\n{response.text}\n".encode(), headers.get("Wechatpay-Signature", "")):
        raise SignatureRejected(f"the answer to {where} fails WeChat Pay's platform signature: not read "
                                "(a proxy rewrote it, or platform_public_key is not this merchant's)")


class WechatPayV3Auth(AuthBase):
    """Signs every request a session prepares, and every resend again (``http.RESIGN``): the timestamp
    must be recent and a nonce is used once. Never shows the key in its repr."""

    def __init__(self, mchid: str, serial_no: str, private_key: rsa.RSAPrivateKey) -> None:
        self.mchid, self.serial_no, self.private_key = mchid, serial_no, private_key

    def __repr__(self) -> str:
        return f"WechatPayV3Auth(mchid={self.mchid!r}, serial_no={self.serial_no!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        request.headers["Authorization"] = authorization(
            self.private_key, mchid=self.mchid, serial_no=self.serial_no, method=request.method or "GET",
            path=request.path_url, body=body)
        request.headers.setdefault("Accept", "application/json")
        setattr(request, RESIGN, self)
        return request
