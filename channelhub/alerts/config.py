"""``alerts:`` in channelhub.yml: when something needs a person, and where to tell them.

Every threshold has a default, so a config without the section still evaluates every rule; only the
destinations must be named (the alerts are recorded in ``ops.alerts`` and listed by ``channelhub
alerts`` without any). Durations are ISO 8601 (PT48H, P3D) or seconds.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RuleName = Literal["unshipped", "stuck_shipment", "reconciliation", "settlement", "low_stock", "stock_push",
                   "stale_account", "quality"]
RULES: tuple[RuleName, ...] = ("unshipped", "stuck_shipment", "reconciliation", "settlement", "low_stock",
                               "stock_push", "stale_account", "quality")
Severity = Literal["warning", "critical"]
SEVERITY_RANK = {"warning": 0, "critical": 1}
ChatFormat = Literal["dingtalk", "wecom", "feishu", "slack", "json"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    """One place alerts go. Its address is a secret (webhook tokens, SMTP passwords), so the config names
    the environment variable holding it, never the address itself.

    ``apprise_env``: an Apprise URL (``mailtos://user:pass@smtp.example.com?to=ops@example.com``,
    ``slack://...``, ``msteams://...``: every service Apprise knows). ``webhook_env``: a chat bot's
    webhook URL exactly as the bot's settings show it, posted in ``format``: DingTalk (钉钉), WeCom
    (企业微信), Feishu/Lark (飞书), Slack, or plain JSON. ``secret_env``: the bot's signing secret
    (DingTalk 加签, Feishu 签名校验), when the bot has one."""

    name: str
    apprise_env: str | None = None
    webhook_env: str | None = None
    format: ChatFormat = "json"
    secret_env: str | None = None
    rules: tuple[RuleName, ...] | None = None  # only these rules (a finance mailbox: reconciliation); all when unset
    min_severity: Severity = "warning"

    @model_validator(mode="after")
    def _one_address(self) -> Destination:
        if (self.apprise_env is None) == (self.webhook_env is None):
            raise ValueError(f"alert destination {self.name!r}: set exactly one of apprise_env and webhook_env")
        if self.secret_env and self.format not in ("dingtalk", "feishu"):
            raise ValueError(f"alert destination {self.name!r}: secret_env signs DingTalk and Feishu webhooks only")
        return self

    def takes(self, rule: str, severity: str) -> bool:
        return (self.rules is None or rule in self.rules) and SEVERITY_RANK[severity] >= SEVERITY_RANK[self.min_severity]


class AlertsConfig(_Strict):
    # paid orders not fulfilled this long after they were placed; per channel where it differs
    unshipped_after: timedelta = timedelta(hours=48)
    unshipped_after_by_channel: dict[str, timedelta] = Field(default_factory=dict)
    # parcels on the way without a carrier scan this long (or failed or sent back), among those shipped
    # within stuck_within: an older parcel is the carrier's claim process, no longer a reminder
    stuck_after: timedelta = timedelta(days=5)
    stuck_within: timedelta = timedelta(days=30)
    # reconciliation exceptions (rpt_payment_reconciliation) older than this, and at least this far off
    reconciliation_after: timedelta = timedelta(days=3)
    reconciliation_min_difference: Decimal = Decimal("0.01")
    # a SKU on a channel: ATP below this many units, or fewer days of cover than this at the sales
    # rate of the velocity window (every channel's units sold)
    low_stock_below: int = 5
    cover_days_below: float = 7
    velocity_window: timedelta = timedelta(days=28)
    # an account is stale when its last successful load is older than this many of its scheduled runs
    stale_after_runs: int = Field(default=2, ge=1)
    # a still-open alert is sent again after this long (null: only when it opens and when it closes)
    remind_every: timedelta | None = timedelta(days=1)
    max_listed: int = Field(default=20, ge=1)  # records named in one message; the rest are counted
    rules: tuple[RuleName, ...] = RULES  # the rules evaluated
    destinations: list[Destination] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsConfig:
        names = [destination.name for destination in self.destinations]
        if len(names) != len(set(names)):
            raise ValueError(f"alert destinations must have distinct names (have {names})")
        return self

    def unshipped_limit(self, channel: str) -> timedelta:
        return self.unshipped_after_by_channel.get(channel, self.unshipped_after)
