"""What the report shows, read from the marts and ops tables as plain rows: one function per section.

Money stays Decimal and is formatted with its currency's ISO 4217 exponent; sums never mix currencies.
Times are UTC; sales days are each channel's local business days, as rpt_daily_sales counts them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from iso4217 import Currency

from channelhub.alerts.checks import SETTLED
from channelhub.alerts.store import alerts as alerts_table
from channelhub.alerts.store import listed
from channelhub.stock.cover import Cover, stock_cover
from warehouse import Warehouse, as_utc, last_runs

if TYPE_CHECKING:
    from channelhub.config import HubConfig

TOP_SKUS = 15
LOWEST_COVER = 20
RECENT_SYNCS = 10


@cache
def exponent(currency: str) -> int:
    try:
        return Currency(currency).exponent or 0
    except ValueError:
        return 2


def money(amount: Decimal | float | None, currency: str) -> str:
    if amount is None:
        return "—"
    return f"{currency} {Decimal(amount):,.{exponent(currency)}f}"


@dataclass(frozen=True)
class Window:
    as_of: datetime
    days: int

    @property
    def since(self) -> datetime:
        return self.as_of - timedelta(days=self.days)

    @property
    def first_day(self) -> date:
        return self.since.date()


@dataclass
class Reader:
    hub: HubConfig
    warehouse: Warehouse
    conn: sa.Connection
    window: Window

    def has(self, schema: str, table: str) -> bool:
        return self.warehouse.table_exists(schema, table, self.conn)

    def rows(self, sql: str, **params: Any) -> list[sa.RowMapping]:
        return list(self.conn.execute(sa.text(sql), params).mappings())


def daily_sales(reader: Reader) -> list[dict[str, Any]]:
    """Net sales and orders per channel and local business day, in the channel's currency."""
    if not reader.has("marts", "rpt_daily_sales"):
        return []
    return [dict(row) for row in reader.rows("""
        select sales_date, channel_id, currency, sum(order_count) as orders, sum(net_sales) as net_sales
        from marts.rpt_daily_sales where sales_date >= :first_day
        group by sales_date, channel_id, currency order by sales_date, channel_id, currency""",
        first_day=reader.window.first_day)]


def channel_totals(reader: Reader) -> list[dict[str, Any]]:
    if not reader.has("marts", "rpt_daily_sales"):
        return []
    return [{"channel": row["channel_id"], "orders": int(row["orders"]),
             "gross": money(row["gross"], row["currency"]), "returns": money(row["returns"], row["currency"]),
             "net": money(row["net"], row["currency"]), "collected": money(row["collected"], row["currency"])}
            for row in reader.rows("""
        select channel_id, currency, sum(order_count) as orders, sum(gross_sales) as gross, sum(returns) as returns,
               sum(net_sales) as net, sum(total_collected) as collected
        from marts.rpt_daily_sales where sales_date >= :first_day
        group by channel_id, currency order by channel_id, currency""", first_day=reader.window.first_day)]


def top_skus(reader: Reader) -> list[dict[str, Any]]:
    """The best sellers by units in the window, with their revenue per currency."""
    if not reader.has("marts", "fct_order_lines"):
        return []
    rows = reader.rows("""
        select product_id, currency, sum(quantity - coalesce(refunded_quantity, 0)) as units,
               sum(line_amount) as revenue
        from marts.fct_order_lines
        where product_id is not null and ordered_at >= :since and ordered_at < :as_of
        group by product_id, currency""", since=reader.window.since, as_of=reader.window.as_of)
    units: dict[str, int] = defaultdict(int)
    revenue: dict[str, list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: row["currency"]):
        units[row["product_id"]] += int(row["units"])
        revenue[row["product_id"]].append(money(row["revenue"], row["currency"]))
    best = sorted(units, key=lambda sku: (-units[sku], sku))[:TOP_SKUS]
    return [{"sku": sku, "units": units[sku], "revenue": "; ".join(revenue[sku])} for sku in best]


def covers(reader: Reader, velocity_window: timedelta) -> list[Cover]:
    return stock_cover(reader.warehouse, reader.conn, reader.window.as_of, velocity_window)


def lowest_cover(all_covers: list[Cover]) -> list[dict[str, Any]]:
    """The SKUs that run out first on each channel (by days of cover, then ATP), with exposure."""
    ranked = sorted(all_covers, key=lambda c: (c.days_of_cover if c.days_of_cover is not None else float("inf"),
                                               c.available_to_promise, c.channel_id, c.product_id))
    return [{"sku": c.product_id, "channel": c.channel_id, "atp": c.available_to_promise, "allocated": c.allocated,
             "on channel": "—" if c.on_channel is None else c.on_channel,
             "sold per day": round(c.per_day, 2),
             "days of cover": "—" if c.days_of_cover is None else round(c.days_of_cover, 1),
             "exposure": c.exposure} for c in ranked[:LOWEST_COVER]]


def exposure_by_channel(all_covers: list[Cover]) -> list[dict[str, Any]]:
    per: dict[str, list[Cover]] = defaultdict(list)
    for cover in all_covers:
        per[cover.channel_id].append(cover)
    return [{"channel": channel, "SKUs": len(items), "exposed SKUs": sum(1 for c in items if c.exposure),
             "units exposed": sum(c.exposure for c in items),
             "SKUs at 0 ATP": sum(1 for c in items if c.available_to_promise <= 0)}
            for channel, items in sorted(per.items())]


def reconciliation(reader: Reader) -> list[dict[str, Any]]:
    """Open exceptions by status and currency: cases and the net difference."""
    if not reader.has("marts", "rpt_payment_reconciliation"):
        return []
    settled = ", ".join(f"'{status}'" for status in sorted(SETTLED))
    return [{"status": row["status"], "currency": row["currency"], "cases": int(row["cases"]),
             "difference": money(row["difference"], row["currency"]),
             "absolute": money(row["absolute"], row["currency"])}
            for row in reader.rows(f"""
        select status, currency, count(*) as cases, sum(difference) as difference, sum(abs(difference)) as absolute
        from marts.rpt_payment_reconciliation where status not in ({settled})
        group by status, currency order by status, currency""")]


def freshness(reader: Reader) -> list[dict[str, Any]]:
    """Per enabled account: last run, last successful load and its age in hours."""
    runs = {row["account"]: row for row in last_runs(reader.warehouse, reader.conn)}
    rows = []
    for name in reader.hub.enabled_accounts():
        run = runs.get(name)
        success = run and run["last_success_at"] and as_utc(run["last_success_at"])
        rows.append({"account": name, "connector": reader.hub.accounts[name].connector,
                     "schedule": reader.hub.accounts[name].schedule, "last run": run["state"] if run else "never",
                     "last success": f"{success:%Y-%m-%d %H:%M}Z" if success else "—",
                     "age (hours)": round((reader.window.as_of - success).total_seconds() / 3600, 1) if success else None})
    return rows


def stock_pushes(reader: Reader) -> list[dict[str, Any]]:
    """The last syncs per channel: outcomes counted, and a refusal's reason."""
    if not reader.has("ops", "stock_push_log"):
        return []
    rows = reader.rows("""
        select sync_id, channel_id, max(pushed_at) as pushed_at,
               sum(case when outcome = 'success' then 1 else 0 end) as pushed,
               sum(case when outcome = 'stale' then 1 else 0 end) as stale,
               sum(case when outcome = 'failed' then 1 else 0 end) as failed,
               max(case when outcome in ('refused', 'skipped') then outcome end) as refused,
               max(case when outcome in ('refused', 'skipped') then detail end) as reason
        from ops.stock_push_log group by sync_id, channel_id order by pushed_at desc, channel_id""")
    return [{"when": f"{as_utc(row['pushed_at']):%Y-%m-%d %H:%M}Z", "channel": row["channel_id"],
             "outcome": row["refused"] or ("failed" if row["failed"] else "pushed"), "pushed": int(row["pushed"]),
             "stale": int(row["stale"]), "failed": int(row["failed"]), "why": row["reason"] or ""}
            for row in rows[:RECENT_SYNCS]]


def open_alerts(reader: Reader) -> list[dict[str, Any]]:
    if not reader.has(alerts_table.schema or "ops", alerts_table.name):
        return []
    return [{"severity": alert.severity, "alert": alert.alert_key, "what": alert.title,
             "since": f"{alert.opened_at:%Y-%m-%d %H:%M}Z", "what to do": alert.action}
            for alert in listed(reader.conn)]
