"""What a stock sync (and its dry run) warns about before anything is pushed: the places where the
channels could sell stock that is not there, or where the mart set a level to 0 for a reason the
merchant should know. Read from ``marts.rpt_stock_availability``; nothing here blocks a push."""

from __future__ import annotations

import sqlalchemy as sa

from warehouse import Warehouse

from .guards import MART
from .policy import StockPolicy

EXAMPLES = 3


def allocation_warnings(policy: StockPolicy, warehouse: Warehouse) -> list[str]:
    """Oversell exposure when the channels' percentages add up to more than 100 %, listings no ERP
    knows, locations set to 0 for want of a warehouse, and locations left alone."""
    with warehouse.engine.connect() as conn:
        if not warehouse.table_exists(*MART, conn):
            return []
        mart = ".".join(MART)
        warnings = [*_overallocation(conn, policy, mart), *_zeroed(conn, mart)]
    for name, channel in sorted(policy.channels.items()):
        if channel.unmapped_locations == "leave":
            warnings.append(f"stock.channels.{name}.unmapped_locations is leave: locations without a warehouse "
                            "keep selling what they hold, which no ERP stock backs")
    return warnings


def _overallocation(conn: sa.Connection, policy: StockPolicy, mart: str) -> list[str]:
    """Units the enabled channels together offer beyond a SKU's available-to-promise: the oversell a
    merchant accepts with ``allow_overallocation: true``."""
    enabled = sorted(name for name, channel in policy.channels.items() if channel.enabled)
    if not policy.allow_overallocation or len(enabled) < 2:
        return []
    row = conn.execute(sa.text(f"""
        with per_channel as (
            select product_id, channel_id, sum(allocated_quantity) as offered, max(available_to_promise) as atp
            from {mart}
            where product_id is not null and channel_id in :channels
            group by product_id, channel_id
        ),
        per_sku as (
            select product_id, sum(offered) - max(atp) as over
            from per_channel group by product_id
        )
        select count(*) as skus, coalesce(sum(over), 0) as units from per_sku where over > 0
    """).bindparams(sa.bindparam("channels", expanding=True)), {"channels": enabled}).one()
    if not row.skus:
        return []
    return [(f"allow_overallocation: the channels together offer {int(row.units)} unit(s) of {row.skus} SKU(s) "
            "beyond what is available to promise: each may be sold twice (oversell exposure)")]


def _zeroed(conn: sa.Connection, mart: str) -> list[str]:
    rows = conn.execute(sa.text(f"""
        select channel_id, allocation_note, count(*) as levels,
               min(coalesce(product_id, source_code)) as example_code, min(location_id) as example_location
        from {mart} where allocation_note is not null
        group by channel_id, allocation_note order by channel_id, allocation_note""")).all()
    return [f"{row.channel_id}: {row.levels} level(s) set to 0, {row.allocation_note} "
            f"(e.g. {row.example_code} at location {row.example_location})" for row in rows]
