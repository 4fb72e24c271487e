"""Settings of one U8 account: where the company database is and how to read it."""

from __future__ import annotations

from connectors.sdk import TimeZoneName
from connectors.sdk.sql_source import SqlSettings


class U8Settings(SqlSettings):
    """``url`` is a SQLAlchemy URL without the password, e.g.
    ``mssql+pyodbc://u8_reader@u8-host:1433/UFDATA_001_2026?driver=ODBC+Driver+18+for+SQL+Server``;
    the password lives under ``secrets:``."""

    timezone: TimeZoneName = "Asia/Shanghai"   # the zone U8's naive datetimes are written in
