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
from typing import Any, ClassVar

from dlt.extract.items_transform import ItemTransform
from dlt.extract.source import DltSource

from connectors.sdk import Cursor, Stream, quarantining
from connectors.sdk.rest import resource_config, rest_source

from .client import make_client, raise_for_stripe_error
from .records import to_record
from .settings import StripeSettings

# Charges change after they are created (refunded, disputed, captured): Stripe's list filters only on
# ``created``, so such changes are followed through /v1/events (kept 30 days), as Stripe advises for
# keeping a copy current, and merged into ``charges``.
CHARGE_CHANGES = ["charge.refunded", "charge.refund.updated", "charge.updated", "charge.captured",
                  "charge.dispute.created", "charge.dispute.closed", "charge.dispute.funds_withdrawn",
                  "charge.dispute.funds_reinstated"]
CHARGE_EVENTS = Stream("charge_events", ("id",), cursor=Cursor("created", source_timezone="UTC", lag=300,
                                                               row_order="desc"),
                       description="Events of charges changed after their creation; merged into charges")


def unix_seconds(value: datetime | None) -> int | None:
    """A cursor bound as Stripe's ``created`` filter takes it: whole unix seconds, rounded down so the
    server never drops a row dlt would keep (dlt filters the range exactly)."""
    return None if value is None else math.floor(value.timestamp())


class ChangedCharges(ItemTransform[Any, Any]):
    """A pipe step after the incremental of the charge events: each event becomes the charge as that event
    left it, newest event first, one per charge and run. Stripe lists events newest first and an event's
    ``data.object`` is the whole object, so the first event of a charge seen in a run is its current state."""

    placement_affinity: ClassVar[float] = 1.5  # after the incremental (1), which reads the *event's* created

    def __init__(self, account: str) -> None:
        super().__init__(lambda item: item)
        self.convert = quarantining(partial(to_record, account, "charges"))
        self.seen: set[str] = set()

    def __call__(self, item: Any, meta: Any = None) -> Any:
        charges = []
        for event in item if isinstance(item, list) else [item]:
            charge = ((event or {}).get("data") or {}).get("object") or {}
            if charge.get("id") in self.seen:
                continue
            self.seen.add(charge.get("id"))
            if (row := self.convert(charge)) is not None:
                charges.append(row)
        return charges


def stripe_source(account: str, settings: StripeSettings, streams: tuple[Stream, ...]) -> DltSource:
    resources = [
        resource_config(stream, {"path": f"/v1/{stream.name}", "params": {"limit": settings.page_size},
                                 "data_selector": "data", "response_actions": [raise_for_stripe_error]},
                        start_param="created[gte]", initial_value=settings.start_date, convert=unix_seconds,
                        account=account)
        for stream in streams]
    if any(stream.name == "charges" for stream in streams):
        resources.append(resource_config(
            CHARGE_EVENTS, {"path": "/v1/events", "params": {"limit": settings.page_size, "types[]": CHARGE_CHANGES},
                            "data_selector": "data", "response_actions": [raise_for_stripe_error]},
            start_param="created[gte]", initial_value=settings.start_date, convert=unix_seconds, account=account,
            table_name="charges", steps=[ChangedCharges(account)]))
    source = rest_source("stripe", make_client(settings), resources)
    for stream in (*streams, CHARGE_EVENTS):  # objects become rows before the incremental reads ``created``
        if stream.name in source.resources:
            source.resources[stream.name].add_map(quarantining(partial(to_record, account, stream.name)),
                                                  insert_at=1)
    return source
