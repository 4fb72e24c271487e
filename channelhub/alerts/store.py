"""``ops.alerts``: every alert channelhub raised, open or resolved, and when people were told.

An alert is identified by ``rule:scope`` (``unshipped:shop_us``). While its finding persists it stays one
open row (``last_seen_at`` and its records refreshed), so it is sent when it opens and then only as a
reminder every ``remind_every``; once an evaluation no longer finds it, it is resolved and the
resolution is sent. A later recurrence opens a new row: the history stays readable. A message that
could not be delivered leaves its ``*_notified_at`` empty and is tried again on the next evaluation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from channelhub.alerts.checks import Finding
from warehouse import as_utc, ensure_tables

SCHEMA = "ops"
OPEN, RESOLVED = "open", "resolved"
metadata = sa.MetaData(schema=SCHEMA)
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("alert_id", sa.String(32), primary_key=True),
    sa.Column("alert_key", sa.String(255), nullable=False),  # rule:scope
    sa.Column("rule", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(255), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),  # warning | critical
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("records", sa.Text, nullable=False),  # newline-separated: every record the last evaluation named
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("notified_at", sa.DateTime(timezone=True)),  # last time the open alert was sent
    sa.Column("resolution_notified_at", sa.DateTime(timezone=True)),
    sa.Column("delivery_error", sa.Text),  # the last failed delivery, per destination
)


@dataclass(frozen=True)
class Alert:
    """One row of ``ops.alerts``."""

    alert_id: str
    alert_key: str
    rule: str
    scope: str
    severity: str
    status: str
    title: str
    records: tuple[str, ...]
    action: str
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    notified_at: datetime | None = None
    resolution_notified_at: datetime | None = None
    delivery_error: str | None = None

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> Alert:
        fields = {**row, "records": tuple(filter(None, row["records"].split("\n")))}
        fields.pop("record_count")
        for name in ("opened_at", "last_seen_at", "resolved_at", "notified_at", "resolution_notified_at"):
            fields[name] = fields[name] and as_utc(fields[name])
        return cls(**fields)

    def needs_sending(self, now: datetime, remind_every: timedelta | None) -> bool:
        """Whether this evaluation should tell people: a new alert, a reminder, or a resolution."""
        if self.status == RESOLVED:
            return self.resolution_notified_at is None
        if self.notified_at is None:
            return True
        return remind_every is not None and now - self.notified_at >= remind_every


def _values(finding: Finding) -> dict[str, object]:
    return {"severity": finding.severity, "title": finding.title, "records": "\n".join(finding.records),
            "record_count": len(finding.records), "action": finding.action}


def apply_findings(conn: sa.Connection, findings: list[Finding], now: datetime,
                   evaluated_rules: tuple[str, ...]) -> list[Alert]:
    """Open, refresh and resolve ``ops.alerts`` from one evaluation; returns every alert that is open or
    whose resolution is not yet sent (what delivery looks at). Only the rules evaluated can resolve
    alerts, so turning a rule off leaves its open alerts as they were."""
    ensure_tables(conn, alerts)
    current = {row["alert_key"]: row for row in conn.execute(alerts.select().where(alerts.c.status == OPEN)).mappings()}
    found = {finding.key: finding for finding in findings}
    for key, finding in found.items():
        if key in current:
            conn.execute(alerts.update().where(alerts.c.alert_id == current[key]["alert_id"])
                         .values(last_seen_at=now, **_values(finding)))
        else:
            conn.execute(alerts.insert().values(alert_id=uuid.uuid4().hex, alert_key=key, rule=finding.rule,
                                                scope=finding.scope, status=OPEN, opened_at=now, last_seen_at=now,
                                                **_values(finding)))
    for key, row in current.items():
        if key not in found and row["rule"] in evaluated_rules:
            conn.execute(alerts.update().where(alerts.c.alert_id == row["alert_id"])
                         .values(status=RESOLVED, resolved_at=now))
    pending = alerts.select().where(sa.or_(alerts.c.status == OPEN, alerts.c.resolution_notified_at.is_(None)))
    return [Alert.from_row(row) for row in conn.execute(pending.order_by(alerts.c.opened_at, alerts.c.alert_key))
            .mappings()]


def mark_sent(conn: sa.Connection, alert: Alert, now: datetime, errors: list[str]) -> None:
    """Stamp a delivered alert; a failed delivery keeps it due, with the errors for ``channelhub alerts``."""
    values: dict[str, object] = {"delivery_error": "; ".join(errors) or None}
    if not errors:
        values["resolution_notified_at" if alert.status == RESOLVED else "notified_at"] = now
    conn.execute(alerts.update().where(alerts.c.alert_id == alert.alert_id).values(**values))


def listed(conn: sa.Connection, *, include_resolved_since: datetime | None = None) -> list[Alert]:
    """Open alerts, most severe and oldest first; with resolved ones since a time when asked."""
    ensure_tables(conn, alerts)
    where = alerts.c.status == OPEN
    if include_resolved_since is not None:
        where = sa.or_(where, alerts.c.resolved_at >= include_resolved_since)
    rows = conn.execute(alerts.select().where(where).order_by(
        alerts.c.status, sa.case((alerts.c.severity == "critical", 0), else_=1), alerts.c.opened_at,
        alerts.c.alert_key)).mappings()
    return [Alert.from_row(row) for row in rows]
