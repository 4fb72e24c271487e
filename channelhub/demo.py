"""``channelhub demo``: the whole chain against the sandboxes, and a summary a person can read.

sandboxes up → ingest every account → build the marts → track parcels (the tracker accounts ask about
the waybills the build found, then the marts are built again) → quality gates → stock diff (dry run) →
push → alerts → report → summary. Every step is the library function the CLI command and the Airflow task of the same name
call; the demo only strings them together and reports.

The sandbox shops were stocked before channelhub managed them, so the first push cuts many levels and
the drop guardrail refuses it, as it would for a real merchant's first sync. The demo shows that
refusal, then does what an operator does after reading the dry run: pushes once with ``force``. The
same push mirrors the allocations to the Jiandaoyun 进销存 form of ``stock.mirrors`` (jdy_erp).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

import transforms
from channelhub.alerts import SETTLED, AlertReport, check_alerts
from channelhub.config import HubConfig
from channelhub.fleet import Fleet
from channelhub.progress import RichCollector
from channelhub.report import write_report
from channelhub.runner import RunFailed, RunReport, run_account
from channelhub.stock import ChannelStatus, ChannelSync, StockSyncReport, sync_stock
from channelhub.stock.report import render_sync
from connectors.sdk import ChannelhubError
from connectors.sdk.tracking import WaybillTracker
from expectations import ValidationReport, validate
from warehouse import Warehouse

DIFF_ROWS_SHOWN = 5  # per channel; `channelhub sync-stock --dry-run` lists more
SALES_BY_CHANNEL = """
    select channel_id, platform, currency, sum(order_count) as orders, sum(gross_sales) as gross,
           sum(discounts) as discounts, sum(returns) as returns, sum(net_sales) as net,
           sum(total_collected) as collected
    from marts.rpt_daily_sales group by channel_id, platform, currency order by channel_id, currency"""
RECONCILIATION_BY_STATUS = """
    select coalesce(payments.provider, '-') as provider, cases.status, count(*) as cases, cases.currency,
           sum(cases.difference) as difference
    from marts.rpt_payment_reconciliation as cases
    left join marts.fct_payments as payments on payments.payment_id = split_part(cases.payment_ids, ',', 1)
    group by 1, cases.status, cases.currency order by 1, cases.status, cases.currency"""
SETTLEMENT_BY_PROVIDER = """
    select provider, currency, count(*) as payouts, count(*) filter (where not is_balanced) as unbalanced,
           sum(amount) as paid_out, sum(fee_amount) as fees, sum(difference) as difference
    from marts.fct_payouts
    group by provider, currency order by provider, currency"""


class DemoFailed(ChannelhubError):
    """A step of the demo chain failed; the message names the step and the cause."""


@dataclass
class DemoOutcome:
    loads: list[RunReport] = field(default_factory=list)
    build: transforms.BuildReport | None = None
    model_docs: Path | None = None
    quality: ValidationReport | None = None
    dry_run: StockSyncReport | None = None
    pushes: list[StockSyncReport] = field(default_factory=list)
    alerts: AlertReport | None = None
    report: Path | None = None

    def pushed_channels(self) -> list[ChannelSync]:
        """Each channel's last push of the demo (a refused channel is pushed again with force)."""
        last = {channel.channel: channel for report in self.pushes for channel in report.channels}
        return [last[name] for name in sorted(last)]

    def pushed_mirrors(self) -> list[ChannelSync]:
        """Each mirror's last push of the demo (the ERP form showing the allocations: jdy_erp's)."""
        last = {mirror.channel: mirror for report in self.pushes for mirror in report.mirrors}
        return [last[name] for name in sorted(last)]


def run_demo(hub: HubConfig, console: Console, *, full_refresh: bool = False) -> DemoOutcome:
    outcome = DemoOutcome()
    with Fleet(hub) as fleet:
        console.rule("[bold]sandboxes")
        for line in fleet.describe():
            console.print(f"  {line}")
        trackers = [name for name in hub.enabled_accounts() if is_tracker(hub, name)]
        console.rule("[bold]1. ingest")
        _ingest(hub, console, outcome, [name for name in hub.enabled_accounts() if name not in trackers], full_refresh)
        console.rule("[bold]2. build")
        outcome.build = transforms.build(hub, full_refresh=full_refresh)
        console.print(f"built {len(outcome.build.built)} models in {outcome.build.seconds:.1f}s")
        if trackers:  # they ask about the waybills the build has just put in fct_shipments
            console.rule("[bold]2b. track parcels, build again")
            _ingest(hub, console, outcome, trackers, full_refresh)
            rebuilt = transforms.build(hub)
            console.print(f"built {len(rebuilt.built)} models in {rebuilt.seconds:.1f}s")
        outcome.model_docs = transforms.publish_docs(hub)
        console.rule("[bold]3. quality gates")
        outcome.quality = validate(hub)
        console.print(f"{len(outcome.quality.outcomes)} checks: {len(outcome.quality.critical)} critical "
                      f"failure(s), {len(outcome.quality.warnings)} warning(s)")
        for failed in outcome.quality.critical + outcome.quality.warnings:
            console.print(f"  [yellow]{failed.severity}[/] {failed.table_name} {failed.column_name or ''} "
                          f"{failed.expectation}: {failed.observed or failed.details or ''}")
        console.rule("[bold]4. stock: what would change (dry run)")
        outcome.dry_run = sync_stock(hub, dry_run=True)
        render_sync(console, outcome.dry_run, DIFF_ROWS_SHOWN)
        console.rule("[bold]5. stock: push")
        outcome.pushes.append(sync_stock(hub))
        render_sync(console, outcome.pushes[-1], DIFF_ROWS_SHOWN)
        refused = [c.channel for c in outcome.pushes[-1].channels if c.status is ChannelStatus.REFUSED]
        if refused and outcome.quality.ok:
            console.print(f"[yellow]guardrail:[/] refused {', '.join(refused)} (reasons above). These shops were "
                          "stocked before channelhub; an operator reviews the dry run and forces the first sync "
                          "once (`channelhub sync-stock --force`). The demo does that now.")
            outcome.pushes.append(sync_stock(hub, force=True, accounts=refused))
            render_sync(console, outcome.pushes[-1], DIFF_ROWS_SHOWN)
        console.rule("[bold]6. alerts")
        outcome.alerts = check_alerts(hub)
        console.print(f"{len(outcome.alerts.open)} open (ops.alerts), {len(outcome.alerts.sent)} sent to "
                      f"{len(hub.alerts.destinations)} destination(s)")
        outcome.report = write_report(hub)
    console.rule("[bold]summary")
    _summarize(hub, console, outcome)
    if not outcome.quality.ok:
        raise DemoFailed(f"quality gates: {len(outcome.quality.critical)} critical failure(s); stock was not pushed")
    failed = [f"{c.channel} {c.status.value}" for c in [*outcome.pushed_channels(), *outcome.pushed_mirrors()]
              if not c.ok]
    if failed:
        raise DemoFailed("stock push: " + "; ".join(failed))
    return outcome


def is_tracker(hub: HubConfig, name: str) -> bool:
    """A tracker account asks about waybills the warehouse knows (connectors/sdk/tracking.py)."""
    return isinstance(hub.account(name, resolve_secrets=False).connector, WaybillTracker)


def _ingest(hub: HubConfig, console: Console, outcome: DemoOutcome, names: list[str], full_refresh: bool) -> None:
    failures: list[RunFailed] = []
    for name in names:
        try:
            report = run_account(hub, name, full_refresh=full_refresh, progress=RichCollector(console, name))
        except RunFailed as exc:
            failures.append(exc)
            console.print(f"[red]failed[/] {exc}")
            continue
        outcome.loads.append(report)
        console.print(f"  {name:<14} {report.total_rows:>9,} records in {report.seconds:.1f}s")
    if failures:
        raise DemoFailed(f"ingest: {len(failures)} account(s) failed, nothing built: "
                         + "; ".join(map(str, failures)))


def _summarize(hub: HubConfig, console: Console, outcome: DemoOutcome) -> None:
    warehouse = Warehouse(hub.warehouse_url)
    console.print(f"[bold]channelhub demo: loaded {len(outcome.loads)} of {len(hub.enabled_accounts())} accounts[/]")
    with warehouse.engine.connect() as conn:
        sales = conn.exec_driver_sql(SALES_BY_CHANNEL).mappings().all()
        statuses = conn.exec_driver_sql(RECONCILIATION_BY_STATUS).mappings().all()
        payouts = conn.exec_driver_sql(SETTLEMENT_BY_PROVIDER).mappings().all()
    table = Table("channel", "currency", "orders", "gross", "discounts", "returns", "net", "collected",
                  title="orders and revenue per channel and currency (marts.rpt_daily_sales)")
    for column in table.columns[2:]:
        column.justify, column.no_wrap = "right", True
    for row in sales:
        table.add_row(f"{row['channel_id']} ({row['platform']})", row["currency"], f"{row['orders']:,}",
                      *(f"{row[column]:,.2f}" for column in ("gross", "discounts", "returns", "net", "collected")))
    console.print(table)
    table = Table("provider", "status", "cases", "currency", "difference", "finance",
                  title="payment reconciliation by provider and status (marts.rpt_payment_reconciliation)")
    for row in statuses:
        difference = "—" if row["difference"] is None else f"{row['difference']:,.2f}"
        table.add_row(row["provider"], row["status"], str(row["cases"]), row["currency"], difference,
                      "" if row["status"] in SETTLED else "[bold red]check[/]")
    console.print(table)
    table = Table("provider", "currency", "payouts", "paid out", "fees", "unbalanced", "difference",
                  title="settlement: payouts against what they settled (marts.fct_payouts)")
    for row in payouts:
        table.add_row(row["provider"], row["currency"], f"{row['payouts']:,}", f"{row['paid_out']:,.2f}",
                      f"{row['fees']:,.2f}", f"{row['unbalanced']:,}" + (" [bold red]check[/]" if row["unbalanced"] else ""),
                      f"{row['difference']:,.2f}")
    console.print(table)
    # each push printed its table above; the summary names where each channel ended, in one line
    pushed = [(c.channel, c) for c in outcome.pushed_channels()] + [(f"{m.channel} (mirror)", m)
                                                                     for m in outcome.pushed_mirrors()]
    console.print("stock write-back: " + "; ".join(
        f"{name} {target.status.value} ({target.outcomes['success']} pushed, {target.outcomes['stale']} "
        f"stale, {target.outcomes['failed']} failed)" for name, target in pushed))
    table = Table("severity", "alert", "what", title="open alerts (`channelhub alerts`)")
    for alert in outcome.alerts.open if outcome.alerts else ():
        table.add_row(alert.severity, alert.alert_key, alert.title)
    console.print(table)
    console.print(f"warehouse: {warehouse.redacted_url}  (BI reads schema [bold]marts[/]; raw_<account>, ops.*)",
                  soft_wrap=True)
    console.print(f"Data Docs: {outcome.quality.docs_index}", soft_wrap=True)
    console.print(f"model docs: {outcome.model_docs}", soft_wrap=True)
    console.print(f"report: {outcome.report.resolve() if outcome.report else '-'}", soft_wrap=True)
    console.print("next: `channelhub status`, `channelhub build`, `channelhub validate`, "
                  "`channelhub sync-stock --dry-run`, `channelhub alerts`, `channelhub report`, `make airflow`")
