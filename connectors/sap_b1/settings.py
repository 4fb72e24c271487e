"""Validated settings of one SAP Business One company database (``settings:`` and ``secrets:`` in
channelhub.yml)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, SecretStr

from connectors.sdk import RestSettings, TimeZoneName, UtcDatetime

# Prefer: odata.maxpagesize has no documented ceiling; ours keeps a page of documents with their lines
# to a few megabytes, which one Service Layer node renders without holding the session long
MAX_PAGE_SIZE = 1_000


class SapB1Settings(RestSettings):
    """``base_url`` is the Service Layer's OData v4 root with its path (``https://b1-host:50000/b1s/v2``).
    ``company_db`` is the company database's name (``SBODEMOUS``), ``user`` the B1 user the data is read
    as, its ``password`` a secret. ``timezone`` is the zone the company's server writes ``UpdateTime`` and
    ``DocTime`` in (wall-clock strings without an offset): the cursor and the document times depend on it."""

    company_db: str = Field(min_length=1)
    user: str = Field(min_length=1)
    password: SecretStr
    timezone: TimeZoneName
    start_date: UtcDatetime = datetime(2020, 1, 1, tzinfo=UTC)
    page_size: int = Field(500, ge=1, le=MAX_PAGE_SIZE)

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")
