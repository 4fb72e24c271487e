"""The Pinduoduo gateway as the connector calls it: signing, error envelopes, the retrying session."""

from __future__ import annotations

from typing import Any

from connectors.sdk.gateway import ErrorEnvelopes, SortedParamsAuth
from connectors.sdk.gateway import call as gateway_call

from .settings import PinduoduoSettings

ZONE = "Asia/Shanghai"  # PDD writes every time as Beijing wall clock; only its bounds and stamp are UNIX seconds
PATH = "api/router"
RATE_LIMITED, SYSTEM_ERROR = 70031, 50000  # as commonly quoted (PDD's error table is not public): see README
# Flow control and PDD's own faults are retried; every other code (sign, access_token, arguments) is the
# caller's and fails at once.
ERRORS = ErrorEnvelopes(retry_codes=frozenset({RATE_LIMITED, SYSTEM_ERROR}), method_param="type",
                        code_field="error_code", message_field="error_msg")
# PDD names an answer's root key per API, not by a rule on the type.
ROOTS = {"pdd.order.number.list.increment.get": "order_sn_increment_get_response",
         "pdd.refund.list.increment.get": "refund_increment_get_response",
         "pdd.goods.list.get": "goods_list_get_response",
         "pdd.goods.detail.get": "goods_detail_get_response",
         "pdd.goods.quantity.update": "goods_quantity_update_response"}


def make_client(settings: PinduoduoSettings) -> dict[str, Any]:
    """``rest_api``'s client: every call signed with the app secret, stamped in UNIX seconds and carrying
    the shop's access token."""
    auth = SortedParamsAuth(secret=settings.client_secret.get_secret_value(), epoch_seconds=True,
                            method_param="type",
                            system={"client_id": settings.client_id.get_secret_value(), "data_type": "JSON",
                                    "access_token": settings.access_token.get_secret_value(), "version": "V1"})
    return {"base_url": settings.base_url, "auth": auth, "paginator": "single_page",
            "session": ERRORS.session(settings.retry_policy())}


def call(client: dict[str, Any], api: str, **params: Any) -> dict[str, Any]:
    """One PDD API call as a form POST (writes, checks); an error answer raises ``GatewayError``."""
    return gateway_call(client, PATH, api, ROOTS[api], method_param="type", **params)
