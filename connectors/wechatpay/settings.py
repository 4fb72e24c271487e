"""What one WeChat Pay merchant needs: its merchant number, its API key pair's serial number and private
key, WeChat Pay's platform public key (and id) to verify the answers, where history starts, and the
channel account whose order numbers its trades carry."""

from __future__ import annotations

from datetime import date

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings


class WechatpaySettings(RestSettings):
    """``mchid`` is the merchant number (商户号); ``serial_no`` the serial number of the merchant API
    certificate whose private key is ``merchant_private_key`` (apiclient_key.pem); ``platform_public_key``
    (pub_key.pem) and ``platform_public_key_id`` (``PUB_KEY_ID_…``) are WeChat Pay's public key, from the
    merchant platform (账户中心 > API安全). ``order_channel``: the channel account (channelhub.yml) whose
    order numbers are the trades' ``out_trade_no`` (商户订单号), so payments join their orders; unset, the
    payments name no order. ``start_date``: the first bill day read (WeChat Pay keeps three months).
    ``bill_ready_hour``: the Beijing hour the previous day's bill is ready (10 by WeChat Pay's advice)."""

    base_url: str = "https://api.mch.weixin.qq.com"
    mchid: str = Field(pattern=r"^\d{8,12}$")
    serial_no: str = Field(pattern=r"^[0-9A-Fa-f]{8,40}$")
    platform_public_key_id: str = Field(min_length=1)
    merchant_private_key: SecretStr
    platform_public_key: SecretStr
    order_channel: str | None = None
    start_date: date
    bill_ready_hour: int = Field(10, ge=0, le=23)
