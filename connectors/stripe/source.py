"""The dlt source: one resource per Stripe list endpoint, incremental on ``created``.

Stripe lists filter only by ``created`` and return newest first. Each run asks for
``created[gte] = last seen created - lookback`` (and ``created[lt]`` for a bounded backfill), pages with
``starting_after`` until ``has_more`` is false, and merges on ``id``, so objects re-read inside the
lookback window replace their earlier copies instead of duplicating them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient

from connectors.sdk import Cursor, Stream, paginate_checked

from .client import make_client, raise_for_stripe_error
from .records import to_record
from .settings import StripeSettings

if TYPE_CHECKING:
    from dlt.extract.resource import DltResource
    from dlt.extract.source import DltSource


@dataclass(frozen=True)
class NewestFirstCursor(Cursor):
    """A ``created`` cursor over newest-first lists: dlt may close the page stream as soon as a row is
    older than the start value instead of filtering the rest one by one."""

    def incremental(self, initial_value: Any, end_value: Any = None) -> dlt.sources.incremental:
        incremental = super().incremental(initial_value, end_value)
        incremental.row_order = "desc"
        return incremental


def created_range(incremental: dlt.sources.incremental) -> dict[str, int]:
    """The incremental's window as Stripe's ``created`` range filter (whole unix seconds, widened so the
    server never drops a row dlt would keep)."""
    params: dict[str, int] = {}
    if incremental.start_value is not None:
        params["created[gte]"] = math.floor(incremental.start_value.timestamp())
    if incremental.end_value is not None:
        params["created[lt]"] = math.ceil(incremental.end_value.timestamp())
    return params


def stream_resource(client: RESTClient, account: str, stream: Stream, settings: StripeSettings,
                    hints: dict[str, Any]) -> DltResource:
    assert stream.cursor is not None, f"stream {stream.name} needs a cursor"
    incremental = stream.cursor.incremental(settings.start_date)

    def read(created: dlt.sources.incremental = incremental) -> Iterator[list[dict]]:
        params = {"limit": settings.page_size, **created_range(created)}
        for page in paginate_checked(client, account, stream.name, f"/v1/{stream.name}", params=params,
                                     hooks={"response": [raise_for_stripe_error]}):
            yield [to_record(account, stream.name, obj) for obj in page]

    return dlt.resource(read, **hints)


def stripe_source(account: str, settings: StripeSettings, streams: tuple[Stream, ...],
                  hints: dict[str, dict[str, Any]]) -> DltSource:
    client = make_client(settings)
    resources = [stream_resource(client, account, stream, settings, hints[stream.name]) for stream in streams]

    @dlt.source(name="stripe")
    def stripe() -> list[DltResource]:
        return resources

    return stripe()
