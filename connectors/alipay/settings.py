"""What one Alipay merchant account needs: the open-platform app and its keys, where the bills start, and
which shop's order numbers the merchant order numbers (商户订单号) are, and the contracted fee rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings


class AlipaySettings(RestSettings):
    """``base_url`` is the gateway's host (``https://openapi.alipay.com``; Alipay's sandbox
    ``https://openapi-sandbox.dl.alipaydev.com``); calls go to its ``/gateway.do``. ``app_id`` is the open-platform app with the
    bill-download permission; ``app_private_key`` the app's RSA2 private key, ``alipay_public_key`` the
    Alipay public key shown for the app (PEM or the bare base64 body, as Alipay's key tool writes them).
    ``start_date``: the first bill day read (Beijing date). ``order_channel``: the channelhub account of
    the shop whose order numbers the checkout sends as 商户订单号, so a trade links to ``<order_channel>:
    <商户订单号>``; without it trades link to no order. ``fee_rate``: the 服务费 rate of the merchant's
    contract (0.006 is Alipay's standard 0.6 %), which the trade bill does not state: each trade row
    carries it, and fct_payments flags a fee that is not that rate of the payment; without it no fee
    is checked."""

    base_url: str = "https://openapi.alipay.com"
    app_id: str
    app_private_key: SecretStr
    alipay_public_key: SecretStr
    start_date: date
    order_channel: str | None = None
    fee_rate: Decimal | None = Field(default=None, ge=0, lt=1)
