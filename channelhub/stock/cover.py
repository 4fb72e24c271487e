"""Stock cover and oversell exposure per SKU and channel, at a point in time: what the low-stock alert
and the report read. Velocity is every channel's units sold (net of refunds) over a recent window,
because every channel draws on the same warehouses; the channel's ATP is divided by it.

Exposure is what a channel still shows beyond what it is allocated: units it can sell that the next push
takes back, so possibly units that are not there (a refused or failed push, a level changed by hand).
What it shows is its level at its last load, or our last successful push when that came later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from warehouse import Warehouse

TABLES = (("marts", "rpt_stock_availability"), ("marts", "fct_order_lines"))
NO_PUSHES = ("select cast(null as varchar) as channel_id, cast(null as varchar) as location_id, "
             "cast(null as varchar) as inventory_item_id, cast(null as bigint) as quantity, 1 as rn where 1 = 0")


@dataclass(frozen=True)
class Cover:
    channel_id: str
    product_id: str
    available_to_promise: int
    allocated: int  # what the channel is given, over its locations
    on_channel: int | None  # what the channel showed at its last load (None: never loaded)
    units_sold: int  # every channel, in the window
    per_day: float

    @property
    def days_of_cover(self) -> float | None:
        """None when nothing sold in the window: no rate to run out at."""
        return self.available_to_promise / self.per_day if self.per_day > 0 else None

    @property
    def exposure(self) -> int:
        return max((self.on_channel or 0) - self.allocated, 0)


def stock_cover(warehouse: Warehouse, conn: sa.Connection, as_of: datetime, window: timedelta) -> list[Cover]:
    """Every known SKU on every channel that takes stock write-back, lowest ATP first; empty before the
    first build."""
    if not all(warehouse.table_exists(schema, table, conn) for schema, table in TABLES):
        return []
    pushed = NO_PUSHES
    if warehouse.table_exists("ops", "stock_push_log", conn) and warehouse.table_exists("ops", "run_log", conn):
        pushed = """
            select log.channel_id, log.location_id, log.inventory_item_id, log.new_quantity as quantity,
                   row_number() over (partition by log.channel_id, log.location_id, log.inventory_item_id
                                      order by log.pushed_at desc) as rn
            from ops.stock_push_log log
            where log.outcome = 'success' and log.pushed_at > coalesce(
                (select max(run.finished_at) from ops.run_log run
                 where run.account = log.channel_id and run.stream = '*' and run.outcome = 'success'),
                log.pushed_at - interval '1' day)"""
    rows = conn.execute(sa.text(f"""
        with pushed as ({pushed}),
        levels as (
            select mart.channel_id, mart.product_id, mart.available_to_promise, mart.allocated_quantity,
                   case when pushed.quantity is not null then pushed.quantity else mart.channel_quantity end
                       as on_channel
            from marts.rpt_stock_availability mart
            left join pushed on pushed.rn = 1 and pushed.channel_id = mart.channel_id
                and pushed.location_id = mart.location_id and pushed.inventory_item_id = mart.inventory_item_id
            where mart.product_id is not null
        ),
        stock as (
            select channel_id, product_id, max(available_to_promise) as atp, sum(allocated_quantity) as allocated,
                   sum(on_channel) as on_channel
            from levels group by channel_id, product_id
        ),
        sold as (
            select product_id, sum(quantity - coalesce(refunded_quantity, 0)) as units
            from marts.fct_order_lines
            where ordered_at >= :since and ordered_at < :as_of and product_id is not null
            group by product_id
        )
        select stock.channel_id, stock.product_id, stock.atp, stock.allocated, stock.on_channel,
               coalesce(sold.units, 0) as units
        from stock left join sold on sold.product_id = stock.product_id
        order by stock.channel_id, stock.atp, stock.product_id"""), {"since": as_of - window, "as_of": as_of})
    days = window.total_seconds() / 86_400
    return [Cover(row.channel_id, row.product_id, int(row.atp or 0), int(row.allocated or 0),
                  None if row.on_channel is None else int(row.on_channel), int(row.units), float(row.units) / days)
            for row in rows]
