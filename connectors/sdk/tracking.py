"""Trackers: connectors that follow parcels the hub already knows, one waybill at a time.

Kuaidi100 and SF Express answer "where is waybill X?" and list nothing: what to ask for comes from the
warehouse (the labels bought at ShipStation, the waybills shops record on their orders), not from the
platform. So a tracker's ``source()`` reads ``account.waybills``: the runner fills it, before each run,
with the shipments of the carriers the account follows that are not finished yet (not delivered,
returned or cancelled), shipped within ``track_days``, and not followed by another provider's own
tracking (EasyPost's trackers) — least recently tracked first.

Platforms sell queries by the package: ``daily_quota`` caps the queries of one day (in the platform's
zone), counted in the resource's dlt state, so a run that hits it leaves the rest to the next day's runs
and a re-run on the same day asks only for what the quota still allows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeVar
from zoneinfo import ZoneInfo

from pydantic import Field

from .settings import RestSettings
from .spec import Connector

log = logging.getLogger("channelhub.tracking")

# The hub's shipment statuses (EasyPost's tracker statuses, which the marts use): each tracker maps its
# platform's states onto these. A finished parcel is polled no more.
STATUSES = ("pre_transit", "in_transit", "out_for_delivery", "available_for_pickup", "delivered", "failure",
            "return_to_sender", "cancelled", "unknown")
FINISHED = ("delivered", "return_to_sender", "cancelled")


@dataclass(frozen=True, slots=True)
class Waybill:
    """A parcel to ask about: the hub's carrier code (``SF``, ``ZTO``, ``USPS``…), the waybill, when it
    shipped, and the receiver's phone where the warehouse knows it (some carriers ask for its last four
    digits before they show a route)."""

    carrier: str
    tracking_code: str
    shipped_at: datetime
    phone: str | None = None


class TrackerSettings(RestSettings):
    """What every tracker account sets: the carriers it follows (the hub's codes, as ``fct_shipments``
    names them), for how long after shipping a parcel is followed, and the day's query allowance."""

    carriers: tuple[str, ...] = Field(min_length=1)
    track_days: int = Field(30, ge=1, le=180)
    daily_quota: int = Field(1000, ge=1)


S = TypeVar("S", bound=TrackerSettings)


class WaybillTracker(Connector[S]):
    """A connector whose source asks about ``account.waybills`` (filled by the runner). ``quota_zone``:
    the zone the platform's day (and so its quota) turns over in."""

    quota_zone: ClassVar[str] = "Asia/Shanghai"


def within_quota(waybills: Iterable[Waybill], state: dict, daily_quota: int, zone: str, now: datetime,
                 account: str) -> Iterator[Waybill]:
    """The waybills today's quota still allows, counting each in ``state`` (a dlt resource state) as it
    is handed out: a query counts once asked, answered or not."""
    today = now.astimezone(ZoneInfo(zone)).date().isoformat()
    if state.get("quota_day") != today:
        state["quota_day"], state["quota_used"] = today, 0
    waiting = list(waybills)
    for handed, waybill in enumerate(waiting):
        if state["quota_used"] >= daily_quota:
            log.warning("account %r: daily quota of %d queries used up; %d waybills wait for tomorrow",
                        account, daily_quota, len(waiting) - handed)
            return
        state["quota_used"] += 1
        yield waybill
