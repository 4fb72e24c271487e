"""RSA signatures with SHA-256 (PKCS#1 v1.5, "SHA256withRSA"): what Alipay's RSA2 and WeChat Pay v3 sign
requests and answers with. The platforms hand out keys as PEM or as the bare base64 body of one (Alipay's
key tool writes the PKCS#8 or PKCS#1 body alone, one line): both load here. Built on ``cryptography``;
a key that does not load fails naming the setting, never showing the key.
"""

from __future__ import annotations

import base64
import binascii
import textwrap
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import ConfigError

# What a bare body is tried as, in turn: PKCS#8 / SubjectPublicKeyInfo first (Alipay's current tool),
# then PKCS#1 (its older one)
PRIVATE_MARKERS = ("PRIVATE KEY", "RSA PRIVATE KEY")
PUBLIC_MARKERS = ("PUBLIC KEY", "RSA PUBLIC KEY")


def _pem(text: str, marker: str) -> bytes:
    if "-----BEGIN" in text:
        return text.encode()
    body = "\n".join(textwrap.wrap("".join(text.split()), 64))
    return f"-----BEGIN {marker}-----\n{body}\n-----END {marker}-----\n".encode()


@lru_cache(maxsize=16)
def private_key(text: str, setting: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM or a bare base64 body; ``setting`` names it in the error. Loaded once
    per process: cryptography checks an RSA private key on load (a fifth of a second), and every run of
    an account builds its client again."""
    for marker in PRIVATE_MARKERS:
        try:
            key = serialization.load_pem_private_key(_pem(text, marker), password=None)
        except (ValueError, TypeError):
            continue
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    raise ConfigError(f"{setting} is not an RSA private key (PEM, or its base64 body without the markers)")


@lru_cache(maxsize=16)
def public_key(text: str, setting: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or a bare base64 body; ``setting`` names it in the error."""
    for marker in PUBLIC_MARKERS:
        try:
            key = serialization.load_pem_public_key(_pem(text, marker))
        except (ValueError, TypeError):
            continue
        if isinstance(key, rsa.RSAPublicKey):
            return key
    raise ConfigError(f"{setting} is not an RSA public key (PEM, or its base64 body without the markers)")


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA over ``message``, base64."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is SHA256withRSA over ``message`` under ``key``."""
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
