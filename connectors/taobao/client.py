"""The TOP gateway as the connector calls it: signing, error envelopes, the retrying session."""

from __future__ import annotations

from typing import Any

from connectors.sdk.gateway import ErrorEnvelopes, SortedParamsAuth
from connectors.sdk.gateway import call as gateway_call

from .settings import TaobaoSettings

ZONE = "Asia/Shanghai"  # TOP writes and reads every time as GMT+8 wall clock
PATH = "router/rest"
# 7: app call limited (flow control); isp.*: TOP's own remote faults. isv.* and every other code are
# the caller's (bad argument, signature, session) and fail at once.
ERRORS = ErrorEnvelopes(retry_codes=frozenset({7}), retry_sub_codes=("isp.", "accesscontrol."))


def make_client(settings: TaobaoSettings) -> dict[str, Any]:
    """``rest_api``'s client: every call signed with the app secret and carrying the seller's session."""
    auth = SortedParamsAuth(secret=settings.app_secret.get_secret_value(), sign_method=settings.sign_method,
                            timezone=ZONE, system={"app_key": settings.app_key.get_secret_value(), "v": "2.0",
                                                   "session": settings.session.get_secret_value(),
                                                   "format": "json", "sign_method": settings.sign_method})
    return {"base_url": settings.base_url, "auth": auth, "paginator": "single_page",
            "session": ERRORS.session(settings.retry_policy())}


def root(method: str) -> str:
    """The key TOP wraps a method's answer in: ``taobao.item.seller.get`` -> ``item_seller_get_response``."""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def call(client: dict[str, Any], method: str, **params: Any) -> dict[str, Any]:
    """One TOP API call as a form POST (writes, checks); an error answer raises ``GatewayError``."""
    return gateway_call(client, PATH, method, root(method), **params)
