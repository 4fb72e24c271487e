"""The JOS gateway as the connector calls it: business parameters packed into ``360buy_param_json``,
md5 signing, errors both as ``error_response`` and inside a method's own answer, the retrying session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.sdk.gateway import ErrorEnvelopes, SortedParamsAuth
from connectors.sdk.gateway import call as gateway_call

from .settings import JdSettings

ZONE = "Asia/Shanghai"  # JOS writes and reads every time as GMT+8 wall clock
PATH = "routerjson"


def business_error(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """A bad argument, as JD answers it: inside the method's answer, ``apiResult.success = false``
    (order search) or a result object with ``success = false`` and ``errorCode``/``errorMessage``."""
    answer = next(iter(body.values()), None)
    results = [answer, *answer.values()] if isinstance(answer, dict) else []
    for result in (value for value in results if isinstance(value, dict)):
        verdict = result.get("apiResult", result)
        if isinstance(verdict, dict) and verdict.get("success") is False:
            return {"code": verdict.get("numberCode", verdict.get("errorCode")),
                    "zh_desc": verdict.get("chineseErrCode", verdict.get("errorMessage", "")),
                    "sub_code": verdict.get("englishErrCode")}
    return None


# 2: App Call Limited (flow control), 67: JOS could not reach the API's backend. 19 (token expired or
# absent), 12 (invalid signature) and every business error are the caller's and fail at once.
ERRORS = ErrorEnvelopes(retry_codes=frozenset({"2", "67"}), message_field="zh_desc", business=business_error)


def make_client(settings: JdSettings) -> dict[str, Any]:
    """``rest_api``'s client: every call's business parameters packed and signed with the app secret,
    carrying the shop's access token."""
    auth = SortedParamsAuth(secret=settings.app_secret.get_secret_value(), sign_method="md5", timezone=ZONE,
                            json_param="360buy_param_json",
                            system={"app_key": settings.app_key.get_secret_value(), "v": "2.0", "format": "json",
                                    "access_token": settings.access_token.get_secret_value()})
    return {"base_url": settings.base_url, "auth": auth, "paginator": "single_page",
            "session": ERRORS.session(settings.retry_policy())}


def root(method: str) -> str:
    """The key JOS wraps a method's answer in (its spelling): ``jingdong.pop.order.search`` ->
    ``jingdong_pop_order_search_responce``."""
    return method.replace(".", "_") + "_responce"


def call(client: dict[str, Any], method: str, **params: Any) -> dict[str, Any]:
    """One JOS call (writes, checks); an error answer raises ``GatewayError``."""
    return gateway_call(client, PATH, method, root(method), **params)
