"""The HTTP side of the connector: one signed real-time query (实时快递查询) per waybill, ``POST
/poll/query.do`` with the form fields ``customer``, ``sign`` and ``param`` (a JSON string), through the
SDK's retrying session; and what its answers mean.

Signing (Kuaidi100's documented rule and its official demos): ``sign = UPPER(MD5(param + key +
customer))`` over the exact ``param`` text sent, UTF-8, no separators.

Answers come in HTTP 200. A query that found the waybill is ``{"message": "ok", "state", "ischeck",
"com", "nu", "data": [...]}``; a refused one ``{"result": false, "returnCode", "message"}``. Kuaidi100
publishes no table of return codes in the sources we have: these are the ones its clients handle.
``500`` 查询无结果 (no scan yet: an ordinary answer, asked again next run), ``501``/``502`` its server
failing or busy (sent again under the retry policy), ``503`` a signature it refused, ``400`` a request
it cannot read or a customer code not authorised, ``601`` a key expired or its package used up, ``408``
a phone that does not match the waybill (a record's problem, not the account's).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.tracking import Waybill

from .settings import Kuaidi100Settings

QUERY_PATH = "/poll/query.do"
NO_RESULT = "500"          # 查询无结果，请隔段时间再查
BUSY = ("501", "502")      # 服务器错误, 服务器繁忙
PHONE_MISMATCH = "408"     # the carrier's phone check failed for this waybill
WHY = {"503": "Kuaidi100 refused the signature: check the account's key and customer",
       "400": "Kuaidi100 refused the request: the customer code is not authorised for the query service, or "
              "the request is incomplete",
       "601": "Kuaidi100 refused the key: it expired or the query package is used up (buy more, or lower "
              "daily_quota to what the package allows)"}


def sign(param: str, key: str, customer: str) -> str:
    """Kuaidi100's signature of a query: MD5 of ``param + key + customer`` as 32 upper-case hex digits."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


def query_param(com: str, num: str, phone: str | None) -> str:
    """The ``param`` JSON: area parsing and each scan's state (``resultv2`` 1), JSON, oldest scan first.
    A phone goes as its last four digits, which Kuaidi100 accepts: no more of the receiver's number
    leaves the hub than the carrier's check needs."""
    fields = {"com": com, "num": num}
    if phone:
        fields["phone"] = "".join(ch for ch in phone if ch.isdigit())[-4:]
    fields |= {"resultv2": "1", "show": "0", "order": "asc"}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def refusal(response: requests.Response) -> tuple[str, str] | None:
    """``(returnCode, message)`` of a refused query, or None (an answer, or a body that is no JSON)."""
    try:
        answer = response.json()
    except ValueError:
        return None
    if isinstance(answer, dict) and (answer.get("result") is False or "returnCode" in answer):
        return str(answer.get("returnCode")), str(answer.get("message") or "")
    return None


def answers_the_waybill(code: str, message: str) -> bool:
    """Whether a refusal is about the waybill, not the account: nothing found yet (some answers say
    查询无结果 with another code), or a phone the carrier's check refused."""
    return code in (NO_RESULT, PHONE_MISMATCH) or "查询无结果" in message


def _busy(response: requests.Response) -> bool:
    """``also_retry``: Kuaidi100 answers its own failures with HTTP 200 and returnCode 501 or 502."""
    refused = refusal(response) if response.status_code == 200 else None
    return refused is not None and refused[0] in BUSY


class Kuaidi100Error(ChannelhubError):
    """Kuaidi100 refused a query for good: why, naming the account and the waybill (never the form: it
    holds the signature)."""

    def __init__(self, account: str, waybill: Waybill, why: str) -> None:
        super().__init__(f"account {account!r}, waybill {waybill.carrier} {waybill.tracking_code}: {why}")


class Kuaidi100Client:
    """One account's queries."""

    def __init__(self, settings: Kuaidi100Settings) -> None:
        self.settings = settings
        self.url = settings.base_url.rstrip("/") + QUERY_PATH
        self.session = retrying_session(settings.retry_policy(), also_retry=_busy)

    def query(self, account: str, waybill: Waybill) -> dict[str, Any]:
        """Kuaidi100's answer about ``waybill``: the body it sent (``{"waybill", "answer" | "unreadable"}``;
        a query that found nothing is ``answer`` with returnCode 500). Raises :class:`Kuaidi100Error` when
        it refused the account (signature, customer, key or package) or stayed unavailable."""
        settings = self.settings
        param = query_param(settings.com_codes[waybill.carrier], waybill.tracking_code, waybill.phone)
        customer = settings.customer.get_secret_value()
        response = self.session.post(self.url, data={"customer": customer, "param": param,
                                                     "sign": sign(param, settings.key.get_secret_value(), customer)})
        if response.status_code != 200:
            raise Kuaidi100Error(account, waybill, f"Kuaidi100 answered HTTP {response.status_code} {response.reason}")
        refused = refusal(response)
        if refused is not None and not answers_the_waybill(*refused):
            code, message = refused
            why = WHY.get(code) or ("Kuaidi100 stayed unavailable" if code in BUSY else "Kuaidi100 refused the query")
            raise Kuaidi100Error(account, waybill, f"{why} (returnCode {code}: {message})")
        try:
            return {"waybill": waybill, "answer": response.json()}
        except ValueError:
            return {"waybill": waybill, "unreadable": response.text}
