"""Server-side checks of one-legged OAuth 1.0a (RFC 5849) as REST APIs over plain http verify it
(WooCommerce; Magento and NetSuite use the same family): written from the RFC and WooCommerce's server
code, not from any client, so a client's misreading shows up as a refused request.

The signature base string: the method, the URL without query, and every parameter (query, form body and
the ``Authorization: OAuth`` header, but ``oauth_signature``) with keys and values RFC 3986-encoded,
sorted, joined as ``k=v`` with ``&``, each of the three parts encoded again and joined with ``&``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

from werkzeug.wrappers import Request

DIGESTS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


def rfc3986(value: str) -> str:
    return quote(value, safe="~-._")


def base_string(method: str, url: str, params: Mapping[str, str]) -> str:
    """WooCommerce's ``check_oauth_signature``: each key and value RFC 3986 encoded, sorted by key,
    each ``key=value`` pair encoded again, pairs joined with ``%26``, after ``METHOD&url&``."""
    encoded = sorted((rfc3986(key), rfc3986(value)) for key, value in params.items())
    return f"{method.upper()}&{rfc3986(url)}&" + "%26".join(rfc3986(f"{k}={v}") for k, v in encoded)


def signature(method: str, url: str, params: Mapping[str, str], key: str, algorithm: str) -> str:
    """base64 of the HMAC (SHA-1 or SHA-256) of :func:`base_string` with ``key``."""
    digest = DIGESTS[algorithm]
    return base64.b64encode(hmac.new(key.encode(), base_string(method, url, params).encode(), digest).digest()).decode()


def header_params(request: Request) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth k="v", ...`` header (clients may sign
    there instead of in the query)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return {}
    pairs = (part.strip().split("=", 1) for part in header[6:].split(",") if "=" in part)
    return {k: dict(parse_qsl(f"v={v.strip().strip(chr(34))}"))["v"] for k, v in pairs if k.startswith("oauth_")}


def signature_valid(method: str, url: str, params: Mapping[str, str], keys: Iterable[str]) -> bool:
    """``params``' ``oauth_signature`` matches under its ``oauth_signature_method`` with one of
    ``keys`` (servers differ on the signing key: ``secret&`` per the RFC, the bare secret in old
    clients); an unknown method never matches."""
    algorithm, given = params.get("oauth_signature_method", ""), params.get("oauth_signature", "")
    if algorithm not in DIGESTS:
        return False
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    return any(hmac.compare_digest(given, signature(method, url, signed, key, algorithm)) for key in keys)


@dataclass
class Consumer:
    """One registered consumer as the server checks its signed requests, in WooCommerce's order: key,
    signature method, signature, timestamp (within ``skew`` seconds), nonce (each used once; spent once
    the request is checked, even if answering it fails later)."""

    key: str
    secret: str
    skew: float = 15 * 60
    _nonces: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refusal(self, method: str, url: str, params: Mapping[str, str]) -> str | None:
        """None when ``params`` authenticate a request to ``url``; else the check that failed: ``key``,
        ``method``, ``signature``, ``timestamp`` or ``nonce`` (the platform words its own error)."""
        if params.get("oauth_consumer_key") != self.key:
            return "key"
        if params.get("oauth_signature_method", "") not in DIGESTS:
            return "method"
        if not signature_valid(method, url, params, (f"{self.secret}&", self.secret)):
            return "signature"
        stamp = params.get("oauth_timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > self.skew:
            return "timestamp"
        nonce = f"{stamp}:{params.get('oauth_nonce')}"
        with self._lock:
            if nonce in self._nonces:
                return "nonce"
            self._nonces.add(nonce)
        return None
