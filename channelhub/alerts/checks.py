"""The rules: each reads the marts and ops tables and returns what needs a person now.

A rule returns one :class:`Finding` per scope (a channel, an account, a table), naming the records
(orders, SKUs, payments) and what to do. The same finding on the next evaluation is the same alert
(``rule:scope``), so it is not sent again; a scope that no longer has a finding is resolved. Times
are compared in Python against bound cut-offs, so the SQL is the same on DuckDB and PostgreSQL. A rule
whose tables are not there yet (before the first build or sync) finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from croniter import croniter

from channelhub.alerts.config import AlertsConfig
from channelhub.stock.cover import stock_cover
from warehouse import Warehouse, as_utc, last_runs

if TYPE_CHECKING:
    from channelhub.config import HubConfig

# rpt_payment_reconciliation statuses that need nobody; every other status is an exception for finance.
SETTLED = frozenset({"matched", "not_due", "excluded", "cancelled_and_refunded", "paid_outside_provider"})
# the statuses that are a question of amount: a gap below reconciliation_min_difference is rounding
AMOUNT_STATUSES = frozenset({"unpaid", "underpaid", "overpaid", "refund_mismatch"})
RECONCILIATION_ACTIONS = {
    "unpaid": "no payment was captured: find the charge at the provider, or cancel the order",
    "underpaid": "the provider captured less than the total: collect the rest, or adjust the order",
    "overpaid": "more was captured than the order asks (a double charge?): refund the excess",
    "refund_mismatch": "the shop and the provider refunded different amounts: refund the gap at the provider "
                       "or correct the refund in the shop",
    "payment_without_order": "a captured payment names no order we know: find its order, or refund it",
    "currency_mismatch": "the payment is in a currency the order was not sold in: check the provider's settlement",
    "disputed": "a chargeback is open: answer it in the provider's dashboard before its due date",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    scope: str  # with the rule, the alert's identity: a channel, an account, a table
    severity: str  # warning | critical
    title: str
    records: tuple[str, ...]  # what needs attention, most urgent first
    action: str

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.scope}"


@dataclass(frozen=True)
class Context:
    hub: HubConfig
    rules: AlertsConfig
    warehouse: Warehouse
    conn: sa.Connection
    as_of: datetime

    def has(self, qualified: str) -> bool:
        schema, table = qualified.split(".")
        return self.warehouse.table_exists(schema, table, self.conn)

    def rows(self, sql: str, **params: object) -> list[sa.RowMapping]:
        return list(self.conn.execute(sa.text(sql), params).mappings())


def hours(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds < 2 * 86_400 else f"{seconds / 86_400:g} days"


def unshipped(ctx: Context) -> Iterable[Finding]:
    if not ctx.has("marts.fct_orders"):
        return
    latest_cutoff = max(ctx.as_of - ctx.rules.unshipped_limit(channel) for channel in
                        {*ctx.rules.unshipped_after_by_channel, "*"})
    # a parcel a logistics account shipped settles it, even before the shop marks the order fulfilled
    shipped = ("and order_id not in (select order_id from marts.fct_shipments where order_id is not null)"
               if ctx.has("marts.fct_shipments") else "")
    rows = ctx.rows(f"""
        select channel_id, order_id, order_number, ordered_at from marts.fct_orders
        where status = 'paid' and not is_test and ordered_at < :cutoff {shipped}
        order by channel_id, ordered_at, order_id""", cutoff=latest_cutoff)
    late: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if as_utc(row["ordered_at"]) < ctx.as_of - ctx.rules.unshipped_limit(row["channel_id"]):
            late[row["channel_id"]].append(f"order {row['order_number'] or row['order_id']} "
                                           f"({as_utc(row['ordered_at']):%Y-%m-%d %H:%M}Z)")
    for channel, orders in sorted(late.items()):
        limit = hours(ctx.rules.unshipped_limit(channel).total_seconds())
        yield Finding("unshipped", channel, "warning",
                      f"{len(orders)} paid order(s) on {channel} not shipped within {limit}", tuple(orders),
                      f"ship them, or mark them fulfilled in {channel} if they left already; oldest first")


def stuck_shipment(ctx: Context) -> Iterable[Finding]:
    """Parcels that need someone to call the carrier or the buyer, per account that shipped them: on the
    way without a scan for ``stuck_after`` (a label never handed over counts from when it was made), or
    failed or sent back; among those shipped within ``stuck_within`` that something tracks (a label
    nobody follows, ShipStation's without a tracker, says nothing of where the parcel is). Critical when
    any failed or was sent back: the buyer waits for a parcel that will not come."""
    if not ctx.has("marts.fct_shipments"):
        return
    rows = ctx.rows("""
        select channel_id, order_id, carrier, tracking_code, status, shipped_at,
               coalesce(last_event_at, shipped_at) as last_seen_at, last_event_message
        from marts.fct_shipments
        where shipped_at >= :since
          and tracked_by is not null
          and (status in ('failure', 'return_to_sender')
               or (not is_final and coalesce(last_event_at, shipped_at) < :quiet_since))
        order by channel_id, coalesce(last_event_at, shipped_at), tracking_code""",
                    since=ctx.as_of - ctx.rules.stuck_within, quiet_since=ctx.as_of - ctx.rules.stuck_after)
    by_channel: dict[str, list[sa.RowMapping]] = defaultdict(list)
    for row in rows:
        by_channel[row["channel_id"]].append(row)
    for channel, found in sorted(by_channel.items()):
        trouble = any(row["status"] in ("failure", "return_to_sender") for row in found)
        yield Finding(
            "stuck_shipment", channel, "critical" if trouble else "warning",
            f"{len(found)} parcel(s) of {channel} failed, sent back or without a carrier scan for "
            f"{hours(ctx.rules.stuck_after.total_seconds())}", tuple(_parcel(row) for row in found),
            "ask the carrier about the waybill (a claim, a new delivery attempt), tell the buyer, and reship or "
            "refund the order; oldest first")


def _parcel(row: sa.RowMapping) -> str:
    order = f", order {row['order_id']}" if row["order_id"] else ""
    return (f"{row['carrier']} {row['tracking_code']}{order}: {row['status']} since "
            f"{as_utc(row['last_seen_at']):%Y-%m-%d %H:%M}Z" + (f" ({row['last_event_message']})"
                                                              if row["last_event_message"] else ""))


def reconciliation(ctx: Context) -> Iterable[Finding]:
    if not all(map(ctx.has, ("marts.rpt_payment_reconciliation", "marts.fct_orders", "marts.fct_payments"))):
        return
    settled = ", ".join(f"'{status}'" for status in sorted(SETTLED))
    rows = ctx.rows(f"""
        select r.channel_id, r.status, r.order_id, r.payment_ids, r.currency, r.difference,
               coalesce(o.ordered_at, p.created_at) as since
        from marts.rpt_payment_reconciliation r
        left join marts.fct_orders o on o.order_id = r.order_id
        left join marts.fct_payments p on r.order_id is null and p.payment_id = r.payment_ids
        where r.status not in ({settled})
        order by r.channel_id, r.status, since, r.order_id, r.payment_ids""")
    cutoff = ctx.as_of - ctx.rules.reconciliation_after
    cases: dict[tuple[str, str], list[sa.RowMapping]] = defaultdict(list)
    for row in rows:
        old = row["since"] is not None and as_utc(row["since"]) < cutoff
        if old and (row["status"] not in AMOUNT_STATUSES or row["difference"] is None
                    or abs(Decimal(row["difference"])) >= ctx.rules.reconciliation_min_difference):
            cases[(row["channel_id"], row["status"])].append(row)
    for (channel, status), found in sorted(cases.items()):
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in found:
            if row["difference"] is not None:
                totals[row["currency"]] += Decimal(row["difference"])
        amounts = ", ".join(f"{currency} {total:+,.2f}" for currency, total in sorted(totals.items()))
        yield Finding(
            "reconciliation", f"{channel}/{status}", "critical" if status == "disputed" else "warning",
            f"{len(found)} {status.replace('_', ' ')} case(s) on {channel} older than "
            f"{hours(ctx.rules.reconciliation_after.total_seconds())}" + (f" (difference {amounts})" if amounts else ""),
            tuple(_case(row) for row in found),
            RECONCILIATION_ACTIONS.get(status, "check the case in marts.rpt_payment_reconciliation"))


def settlement(ctx: Context) -> Iterable[Finding]:
    """Payouts that did not send what their payments less their refunds add up to (fct_payouts), per
    payments account: money finance cannot account for until someone finds the fee, hold, adjustment
    or missing transaction behind it."""
    if not ctx.has("marts.fct_payouts"):
        return
    rows = ctx.rows("""
        select channel_id, payout_id, currency, difference from marts.fct_payouts
        where not is_balanced
        order by channel_id, created_at, payout_id""")
    unbalanced: dict[str, list[sa.RowMapping]] = defaultdict(list)
    for row in rows:
        unbalanced[row["channel_id"]].append(row)
    for account, found in sorted(unbalanced.items()):
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in found:
            totals[row["currency"]] += Decimal(row["difference"])
        amounts = ", ".join(f"{currency} {total:+,.2f}" for currency, total in sorted(totals.items()))
        yield Finding(
            "settlement", account, "warning",
            f"{len(found)} payout(s) of {account} not matching their payments and refunds (difference {amounts})",
            tuple(f"payout {row['payout_id']} ({row['currency']} {Decimal(row['difference']):+,.2f})" for row in found),
            "compare the provider's payout report with marts.fct_payments of that payout_id: a fee, a hold, an "
            "adjustment or a transaction not loaded")


def _case(row: sa.RowMapping) -> str:
    what = row["order_id"] or f"payment {row['payment_ids']}"
    return what if row["difference"] is None else f"{what} ({row['currency']} {Decimal(row['difference']):+,.2f})"


def low_stock(ctx: Context) -> Iterable[Finding]:
    short: dict[str, list[str]] = defaultdict(list)
    empty: set[str] = set()
    for cover in stock_cover(ctx.warehouse, ctx.conn, ctx.as_of, ctx.rules.velocity_window):
        days = cover.days_of_cover
        if cover.available_to_promise < ctx.rules.low_stock_below or (days is not None and days < ctx.rules.cover_days_below):
            short[cover.channel_id].append(f"{cover.product_id} (ATP {cover.available_to_promise}"
                                           + (f", {days:.1f} days of cover)" if days is not None else ")"))
            if cover.available_to_promise <= 0:
                empty.add(cover.channel_id)
    for channel, skus in sorted(short.items()):
        yield Finding("low_stock", channel, "critical" if channel in empty else "warning",
                      f"{len(skus)} SKU(s) on {channel} below {ctx.rules.low_stock_below} units available "
                      f"or {ctx.rules.cover_days_below:g} days of cover", tuple(skus),
                      "reorder or transfer stock to the channel's warehouses; lowest first")


def stock_push(ctx: Context) -> Iterable[Finding]:
    if not ctx.has("ops.stock_push_log"):
        return
    rows = ctx.rows("""
        with last_sync as (
            select channel_id, sync_id, row_number() over (partition by channel_id order by max(pushed_at) desc) as rn
            from ops.stock_push_log group by channel_id, sync_id
        )
        select log.channel_id, log.sku, log.location_id, log.outcome, log.detail
        from ops.stock_push_log log
        join last_sync on last_sync.sync_id = log.sync_id and last_sync.channel_id = log.channel_id
        where last_sync.rn = 1 and log.outcome in ('refused', 'failed')
        order by log.channel_id, log.outcome, log.sku""")
    by_channel: dict[str, list[sa.RowMapping]] = defaultdict(list)
    for row in rows:
        by_channel[row["channel_id"]].append(row)
    for channel, found in sorted(by_channel.items()):
        refused = [row for row in found if row["outcome"] == "refused"]
        if refused:
            yield Finding("stock_push", channel, "warning", f"the last stock push to {channel} was refused",
                          tuple(row["detail"] or "refused" for row in refused),
                          f"read `channelhub sync-stock --dry-run --account {channel}`; if the change is right, "
                          "push it once with --force, otherwise fix the stock or the policy")
            continue
        yield Finding("stock_push", channel, "critical",
                      f"{len(found)} stock level(s) failed to reach {channel} in the last push",
                      tuple(f"{row['sku']}: {row['detail'] or 'failed'}" for row in found),
                      "the channel keeps its old levels: check the channel's API and credentials "
                      "(`channelhub check`), then run `channelhub sync-stock` again")


def stale_account(ctx: Context) -> Iterable[Finding]:
    runs = {row["account"]: row for row in last_runs(ctx.warehouse, ctx.conn)}
    for name in ctx.hub.enabled_accounts():
        schedule = ctx.hub.accounts[name].schedule
        if schedule.strip() == "@once":
            continue
        fires = croniter(schedule, ctx.as_of)
        due = ctx.as_of
        for _ in range(ctx.rules.stale_after_runs):
            due = fires.get_prev(datetime)
        run = runs.get(name)
        success = run and run["last_success_at"] and as_utc(run["last_success_at"])
        if success and success >= due:
            continue
        failing = run is not None and run["state"] == "failed"
        since = f"since {success:%Y-%m-%d %H:%M}Z" if success else "ever"
        yield Finding("stale_account", name, "critical" if failing else "warning",
                      f"{name} has not loaded {since} (schedule {schedule}, {ctx.rules.stale_after_runs} runs missed)",
                      (f"last run {run['state']}: {run['error'] or '-'}",) if run else ("never run",),
                      f"read the last run in `channelhub status` and the task log; run `channelhub check {name}`, "
                      f"then `channelhub run {name}`")


def quality(ctx: Context) -> Iterable[Finding]:
    if not (ctx.has("ops.quality_runs") and ctx.has("ops.quality_results")):
        return
    rows = ctx.rows("""
        select r.table_name, r.column_name, r.expectation, r.severity, r.observed
        from ops.quality_results r
        where r.run_id = (select run_id from ops.quality_runs order by finished_at desc limit 1)
          and not r.success and r.severity in ('critical', 'warning')
        order by r.table_name, r.severity, r.expectation, r.column_name""")
    by_table: dict[str, list[sa.RowMapping]] = defaultdict(list)
    for row in rows:
        by_table[row["table_name"]].append(row)
    for table, found in sorted(by_table.items()):
        critical = any(row["severity"] == "critical" for row in found)
        yield Finding("quality", table, "critical" if critical else "warning",
                      f"{len(found)} quality check(s) failing on {table}",
                      tuple(f"{row['column_name'] or table} {row['expectation']}"
                            + (f" (observed {row['observed']})" if row["observed"] else "") for row in found),
                      "read the failures in Data Docs or ops.quality_results; fix the source or the data"
                      + ("; stock is not pushed while a critical check fails" if critical else ""))


CHECKS: dict[str, Callable[[Context], Iterable[Finding]]] = {
    "unshipped": unshipped, "stuck_shipment": stuck_shipment, "reconciliation": reconciliation,
    "settlement": settlement, "low_stock": low_stock, "stock_push": stock_push, "stale_account": stale_account,
    "quality": quality,
}
