"""What a tracker account is asked to follow: the unfinished parcels of its carriers in ``marts.fct_shipments``.

The hub learns waybills from labels (ShipStation), from shops that record them on their orders, and
from carriers' own trackers (EasyPost); trackers such as Kuaidi100 and SF Express only answer for a
waybill they are given. A parcel is handed to the tracker while it is unfinished (not delivered,
returned or cancelled; on a full refresh, finished ones too), shipped within the account's
``track_days``, and not followed by another provider's own tracking; never asked first, then least
recently asked (``tracked_at``: a tracker's latest answer, scans or none), so a quota that runs out
leaves the freshest answers for last, and parcels not collected yet cannot keep the others waiting.
Before the first build there is no ``fct_shipments``: nothing to ask yet.

The day's quota is counted here too, in ``ops.tracker_queries`` (warehouse/tracker_queries.py): the
runner hands the source the day's :class:`QueryAllowance` and records what the run asked, failed or not.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from connectors.sdk import Account, ChannelhubError
from connectors.sdk.tracking import (
    FINISHED,
    QueryAllowance,
    TrackerSettings,
    Waybill,
    WaybillTracker,
    quota_day,
)
from warehouse import Warehouse
from warehouse.run_log import as_utc, utcnow
from warehouse.tracker_queries import add_queries, queries_made

log = logging.getLogger("channelhub.tracking")

# The receiver's phone is the ordering person's (fct_orders keeps no phone: dim_customers does, E.164).
PENDING = """
    select shipments.carrier, shipments.tracking_code, shipments.shipped_at, {phone}
    from marts.fct_shipments as shipments
    left join marts.fct_orders as orders on orders.order_id = shipments.order_id
    {customers}
    where shipments.carrier in :carriers
      and shipments.tracking_code is not null
      and (shipments.status not in :finished or :refresh)
      and shipments.shipped_at >= :since
      and (shipments.tracked_by is null or shipments.tracked_by = :connector)
    order by shipments.tracked_at nulls first, shipments.shipped_at, shipments.tracking_code
"""
WITH_PHONES = {"phone": "customers.phone",
               "customers": "left join marts.dim_customers as customers on customers.customer_id = orders.customer_id"}
WITHOUT_PHONES = {"phone": "cast(null as varchar)", "customers": ""}


def pending_query(with_phones: bool) -> sa.TextClause:
    return sa.text(PENDING.format(**WITH_PHONES if with_phones else WITHOUT_PHONES)).bindparams(
        sa.bindparam("carriers", expanding=True), sa.bindparam("finished", expanding=True))


def pending_waybills(warehouse: Warehouse, account: Account[TrackerSettings],
                     full_refresh: bool = False) -> tuple[Waybill, ...]:
    """The account's waybills to ask about now (see the module's docstring). A full refresh drops the
    tracker's earlier answers, so it asks about the finished parcels too: else their delivery would be
    forgotten at the next build, and a clean load would not give the table the runs had built."""
    settings = account.settings
    with warehouse.engine.connect() as conn:
        if not warehouse.table_exists("marts", "fct_shipments", conn):
            log.info("account %r: no marts.fct_shipments yet (build first): no waybill to track", account.name)
            return ()
        phones = warehouse.table_exists("marts", "dim_customers", conn)
        if not phones:
            log.info("account %r: no marts.dim_customers (build it): waybills go without the receiver's phone",
                     account.name)
        rows = conn.execute(pending_query(phones), {"carriers": list(settings.carriers), "finished": list(FINISHED),
                                      "refresh": full_refresh,
                                      "since": utcnow() - timedelta(days=settings.track_days),
                                      "connector": account.connector.name}).all()
    return tuple(Waybill(carrier, code, as_utc(shipped), phone or None) for carrier, code, shipped, phone in rows)


def todays_allowance(warehouse: Warehouse, account: Account[TrackerSettings], full_refresh: bool = False) -> QueryAllowance:
    """The account's quota for its platform's day now, less the queries earlier runs made that day.

    A full refresh drops the tracker's answers and asks about every waybill again: when the day's quota
    cannot cover them, it is refused before anything is dropped (an answer a platform no longer gives,
    SF's routes older than three months, would be lost with it too; the runbook says so)."""
    connector = account.connector
    assert isinstance(connector, WaybillTracker)
    day = quota_day(connector.quota_zone)
    allowance = QueryAllowance(day, account.settings.daily_quota, used=queries_made(warehouse, account.name, day))
    if full_refresh and len(account.waybills) > allowance.limit - allowance.used:
        raise ChannelhubError(
            f"account {account.name!r}: a full refresh asks about {len(account.waybills)} waybills again, and "
            f"{max(0, allowance.limit - allowance.used)} of today's {allowance.limit} queries are left "
            f"({day}, {connector.quota_zone}): not started, nothing dropped; raise daily_quota or refresh another day")
    return allowance


def record_queries(warehouse: Warehouse, account: Account[TrackerSettings]) -> None:
    """Add the queries the run asked to its day's count (a run that failed spent them too)."""
    if account.allowance is not None:
        add_queries(warehouse, account.name, account.allowance.day, account.allowance.asked)
