"""``channelhub demo``: sandboxes up, every account loaded, a summary a person can read."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from channelhub.config import HubConfig
from channelhub.progress import RichCollector
from channelhub.runner import RunFailed, RunReport, run_account
from sandbox.fleet import Fleet
from warehouse import Warehouse


def run_demo(hub: HubConfig, console: Console, *, full_refresh: bool = False) -> list[RunReport]:
    warehouse = Warehouse(hub.warehouse_url)
    reports: list[RunReport] = []
    failures: list[RunFailed] = []
    with Fleet(hub) as fleet:
        console.print("[bold]sandboxes[/]")
        for line in fleet.describe():
            console.print(f"  {line}")
        for name in hub.enabled_accounts():
            try:
                reports.append(run_account(hub, name, full_refresh=full_refresh,
                                           progress=RichCollector(console, name)))
            except RunFailed as exc:
                failures.append(exc)
                console.print(f"[red]failed[/] {exc}")
    table = Table(title=f"channelhub demo: loaded {len(reports)} of {len(reports) + len(failures)} accounts")
    for column in ("account", "connector", "table", "rows", "seconds"):
        table.add_column(column, justify="right" if column in {"rows", "seconds"} else "left")
    for report in reports:
        connector = hub.accounts[report.account].connector
        for i, (name, rows) in enumerate(report.rows.items()):
            table.add_row(report.account if i == 0 else "", connector if i == 0 else "", name, f"{rows:,}",
                          f"{report.seconds:.1f}" if i == 0 else "")
        table.add_section()
    console.print(table)
    console.print(f"warehouse: {warehouse.redacted_url} (schemas raw_<account>, run log in ops.run_log)")
    console.print("next: `.venv/bin/channelhub status` for freshness, `channelhub run <account>` to load again")
    if failures:
        raise RunFailed("demo", f"{len(failures)} account(s) failed: " + "; ".join(map(str, failures)))
    return reports
