"""The dlt source: one ``rest_api`` resource per Stripe list endpoint, incremental on ``created``.

Stripe lists filter only by ``created`` and return newest first. Each run asks for
``created[gte] = last seen created - lag`` (the cursor's declared lookback; ``created[lt]`` for a
bounded backfill), pages with ``starting_after`` until ``has_more`` is false, and merges on ``id``, so
objects re-read inside the lookback window replace their earlier copies instead of duplicating them.
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import partial

from dlt.extract.source import DltSource

from connectors.sdk import Stream, quarantining
from connectors.sdk.rest import resource_config, rest_source

from .client import make_client, raise_for_stripe_error
from .records import to_record
from .settings import StripeSettings


def unix_seconds(value: datetime | None) -> int | None:
    """A cursor bound as Stripe's ``created`` filter takes it: whole unix seconds, rounded down so the
    server never drops a row dlt would keep (dlt filters the range exactly)."""
    return None if value is None else math.floor(value.timestamp())


def stripe_source(account: str, settings: StripeSettings, streams: tuple[Stream, ...]) -> DltSource:
    source = rest_source("stripe", make_client(settings), [
        resource_config(stream, {"path": f"/v1/{stream.name}", "params": {"limit": settings.page_size},
                                 "data_selector": "data", "response_actions": [raise_for_stripe_error]},
                        start_param="created[gte]", initial_value=settings.start_date, convert=unix_seconds,
                        account=account)
        for stream in streams])
    for stream in streams:  # objects become rows before the incremental reads ``created``
        source.resources[stream.name].add_map(quarantining(partial(to_record, account, stream.name)), insert_at=1)
    return source
