"""Settings of one U8 account: where the company database is and how to read it."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import Field, SecretStr, field_validator

from connectors.sdk import RetrySettings, TimeZoneName


class U8Settings(RetrySettings):
    """``url`` is a SQLAlchemy URL without the password, e.g.
    ``mssql+pyodbc://u8_reader@u8-host:1433/UFDATA_001_2026?driver=ODBC+Driver+18+for+SQL+Server``;
    the password lives under ``secrets:`` so it never appears in channelhub.yml or a logged URL."""

    url: str
    password: SecretStr | None = None
    timezone: TimeZoneName = "Asia/Shanghai"   # the zone U8's naive datetimes are written in
    chunk_size: int = Field(50_000, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            url = sa.make_url(value)
        except sa.exc.ArgumentError as exc:
            raise ValueError(f"not a SQLAlchemy URL: {exc}") from exc
        if url.password is not None:
            raise ValueError("put the password under secrets: (key 'password'), not in the url")
        return value
