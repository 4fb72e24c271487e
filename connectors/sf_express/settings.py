"""What one SF Express (顺丰, 丰桥 open platform) account needs: its partner id and check word, where the
gateway is, and which waybills it follows (the tracker settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from connectors.sdk.tracking import TrackerSettings

# EXP_RECE_SEARCH_ROUTES answers at most 10 waybills a request (business error 8003 查询单号超过最大限制)
MAX_WAYBILLS_PER_REQUEST = 10


class SfExpressSettings(TrackerSettings):
    """``partner_id`` is the customer code (顾客编码, the form's ``partnerID``) and ``check_word`` the
    check word (校验码) the msgDigest is made with, both from the 丰桥 console; sandbox and production
    credentials differ. ``base_url`` is the whole service URL (production
    ``https://bspgw.sf-express.com/std/service``, SF's own sandbox ``https://sfapi-sbox.sf-express.com/std/service``).
    ``page_size``: waybills per route query (at most 10). ``language`` of the route remarks: 0 Chinese,
    1 English, 2 traditional Chinese. ``carriers``: the hub's codes of the parcels this account follows
    (SF's own waybills: ``SF``)."""

    base_url: str = "https://bspgw.sf-express.com/std/service"
    partner_id: SecretStr
    check_word: SecretStr
    carriers: tuple[str, ...] = Field(("SF",), min_length=1)
    page_size: int = Field(MAX_WAYBILLS_PER_REQUEST, ge=1, le=MAX_WAYBILLS_PER_REQUEST)
    language: Literal["0", "1", "2"] = "0"
