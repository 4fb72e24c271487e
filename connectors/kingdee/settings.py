"""Validated settings of one Kingdee K3Cloud data centre (``settings:`` and ``secrets:`` in channelhub.yml)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from pydantic import Field, SecretStr, model_validator

from connectors.sdk import RestSettings, UtcDatetime

MAX_PAGE_SIZE = 2_000  # ExecuteBillQuery's Limit: the server's default cap


class KingdeeSettings(RestSettings):
    """``server_url`` is the K3Cloud site with its ``/k3cloud/`` path (``https://erp.example.com/k3cloud/``;
    Kingdee's cloud: ``https://<tenant>.ik3cloud.com/k3cloud/``). ``acct_id`` is the data centre's id,
    ``user`` the K3Cloud user the data is read as.

    Authenticate with a third-party app (``app_id`` and ``app_secret``: signed headers on every request,
    as Kingdee's SDK does; ``app_id`` is ``<client id>_<32 characters>`` as the registration shows it) or
    with the user's ``password`` (a session cookie from ``ValidateUser``); not
    both. ``lcid``: 2052 Simplified Chinese, 1033 English. ``org_num``: the organisation the app acts in
    (0 = the user's default)."""

    base_url: str = Field(validation_alias="server_url")
    acct_id: str = Field(min_length=1)
    user: str = Field(min_length=1)
    app_id: SecretStr | None = None
    app_secret: SecretStr | None = None
    password: SecretStr | None = None
    lcid: int = 2052
    org_num: int = Field(0, ge=0)
    start_date: UtcDatetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @model_validator(mode="after")
    def _one_way_in(self) -> Self:
        app = self.app_id is not None and self.app_secret is not None
        if app == (self.password is not None) or (self.app_id is None) != (self.app_secret is None):
            raise ValueError("give either app_id and app_secret (a third-party app) or password, not both")
        return self

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")
