"""The HTTP client of one K3Cloud data centre: its auth (signed headers or a session cookie), the
retrying session, ``StartRow``/``Limit`` paging (no total: a short page is the last), and Kingdee's
errors inside HTTP 200 read in one place."""

from __future__ import annotations

import json
import re
from typing import Any

import requests
from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.paging import ShortPageOffsetPaginator
from connectors.sdk.session import LoginRefused, SessionCookieAuth
from connectors.sdk.signed_headers import KingdeeSignedHeaders

from .settings import KingdeeSettings

SERVICES = "Kingdee.BOS.WebApi.ServicesStub."
QUERY = f"{SERVICES}DynamicFormService.ExecuteBillQuery.common.kdsvc"
LOGIN = f"{SERVICES}AuthService.ValidateUser.common.kdsvc"
SESSION_COOKIES = ["kdservice-sessionid", "ASP.NET_SessionId"]
SESSION_LOST = 1  # MsgCode of "会话信息已丢失，请重新登录": an unknown session, or a signature K3Cloud refused
NAMED_FIELD = re.compile(r"标识为\s*([\w.]+)\s*的字段")  # "元数据中标识为FFoo的字段不存在"


class KingdeeError(ChannelhubError):
    """K3Cloud refused a call inside an HTTP 200 answer (``IsSuccess: false``)."""


def response_status(response: requests.Response) -> dict[str, Any] | None:
    """The ``ResponseStatus`` of an error answer, None for data. Queries wrap it as
    ``[[{"Result": {"ResponseStatus": ...}}]]``, other services as ``{"Result": ...}``; a data page
    (rows of plain values) is never parsed here."""
    if not response.content.lstrip().startswith((b"[[{", b"{")):
        return None
    payload = response.json()
    if isinstance(payload, list):
        payload = payload[0][0]
    status = (payload.get("Result") or {}).get("ResponseStatus") if isinstance(payload, dict) else None
    return status if isinstance(status, dict) and not status.get("IsSuccess") else None


def raise_for_kingdee_error(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """``rest_api`` response action: an error inside HTTP 200 fails the stream with the form id, the
    field and Kingdee's message (a lost session was already logged in again once, by the auth)."""
    status = response_status(response)
    if status is None:
        return response
    error = (status.get("Errors") or [{}])[0]
    message = error.get("Message") or "no message"
    field = error.get("FieldName") or next(iter(NAMED_FIELD.findall(message)), None)
    try:
        form = json.loads(response.request.body or b"{}").get("data", {}).get("FormId")
    except (ValueError, AttributeError):
        form = None
    hint = (" (check acct_id, user and the app's credentials, or the user's password)"
            if status.get("MsgCode") == SESSION_LOST else "")
    raise KingdeeError(f"K3Cloud refused the query of form {form!r}" + (f", field {field!r}" if field else "")
                       + f": MsgCode {status.get('MsgCode')}, {message}{hint}")


@configspec
class KingdeeLogin(SessionCookieAuth):
    """``AuthService.ValidateUser`` with the user's password; K3Cloud answers 200 either way and says
    in ``LoginResultType`` (1: logged in) whether it worked."""

    acct_id: str = None
    user: str = None
    password: TSecretStrValue = None
    lcid: int = 2052

    def login_body(self) -> dict[str, Any]:
        return {"format": 1, "useragent": "ApiClient", "rid": {}, "v": "1.0",
                "parameters": [self.acct_id, self.user, self.password, self.lcid]}

    def check_login(self, response: requests.Response) -> None:
        answer = response.json()
        if answer.get("LoginResultType") != 1:
            raise LoginRefused(f"K3Cloud refused the login of user {self.user!r} to data centre {self.acct_id!r}: "
                               f"{answer.get('Message')}")

    def session_lost(self, response: requests.Response) -> bool:
        status = response_status(response)
        return status is not None and status.get("MsgCode") == SESSION_LOST


def make_client(settings: KingdeeSettings) -> dict[str, Any]:
    """``rest_api``'s client: signed headers for an app, else a session from the user's password."""
    policy = settings.retry_policy()
    if settings.password is None:
        auth: SessionCookieAuth | KingdeeSignedHeaders = KingdeeSignedHeaders(
            acct_id=settings.acct_id, user=settings.user, app_id=settings.app_id.get_secret_value(),
            app_secret=settings.app_secret.get_secret_value(), lcid=settings.lcid, org_num=settings.org_num)
        session = retrying_session(policy)
    else:
        auth = KingdeeLogin(login_url=f"{settings.root}/{LOGIN}", cookie_names=SESSION_COOKIES, acct_id=settings.acct_id,
                            user=settings.user, password=settings.password.get_secret_value(), lcid=settings.lcid)
        session = auth.session = retrying_session(policy, also_retry=auth.relogin_and_retry)
    paginator = ShortPageOffsetPaginator(settings.page_size, offset_body_path="data.StartRow",
                                         limit_body_path="data.Limit")
    return {"base_url": f"{settings.root}/", "auth": auth, "paginator": paginator, "session": session}
