"""What a tracker account is asked to follow: the unfinished parcels of its carriers in ``marts.fct_shipments``.

The hub learns waybills from labels (ShipStation), from shops that record them on their orders, and
from carriers' own trackers (EasyPost); trackers such as Kuaidi100 and SF Express only answer for a
waybill they are given. A parcel is handed to the tracker while it is unfinished (not delivered,
returned or cancelled), shipped within the account's ``track_days``, and not followed by another
provider's own tracking; least recently tracked first, so a quota that runs out leaves the freshest
answers for last. Before the first build there is no ``fct_shipments``: nothing to ask yet.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from connectors.sdk import Account
from connectors.sdk.tracking import FINISHED, TrackerSettings, Waybill
from warehouse import Warehouse
from warehouse.run_log import as_utc, utcnow

log = logging.getLogger("channelhub.tracking")

PENDING = sa.text("""
    select shipments.carrier, shipments.tracking_code, shipments.shipped_at, orders.phone
    from marts.fct_shipments as shipments
    left join marts.fct_orders as orders on orders.order_id = shipments.order_id
    where shipments.carrier in :carriers
      and shipments.tracking_code is not null
      and shipments.status not in :finished
      and shipments.shipped_at >= :since
      and (shipments.tracked_by is null or shipments.tracked_by = :connector)
    order by shipments.tracked_at nulls first, shipments.shipped_at, shipments.tracking_code
""").bindparams(sa.bindparam("carriers", expanding=True), sa.bindparam("finished", expanding=True))


def pending_waybills(warehouse: Warehouse, account: Account[TrackerSettings]) -> tuple[Waybill, ...]:
    """The account's waybills to ask about now (see the module's docstring)."""
    settings = account.settings
    with warehouse.engine.connect() as conn:
        if not warehouse.table_exists("marts", "fct_shipments", conn):
            log.info("account %r: no marts.fct_shipments yet (build first): no waybill to track", account.name)
            return ()
        rows = conn.execute(PENDING, {"carriers": list(settings.carriers), "finished": list(FINISHED),
                                      "since": utcnow() - timedelta(days=settings.track_days),
                                      "connector": account.connector.name}).all()
    return tuple(Waybill(carrier, code, as_utc(shipped), phone or None) for carrier, code, shipped, phone in rows)
