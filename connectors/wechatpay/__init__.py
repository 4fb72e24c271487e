"""WeChat Pay (微信支付) API v3: the merchant's payments and refunds, from the daily trade bill."""

from .connector import WechatpayConnector
from .settings import WechatpaySettings

connector = WechatpayConnector()

__all__ = ["WechatpayConnector", "WechatpaySettings", "connector"]
