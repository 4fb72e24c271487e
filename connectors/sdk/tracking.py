"""Trackers: connectors that follow parcels the hub already knows, one waybill at a time.

Kuaidi100 and SF Express answer "where is waybill X?" and list nothing: what to ask for comes from the
warehouse (the labels bought at ShipStation, the waybills shops record on their orders), not from the
platform. So a tracker's ``source()`` reads ``account.waybills``: the runner fills it, before each run,
with the shipments of the carriers the account follows that are not finished yet (not delivered,
returned or cancelled), shipped within ``track_days``, and not followed by another provider's own
tracking (EasyPost's trackers) — never asked first, then least recently asked.

An answer is two tables: the waybill's row (the latest answer, merged on carrier and waybill: a
waybill asked and not scanned yet is on record as asked; the connector's models give these rows as the
conformed ``tracker_answers`` role, fct_shipments' ``tracked_at``, which orders the queue) and its
scans, a table of their own merged on carrier, waybill and :func:`scan_id`. Not a child table of the
waybill's row: dlt's merge replaces a row's child rows whole, so an answer with fewer scans (SF forgets
routes after about three months, Kuaidi100 may answer 查询无结果 for a parcel it had scans of) would
delete the ones loaded. Merged on their own identity, an answer adds the scans that are new and removes none.

Platforms sell queries by the package: ``daily_quota`` caps the queries of one day (in the platform's
zone). The runner hands the source ``account.allowance`` (a :class:`QueryAllowance`: the day's queries
already made, from ``ops.tracker_queries``) and adds what the run asked when it ends, failed or not, so a
run that hits the quota leaves the rest to the next day's runs, and neither a re-run after a failure nor
a full refresh asks beyond what the package allows.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from pydantic import Field

from .settings import RestSettings
from .spec import Connector

if TYPE_CHECKING:
    from .account import Account

log = logging.getLogger("channelhub.tracking")

# The key of a tracker's scans table: the waybill and the scan's identity within it (scan_id).
SCAN_KEY = ("carrier", "tracking_code", "scan_id")

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


def quota_day(zone: str, now: datetime | None = None) -> date:
    """The platform's day (in ``zone``, where its quota turns over) at ``now``."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


@dataclass(slots=True)
class QueryAllowance:
    """What ``day``'s quota allows an account: ``limit`` queries a day, ``used`` of them by earlier runs;
    ``asked`` counts this run's, which the runner adds to ``ops.tracker_queries`` when the run ends."""

    day: date
    limit: int
    used: int = 0
    asked: int = 0

    def take(self, waybills: Iterable[Waybill], account: str) -> Iterator[Waybill]:
        """The waybills the quota still allows, each counted as it is handed out: a query counts once
        asked, answered or not."""
        waiting = list(waybills)
        for handed, waybill in enumerate(waiting):
            if self.used + self.asked >= self.limit:
                log.warning("account %r: daily quota of %d queries used up; %d waybills wait for tomorrow",
                            account, self.limit, len(waiting) - handed)
                return
            self.asked += 1
            yield waybill


class WaybillTracker(Connector[S]):
    """A connector whose source asks about ``account.waybills`` (filled by the runner), within the day's
    quota (:meth:`within_quota`). ``quota_zone``: the zone the platform's day (and so its quota) turns over in."""

    quota_zone: ClassVar[str] = "Asia/Shanghai"

    def within_quota(self, account: Account[S], waybills: Iterable[Waybill]) -> Iterator[Waybill]:
        """``waybills`` as far as the account's allowance goes: the runner's, or outside a run (a source
        built by hand) a fresh one for today."""
        allowance = account.allowance or QueryAllowance(quota_day(self.quota_zone), account.settings.daily_quota)
        return allowance.take(waybills, account.name)


def scan_id(*identity: object) -> str:
    """A scan's id within its waybill, from what tells it from the waybill's other scans (its time, and
    what the carrier recorded happened where): the same scan in a later answer has the same id, so it
    merges onto itself instead of loading twice. 16 hex digits of a SHA-256: a waybill holds tens of scans."""
    return hashlib.sha256("\x1f".join(map(str, identity)).encode()).hexdigest()[:16]
