"""The HTTP side of the connector: 丰桥's one service URL, a form POST per call signed with a msgDigest,
and its two-level answer turned into data or an error that names the account.

Every call is ``POST <service URL>`` (``application/x-www-form-urlencoded``, UTF-8) with ``partnerID``,
``requestID`` (a UUID), ``serviceCode``, ``timestamp`` (milliseconds), ``msgData`` (the business JSON,
as a string) and ``msgDigest = Base64(MD5(URLEncoder.encode(msgData + timestamp + checkWord, "UTF-8")))``,
Java's ``URLEncoder`` (space as ``+``; letters, digits and ``.-*_`` kept; all else ``%XX``). The answer
is ``{"apiResultCode", "apiErrorMsg", "apiResponseID", "apiResultData"}``: ``A1000`` means the gateway
accepted the call, and ``apiResultData`` (a JSON *string*) holds the business answer, ``{"success",
"errorCode", "errorMsg", "msgData"}``. The gateway's codes (open.sf-express.com, 公共返回码): A1001
missing parameters, A1002 token expired, A1003 IP not allowed, A1004 no permission for the service,
A1005 flow control, A1006 invalid msgDigest, A1009 the service behind is down, A1099 system exception.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote_plus

import requests
from requests.auth import AuthBase

from connectors.sdk import ChannelhubError, SourceDataError, retrying_session
from connectors.sdk.http import RESIGN

from .settings import SfExpressSettings

SEARCH_ROUTES = "EXP_RECE_SEARCH_ROUTES"
ACCEPTED = "A1000"
# flow control, the service behind the gateway unreachable, a system exception: the platform's own
# transient faults, sent again under the shared retry policy
RETRY_CODES = frozenset({"A1005", "A1009", "A1099"})
WHY = {"A1001": "a required parameter is missing", "A1003": "this IP is not allowed for the partner id",
       "A1004": f"the partner id has no permission for the service (is {SEARCH_ROUTES} bound to it, and "
                "are sandbox credentials used on the sandbox?)",
       "A1006": "the msgDigest is invalid: check the check word (校验码)"}


def java_url_encode(text: str) -> str:
    """``URLEncoder.encode(text, "UTF-8")``: Python's ``quote_plus`` keeps ``~``, Java's encodes it."""
    return quote_plus(text, safe="*").replace("~", "%7E")


def msg_digest(msg_data: str, timestamp: str, check_word: str) -> str:
    """丰桥's msgDigest (数字签名) of one call."""
    encoded = java_url_encode(f"{msg_data}{timestamp}{check_word}")
    return base64.b64encode(hashlib.md5(encoded.encode()).digest()).decode()


def msg_data(payload: Mapping[str, Any]) -> str:
    """The business JSON as sent (and signed): compact, Chinese as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


class MsgDigestAuth(AuthBase):
    """Completes a form carrying ``serviceCode`` and ``msgData``: the partner id, a fresh request id and
    millisecond timestamp, and the msgDigest over them; signs again before every resend, so a retried
    call is a new request to the gateway."""

    def __init__(self, partner_id: str, check_word: str) -> None:
        self.partner_id, self.check_word = partner_id, check_word

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        form = dict(parse_qsl(body, keep_blank_values=True))
        stamp = str(int(time.time() * 1000))
        form |= {"partnerID": self.partner_id, "requestID": str(uuid.uuid4()), "timestamp": stamp,
                 "msgDigest": msg_digest(form.get("msgData", ""), stamp, self.check_word)}
        request.prepare_body(data=form, files=None)
        setattr(request, RESIGN, self.__call__)
        return request


class SfGatewayError(ChannelhubError):
    """The gateway refused a call (``apiResultCode`` other than A1000) for good, after retries."""

    def __init__(self, account: str, service: str, code: str, message: str) -> None:
        self.account, self.code = account, code
        why = f" ({WHY[code]})" if code in WHY else ""
        super().__init__(f"account {account!r}: SF Express refused {service} with {code} {message!r}{why}")


class SfBusinessError(ChannelhubError):
    """The gateway took the call and the service behind refused it (``success`` false): a request the
    connector got wrong (8003 too many waybills, 8013 none)."""

    def __init__(self, account: str, service: str, code: str, message: str) -> None:
        self.account, self.code = account, code
        super().__init__(f"account {account!r}: SF Express {service} failed with business error {code} {message!r}")


def envelope(response: requests.Response) -> dict[str, Any] | None:
    """The answer's outer envelope, or None when the body is not a JSON object."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def retryable(response: requests.Response) -> bool:
    answer = envelope(response) if response.status_code == 200 else None
    return answer is not None and answer.get("apiResultCode") in RETRY_CODES


class SfClient:
    """Calls to one account's service URL on the shared retrying session (HTTP 429/5xx, timeouts and the
    gateway's transient codes retried alike)."""

    def __init__(self, settings: SfExpressSettings, account: str) -> None:
        self.url, self.account = settings.base_url, account
        self.auth = MsgDigestAuth(settings.partner_id.get_secret_value(), settings.check_word.get_secret_value())
        self.session = retrying_session(settings.retry_policy(), also_retry=retryable)

    def call(self, service: str, payload: Mapping[str, Any], stream: str) -> dict[str, Any]:
        """The business answer (``apiResultData`` parsed) of one call; raises :class:`SfGatewayError` or
        :class:`SfBusinessError` when SF refused it, ``HTTPError`` on another HTTP status, and
        :class:`SourceDataError` (naming the account and ``stream``) on an unreadable answer."""
        response = self.session.post(self.url, data={"serviceCode": service, "msgData": msg_data(payload)},
                                     auth=self.auth)
        if response.status_code != 200:
            raise requests.HTTPError(f"account {self.account!r}: SF Express answered {service} with HTTP "
                                     f"{response.status_code}", response=response)
        answer = envelope(response)
        if answer is None:
            raise SourceDataError(self.account, stream, f"the answer to {service} is not a JSON object: "
                                                        f"{response.text[:80]!r}")
        code = answer.get("apiResultCode")
        if code != ACCEPTED:
            raise SfGatewayError(self.account, service, str(code), str(answer.get("apiErrorMsg") or ""))
        try:
            result = json.loads(answer.get("apiResultData") or "")
        except (TypeError, ValueError):
            result = None
        if not isinstance(result, dict):
            raise SourceDataError(self.account, stream, f"apiResultData of {service} is not a JSON object: "
                                                        f"{str(answer.get('apiResultData'))[:80]!r}")
        if result.get("success") is not True:
            raise SfBusinessError(self.account, service, str(result.get("errorCode")), str(result.get("errorMsg")))
        return result
