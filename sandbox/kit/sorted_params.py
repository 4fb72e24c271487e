"""Server-side checks of the sorted-parameter signature family (Taobao TOP, JD JOS, Pinduoduo), written
from the platforms' documents (../shared/reference/commerce_apis.md, sections 4 and 5), not from any
client, so a misreading on the connector's side shows up as a refused request.

The documented rule: every parameter of the request (query and form body together) except ``sign``,
sorted by name in byte order, concatenated as name+value with no separators, UTF-8; ``md5`` hashes
secret+text+secret, ``hmac`` is HMAC-MD5 and ``hmac-sha256`` HMAC-SHA256 keyed with the secret; the
digest in upper-case hex. SDKs differ on parameters sent with an empty value (Java leaves them out of
the signature, the Python SDK signs them as a bare name), so both readings are accepted.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from hashlib import md5, sha256
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request

DIGESTS = {"hmac": md5, "hmac-sha256": sha256}


def request_params(request: Request) -> dict[str, str]:
    """Query and form parameters as one mapping: the SDKs put system parameters in the query and
    business ones in a form body, and the signature covers both."""
    merged = {key: request.args.getlist(key)[-1] for key in request.args}
    merged.update((key, request.form.getlist(key)[-1]) for key in request.form)
    return merged


def expected_signature(params: dict[str, str], secret: str, method: str, *, keep_empty: bool = False) -> str:
    pairs = sorted((name.encode(), value.encode()) for name, value in params.items()
                   if name != "sign" and (keep_empty or value))
    text = b"".join(name + value for name, value in pairs)
    if method == "md5":
        return md5(secret.encode() + text + secret.encode()).hexdigest().upper()
    return hmac.new(secret.encode(), text, DIGESTS[method]).hexdigest().upper()


def signature_valid(params: dict[str, str], secret: str) -> bool:
    """``sign`` matches under ``sign_method`` (md5 when absent); an unknown method never matches."""
    method, given = params.get("sign_method", "md5"), params.get("sign", "")
    if method != "md5" and method not in DIGESTS:
        return False
    return any(hmac.compare_digest(given.upper(), expected_signature(params, secret, method, keep_empty=keep))
               for keep in (False, True))


def parse_timestamp(value: str, zone: str) -> datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in the platform's zone, the same with milliseconds and an offset (JD's
    Python SDK: ``2026-05-01 10:00:00.000+0800``), or epoch milliseconds (TOP's Python SDK) or seconds
    (Pinduoduo); None when it is none of them."""
    if value.isdigit():
        seconds = int(value) / 1000 if len(value) >= 13 else int(value)
        return datetime.fromtimestamp(seconds, ZoneInfo(zone))
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        pass
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f%z")
    except ValueError:
        return None


def timestamp_fresh(value: str, zone: str, now: datetime, skew_seconds: float = 600) -> bool:
    """Within ``skew_seconds`` (TOP: 10 minutes) of the server's clock."""
    stamp = parse_timestamp(value, zone)
    return stamp is not None and abs((stamp - now).total_seconds()) <= skew_seconds
