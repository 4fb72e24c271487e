"""The HTTP side of the connector: the open-platform gateway call that asks for a day's bill
(``alipay.data.dataservice.bill.downloadurl.query``), signed RSA2 over its sorted parameters, with the
answer's signature verified against the Alipay public key; then the plain GET of the download URL it
gives. Both through the SDK's retrying session.

Signing (Alipay's documented rule): every parameter but ``sign``, empty ones left out, sorted by name,
written ``k=v`` joined with ``&`` (values raw, not URL-encoded), UTF-8, SHA256withRSA with the app
private key, base64. The answer is ``{"<method>_response": {...}, "sign": "..."}``: the signature covers
the exact text of the ``..._response`` value as sent, so it is cut from the raw body, never re-serialised.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import requests

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.convert import wall_clock
from connectors.sdk.rsa_signing import private_key, public_key, sign, verify

from .settings import AlipaySettings

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
GATEWAY_PATH = "/gateway.do"
ANSWER = "alipay_data_dataservice_bill_downloadurl_query_response"
ZONE = "Asia/Shanghai"  # the gateway's timestamp and the bill's times are Beijing time
SUCCESS = "10000"
UNAVAILABLE = "20000"  # "Service Currently Unavailable": Alipay's own fault or its flow control; try again
BILL_NOT_EXIST = ("isp.bill_not_exist", "BILL_NOT_EXIST")  # current and 2016 spellings


class AlipayError(ChannelhubError):
    """The gateway refused the call for good: Alipay's code, msg, sub_code and sub_msg (never the
    parameters: they hold the signature)."""

    def __init__(self, answer: dict[str, Any], day: date | None = None) -> None:
        self.code, self.sub_code = answer.get("code"), answer.get("sub_code")
        detail = ", ".join(f"{name} {answer[name]!r}" for name in ("sub_code", "sub_msg") if answer.get(name))
        super().__init__(f"{METHOD}{f' for bill day {day}' if day else ''} failed: code {self.code} "
                         f"{answer.get('msg', '')!r}" + (f" ({detail})" if detail else ""))


class BadSignature(ChannelhubError):
    """An answer whose signature does not verify: not trusted, not retried (a wrong ``alipay_public_key``,
    or something between us and Alipay rewrote it)."""


def sign_content(params: dict[str, str]) -> str:
    """Alipay's string to sign: parameters with a value but ``sign``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{key}={value}" for key, value in sorted(params.items()) if key != "sign" and value != "")


def signed_answer(body: str, answer_key: str) -> tuple[str, str | None]:
    """The exact text of ``answer_key``'s value in ``body``, and the ``sign`` beside it (None if absent)."""
    document = json.loads(body)
    marker = f'"{answer_key}"'
    start = body.index(marker) + len(marker)
    start = body.index("{", start)
    _, end = json.JSONDecoder().raw_decode(body, start)
    return body[start:end], document.get("sign") if isinstance(document, dict) else None


def _unavailable(response: requests.Response) -> bool:
    """``also_retry``: Alipay answers its own faults and flow control with HTTP 200, code 20000."""
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and any(isinstance(value, dict) and value.get("code") == UNAVAILABLE
                                            for value in answer.values())


class AlipayGateway:
    """One merchant app's calls: the bill URL of a day, and the bill file behind it."""

    def __init__(self, settings: AlipaySettings) -> None:
        self.settings = settings
        self.app_key = private_key(settings.app_private_key.get_secret_value(), "app_private_key")
        self.alipay_key = public_key(settings.alipay_public_key.get_secret_value(), "alipay_public_key")
        self.session = retrying_session(settings.retry_policy(), also_retry=_unavailable)

    def signed(self, biz_content: dict[str, str]) -> dict[str, str]:
        """The common parameters and ``biz_content``, signed."""
        params = {"app_id": self.settings.app_id, "method": METHOD, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "timestamp": wall_clock(datetime.now(UTC), ZONE), "version": "1.0",
                  "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":"))}
        params["sign"] = sign(self.app_key, sign_content(params).encode())
        return params

    def call(self, biz_content: dict[str, str], day: date | None = None) -> dict[str, Any]:
        """The verified ``..._response`` of one gateway call (``code`` 10000 or not); an answer that is not
        JSON, or whose signature does not verify, raises."""
        response = self.session.post(f"{self.settings.base_url.rstrip('/')}{GATEWAY_PATH}", data=self.signed(biz_content))
        if response.status_code != 200:
            raise ChannelhubError(f"{METHOD}: the gateway answered HTTP {response.status_code}")
        body = response.content.decode(response.encoding or "utf-8")
        key = ANSWER if f'"{ANSWER}"' in body else "error_response"
        try:
            text, signature = signed_answer(body, key)
        except ValueError as exc:
            raise ChannelhubError(f"{METHOD}: the gateway's answer is not the JSON Alipay writes ({exc})") from None
        answer = json.loads(text)
        if signature is None and answer.get("code") == SUCCESS:
            raise BadSignature(f"{METHOD}: Alipay's answer carries no sign; refusing an unsigned bill URL")
        if signature is not None and not verify(self.alipay_key, text.encode(), signature):
            raise BadSignature(f"{METHOD}: the answer's sign does not verify with alipay_public_key (is it the "
                               "Alipay public key of this app, not the app's own?)")
        return answer

    def bill_url(self, day: date, bill_type: str = "trade") -> str | None:
        """The download URL of ``day``'s bill of ``bill_type`` (``trade``, or ``signcustomer`` the account
        bill), valid 30 seconds, or None when Alipay says it does not exist (not generated yet, or missing)."""
        answer = self.call({"bill_type": bill_type, "bill_date": day.isoformat()}, day)
        if answer.get("code") == SUCCESS and answer.get("bill_download_url"):
            return answer["bill_download_url"]
        if answer.get("sub_code") in BILL_NOT_EXIST:
            return None
        raise AlipayError(answer, day)

    def download(self, url: str, day: date) -> bytes:
        """The bill file: a plain GET of the URL, at once (it expires in 30 seconds)."""
        response = self.session.get(url)
        if response.status_code != 200:
            raise ChannelhubError(f"the bill file of {day} could not be downloaded: HTTP {response.status_code}")
        return response.content
