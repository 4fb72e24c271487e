"""What one Kuaidi100 account needs: the customer code (授权码) and the key it signs with, the carriers it
follows (the hub's codes) and each one's Kuaidi100 company code (``com``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from connectors.sdk.tracking import TrackerSettings

# The hub's carrier codes (fct_shipments.carrier) -> Kuaidi100's company codes (快递公司编码, lower case)
COM_CODES = {"SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "YUNDA": "yunda", "USPS": "usps",
             "UPS": "ups", "FedEx": "fedex", "DHLExpress": "dhl"}


class Kuaidi100Settings(TrackerSettings):
    """``base_url``: the query host (``/poll/query.do`` is added). ``carriers``: by default the couriers
    whose waybills shops record and nobody else tracks: ZTO, YTO, Yunda, and UPS and DHL Express waybills
    recorded by hand; not SF Express (its own tracker) nor USPS and FedEx (EasyPost's labels, tracked there).
    ``daily_quota``: the queries a day the account's package allows (Kuaidi100 sells them by the package
    and publishes no rate: keep it at what was bought)."""

    base_url: str = "https://poll.kuaidi100.com"
    customer: SecretStr
    key: SecretStr
    carriers: tuple[str, ...] = Field(("ZTO", "YTO", "YUNDA", "UPS", "DHLExpress"), min_length=1)
    com_codes: dict[str, str] = Field(default_factory=lambda: dict(COM_CODES))

    @model_validator(mode="after")
    def _every_carrier_has_a_code(self) -> Kuaidi100Settings:
        missing = [carrier for carrier in self.carriers if carrier not in self.com_codes]
        if missing:
            raise ValueError(f"carriers {missing} have no Kuaidi100 company code: add them to com_codes")
        return self
