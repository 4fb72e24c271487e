"""One evaluation: every rule, ``ops.alerts`` updated, what is due sent; and the listing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from channelhub.alerts.checks import CHECKS, Context
from channelhub.alerts.config import AlertsConfig
from channelhub.alerts.delivery import DeliveryFailed, Message, send
from channelhub.alerts.store import OPEN, RESOLVED, Alert, apply_findings, listed, mark_sent
from connectors.sdk import ConfigError
from warehouse import Warehouse

if TYPE_CHECKING:
    from channelhub.config import HubConfig

log = logging.getLogger(__name__)


@dataclass
class AlertReport:
    open: list[Alert] = field(default_factory=list)  # open after this evaluation
    sent: list[Alert] = field(default_factory=list)  # told people about (opened, reminded or resolved)
    resolved: list[Alert] = field(default_factory=list)  # resolved by this evaluation
    errors: list[str] = field(default_factory=list)  # deliveries that failed (retried on the next evaluation)

    @property
    def ok(self) -> bool:
        return not self.errors


def message_for(alert: Alert, rules: AlertsConfig) -> Message:
    """The text people get: what, which records (the first ``max_listed``), what to do, since when."""
    shown = alert.records[:rules.max_listed]
    lines = [f"- {record}" for record in shown]
    if len(alert.records) > len(shown):
        lines.append(f"- … and {len(alert.records) - len(shown)} more (`channelhub alerts`, ops.alerts)")
    since = f"open since {alert.opened_at:%Y-%m-%d %H:%M}Z · alert `{alert.alert_key}`"
    if alert.status == RESOLVED:
        return Message(f"[channelhub] resolved: {alert.title}",
                       f"No longer found at {alert.resolved_at:%Y-%m-%d %H:%M}Z ({since}).", alert.severity,
                       resolved=True)
    return Message(f"[channelhub] {alert.severity}: {alert.title}",
                   "\n".join([*lines, "", f"**What to do:** {alert.action}", "", since]), alert.severity)


def check_alerts(hub: HubConfig, *, as_of: datetime | None = None, deliver: bool = True) -> AlertReport:
    """Evaluate every rule, update ``ops.alerts`` and send what is due. A destination that fails is
    reported (and the alert stays due), never raised, so one broken webhook cannot hide the others."""
    rules, now = hub.alerts, (as_of or datetime.now(UTC)).astimezone(UTC)
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.exclusive("channelhub alerts check"), warehouse.engine.begin() as conn:
        context = Context(hub, rules, warehouse, conn, now)
        findings = [finding for name in rules.rules for finding in CHECKS[name](context)]
        pending = apply_findings(conn, findings, now, rules.rules)
    report = AlertReport(open=[alert for alert in pending if alert.status == OPEN],
                         resolved=[alert for alert in pending if alert.resolved_at == now])
    if not deliver:
        return report
    due = [alert for alert in pending if alert.needs_sending(now, rules.remind_every)]
    outcomes = [(alert, _deliver(alert, rules)) for alert in due]
    with warehouse.exclusive("channelhub alerts check"), warehouse.engine.begin() as conn:
        for alert, errors in outcomes:
            mark_sent(conn, alert, now, errors)
            report.errors.extend(errors)
            if not errors:
                report.sent.append(alert)
    return report


def _deliver(alert: Alert, rules: AlertsConfig) -> list[str]:
    message = message_for(alert, rules)
    errors = []
    for destination in rules.destinations:
        if not destination.takes(alert.rule, alert.severity):
            continue
        try:
            send(destination, message)
        except (DeliveryFailed, ConfigError) as exc:
            log.warning("alert %s not delivered: %s", alert.alert_key, exc)
            errors.append(str(exc))
    return errors


def list_alerts(hub: HubConfig, *, resolved_within: timedelta | None = None) -> list[Alert]:
    """Open alerts (and those resolved within ``resolved_within``), most severe and oldest first."""
    warehouse = Warehouse(hub.warehouse_url)
    since = datetime.now(UTC) - resolved_within if resolved_within else None
    with warehouse.exclusive("channelhub alerts"), warehouse.engine.begin() as conn:
        return listed(conn, include_resolved_since=since)
