"""The HTTP side of the connector: requests signed with the merchant key (``WECHATPAY2-SHA256-RSA2048``,
connectors/sdk/rsa_signed.py), every JSON answer's platform signature verified before it is read, the
shared retry policy (429 ``FREQUENCY_LIMITED``, 5xx ``SYSTEM_ERROR``, timeouts), WeChat Pay's error
envelope ``{"code", "message"}`` turned into an error that says what WeChat Pay said, and one day's
bill (the trade bill or the basic account's fund flow bill): its ``download_url``, the file, its SHA1
checked."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
import requests

from connectors.sdk import ChannelhubError, SourceDataError, retrying_session
from connectors.sdk.rsa_signed import WechatPayV3Auth, verify_response
from connectors.sdk.rsa_signing import private_key, public_key

from .settings import WechatpaySettings

TRADEBILL = "/v3/bill/tradebill"
FUNDFLOWBILL = "/v3/bill/fundflowbill"
NO_BILL = "NO_STATEMENT_EXIST"    # no bill that day: no trade, or none made yet
NOT_READY = "STATEMENT_CREATING"  # the bill is being made


class WechatpayAPIError(ChannelhubError):
    """WeChat Pay refused a request for good (after retries): status, code and message. Never the
    Authorization header."""

    def __init__(self, response: requests.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        self.status, self.code = response.status_code, body.get("code") or "no error body"
        path = (response.request.path_url if response.request else "?").split("?")[0]
        hint = " (check mchid, serial_no and merchant_private_key)" if self.code == "SIGN_ERROR" else ""
        super().__init__(f"WeChat Pay answered HTTP {self.status} {self.code} on {path}: "
                         f"{body.get('message') or response.reason}{hint}")


@dataclass(frozen=True)
class Client:
    session: requests.Session
    base_url: str
    account: str
    stream: str


def make_client(settings: WechatpaySettings, account: str, stream: str) -> Client:
    """A retrying session that signs every request and verifies every JSON answer's platform signature
    (an answer that fails is never read), then raises :class:`WechatpayAPIError` on an error answer
    other than a bill not there (which :func:`trade_bill` reads)."""
    key = public_key(settings.platform_public_key.get_secret_value(), "platform_public_key")
    session = retrying_session(settings.retry_policy())
    session.auth = WechatPayV3Auth(settings.mchid, settings.serial_no,
                                   private_key(settings.merchant_private_key.get_secret_value(), "merchant_private_key"))
    send = session.send

    def checked(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = send(request, **kwargs)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            verify_response(response, key, settings.platform_public_key_id)
        if response.status_code >= 400 and _code(response) not in (NO_BILL, NOT_READY):
            raise WechatpayAPIError(response)
        return response

    session.send = checked  # type: ignore[method-assign]
    return Client(session, settings.base_url.rstrip("/"), account, stream)


def _code(response: requests.Response) -> str | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body.get("code") if isinstance(body, dict) else None


class BillNotReady(ChannelhubError):
    """The day's bill is not made yet: the read stops before it, so no later day is loaded first."""


def trade_bill(client: Client, day: date) -> str | None:
    """The text of ``day``'s trade bill (every trade: ``bill_type=ALL``, gzip): see :func:`bill`."""
    return bill(client, TRADEBILL, day, bill_type="ALL")


def fund_flow_bill(client: Client, day: date) -> str | None:
    """The text of ``day``'s fund flow bill of the basic account (基本账户, where payments land and
    withdrawals leave; gzip): see :func:`bill`."""
    return bill(client, FUNDFLOWBILL, day, account_type="BASIC")


def bill(client: Client, path: str, day: date, **params: str) -> str | None:
    """The text of ``day``'s bill at ``path``, its SHA1 checked; None when WeChat Pay has no bill for the
    day (``NO_STATEMENT_EXIST``). Raises :class:`BillNotReady` on ``STATEMENT_CREATING``, and
    :class:`SourceDataError` naming the day when an answer or the file cannot be read."""
    where, kind = f"bill {day.isoformat()}", path.rsplit("/", 1)[-1]
    response = client.session.get(f"{client.base_url}{path}", params={
        "bill_date": day.isoformat(), **params, "tar_type": "GZIP"})
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise SourceDataError(client.account, client.stream, f"the {kind} answer is not JSON ({exc})",
                              record=where) from None
    if response.status_code >= 400:
        if body.get("code") == NOT_READY:
            raise BillNotReady(f"the bill of {day} is still being made")
        return None
    if body.get("hash_type") != "SHA1" or not str(body.get("download_url", "")).startswith(client.base_url):
        raise SourceDataError(client.account, client.stream, f"unexpected {kind} answer {body!r:.200}",
                              record=where, field="download_url")
    content = client.session.get(body["download_url"]).content
    if hashlib.sha1(content).hexdigest() != str(body.get("hash_value", "")).lower():
        raise SourceDataError(client.account, client.stream, "the downloaded file does not match the bill's "
                              "SHA1 hash_value (cut short or altered on the way)", record=where)
    try:
        return gzip.decompress(content).decode("utf-8-sig")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise SourceDataError(client.account, client.stream, f"the bill file is not gzip'd UTF-8 ({exc})",
                              record=where) from None
