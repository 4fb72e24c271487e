"""How ``channelhub alerts`` shows alerts: one row each, the records it names cut to a few."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from channelhub.alerts.store import RESOLVED, Alert

RECORDS_SHOWN = 3
SEVERITY_STYLE = {"critical": "[bold red]critical[/]", "warning": "[yellow]warning[/]"}


def render_alerts(console: Console, alerts: list[Alert], title: str = "alerts (ops.alerts)") -> None:
    if not alerts:
        console.print("no open alerts")
        return
    table = Table("severity", "alert", "open since", "what", "records", "what to do", title=title)
    for alert in alerts:
        records = list(alert.records[:RECORDS_SHOWN])
        if len(alert.records) > RECORDS_SHOWN:
            records.append(f"... {len(alert.records) - RECORDS_SHOWN} more")
        severity = "[green]resolved[/]" if alert.status == RESOLVED else SEVERITY_STYLE[alert.severity]
        table.add_row(severity, alert.alert_key, f"{alert.opened_at:%Y-%m-%d %H:%M}Z", alert.title,
                      "\n".join(records), alert.action)
    console.print(table)
