"""Safe stock write-back: push each channel's ``allocated_quantity`` from ``marts.rpt_stock_availability``.

Per channel listed under ``stock.channels``:

1. Baseline: what we believe the channel holds per (location, inventory item): the newer of our last
   successful push and the channel's quantity as last loaded (:mod:`channelhub.stock.diff`).
2. Diff: only levels whose allocation differs from the baseline are sent. A re-run after a partial
   failure therefore sends only what is still different; the writer compares-and-sets against the
   baseline, so a retry never applies twice and a level that moved on the channel is reported stale.
3. Guards (:mod:`channelhub.stock.guards`): the hub must be ready (ingest, build, quality), and the
   channel's push must not look like bad data unless ``force``; the kill switch stops everything.
4. Every attempt, refusal and skip is written to ``ops.stock_push_log`` (not in a dry run).

One channel failing never stops the others; the report says what happened to each.

Per mirror listed under ``stock.mirrors`` (an ERP's form showing the allocations, not selling them), the
same steps with the mirror's own levels: per SKU and listed channel, the channel's allocation and the on
hand and available to promise behind it (:func:`channelhub.stock.diff.mirror_diff`), diffed against what
the push log says was last written to the mirror. Mirrors pass the readiness gate and their kill switch,
not the channels' guardrails: those protect what a channel sells, and a refused channel's allocation is
exactly what the merchant then wants to see in the mirror. Mirrors and channels never stop each other.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from connectors.sdk import ConfigError, StockLevel, StockPushResult
from warehouse import Warehouse, ensure_tables

from . import audit
from .audit import ALL, PushRecord
from .diff import ChannelDiff, channel_diff, mirror_diff
from .exposure import allocation_warnings
from .guards import LevelDiff, guardrail_problems, override_problems, readiness_problems

if TYPE_CHECKING:
    from channelhub.config import HubConfig
    from connectors.sdk import Account, StockWriter

    from .policy import StockPolicy

log = logging.getLogger("channelhub.stock")


class ChannelStatus(StrEnum):
    SYNCED = "synced"        # every change landed, or there was nothing to change
    STALE = "stale"          # some levels moved on the channel since last seen: reported, not overwritten
    FAILED = "failed"        # some levels could not be set (or the channel could not be reached)
    REFUSED = "refused"      # a guard stopped the push; nothing was sent
    DISABLED = "disabled"    # the kill switch is on
    DRY_RUN = "dry-run"      # diff computed, nothing sent


@dataclass(frozen=True)
class LevelOutcome:
    diff: LevelDiff
    outcome: str | None = None  # success | stale | failed; None when not pushed
    detail: str = ""


@dataclass
class ChannelSync:
    channel: str
    status: ChannelStatus
    levels: int = 0                  # the channel's pushable levels in the mart
    changes: list[LevelOutcome] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unpushable: int = 0              # mart rows without location, inventory item or allocation

    @property
    def ok(self) -> bool:
        return self.status not in (ChannelStatus.FAILED, ChannelStatus.REFUSED)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(change.outcome for change in self.changes if change.outcome)


@dataclass
class StockSyncReport:
    sync_id: str
    dry_run: bool
    forced: bool
    channels: list[ChannelSync] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # worth a look, not a reason to refuse
    mirrors: list[ChannelSync] = field(default_factory=list)  # stock.mirrors, each like a channel

    @property
    def ok(self) -> bool:
        """False when any channel or mirror failed or was refused (the CLI exits 1)."""
        return all(target.ok for target in [*self.channels, *self.mirrors])

    def channel(self, name: str) -> ChannelSync:
        return next(channel for channel in self.channels if channel.channel == name)

    def mirror(self, name: str) -> ChannelSync:
        return next(mirror for mirror in self.mirrors if mirror.channel == name)


def sync_stock(hub: HubConfig, *, dry_run: bool = False, force: bool = False,
               accounts: list[str] | None = None) -> StockSyncReport:
    """Push allocated quantities to every enabled channel of ``stock.channels`` and mirror them to every
    enabled mirror of ``stock.mirrors`` (or only to ``accounts``, channels or mirrors)."""
    policy = hub.stock
    if policy is None:
        raise ConfigError("channelhub.yml has no stock: section, so stock write-back is off")
    unknown = sorted(set(accounts or ()) - set(policy.channels) - set(policy.mirrors))
    if unknown:
        raise ConfigError(f"{', '.join(map(repr, unknown))} not listed under stock.channels or stock.mirrors "
                          f"(have: {', '.join(sorted([*policy.channels, *policy.mirrors])) or 'none'})")
    targets = sorted(set(accounts or policy.channels) & set(policy.channels))
    mirrors = sorted(set(accounts or policy.mirrors) & set(policy.mirrors))
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.exclusive("channelhub sync-stock"):
        report = StockSyncReport(uuid.uuid4().hex, dry_run, force)
        with warehouse.engine.begin() as conn:  # the diff reads columns a newer channelhub added to the log
            ensure_tables(conn, audit.stock_push_log)
        wrong_overrides, report.warnings = override_problems(policy, warehouse)
        report.warnings += allocation_warnings(policy, warehouse)
        blockers = [*readiness_problems(hub, warehouse), *wrong_overrides]
        runs = [*(_ChannelRun(hub, policy, warehouse, report, name) for name in targets),
                *(_MirrorRun(hub, policy, warehouse, report, name) for name in mirrors)]
        for run in runs:
            synced = report.mirrors if isinstance(run, _MirrorRun) else report.channels
            try:
                synced.append(run.sync(blockers))
            except Exception as exc:  # one target's crash (bad secret, unreachable shop) must not stop the others
                detail = run.redact(f"{type(exc).__name__}: {exc}")
                log.exception("stock sync of %s %s failed", run.role, run.name)
                run.record_channel("failed", detail)
                synced.append(ChannelSync(run.name, ChannelStatus.FAILED, reasons=[detail]))
        return report


@dataclass
class _ChannelRun:
    """One channel's part of a sync."""

    hub: HubConfig
    policy: StockPolicy
    warehouse: Warehouse
    report: StockSyncReport
    name: str
    account: Account | None = None
    role = "channel"

    def switched_off(self) -> list[str]:
        return [reason for reason, applies in (
            (f"kill switch: stock.channels.{self.name}.enabled is false", not self.policy.channels[self.name].enabled),
            (f"account {self.name!r} is disabled (accounts.{self.name}.enabled is false)",
             not self.hub.accounts[self.name].enabled)) if applies]

    def writer(self, account: Account) -> StockWriter | None:
        return account.connector.stock_writer(account)

    def diff(self, writer: StockWriter) -> ChannelDiff:
        assert self.account is not None
        return channel_diff(self.warehouse, self.name, self.account.dataset, type(writer).loaded_levels)

    def guardrails(self, found: ChannelDiff) -> list[str]:
        return guardrail_problems(self.policy, found.diffs, found.levels, found.held, found.allocated)

    def sync(self, blockers: list[str]) -> ChannelSync:
        off = self.switched_off()
        if off:
            self.record_channel("skipped", "; ".join(off))
            return ChannelSync(self.name, ChannelStatus.DISABLED, reasons=off)
        self.account = self.hub.account(self.name, resolve_secrets=not self.report.dry_run)
        writer = self.writer(self.account)
        if writer is None:
            raise ConfigError(f"connector {self.account.connector.name!r} has no stock writer for a {self.role}")
        found = self.diff(writer)
        diffs = found.diffs
        result = ChannelSync(self.name, ChannelStatus.DRY_RUN, found.levels, [LevelOutcome(d) for d in diffs],
                             unpushable=found.unpushable)
        problems = [*blockers, *found.clashes]
        if not self.report.forced:
            problems += self.guardrails(found)
        if problems:
            self.record_channel("refused", "; ".join(problems))
            result.status, result.reasons = ChannelStatus.REFUSED, problems
            return result
        if self.report.dry_run or not diffs:
            result.status = ChannelStatus.DRY_RUN if self.report.dry_run else ChannelStatus.SYNCED
            return result
        pushed_at = datetime.now(UTC)
        levels = [StockLevel(d.sku, d.location_id, d.item_id, d.new, expected=d.old) for d in diffs]
        outcomes = writer.push(levels, reference=f"channelhub://stock-sync/{self.report.sync_id}")
        result.changes = [LevelOutcome(diff, _outcome(pushed), pushed.detail)
                          for diff, pushed in zip(diffs, outcomes, strict=True)]
        audit.record(self.warehouse, [
            PushRecord(self.report.sync_id, self.name, d.sku, d.location_id, d.item_id, d.old, d.new, pushed_at,
                       change.outcome or "failed", change.detail or None, pushed.actual if pushed.stale else None)
            for d, change, pushed in zip(diffs, result.changes, outcomes, strict=True)])
        counts = result.outcomes
        result.status = (ChannelStatus.FAILED if counts["failed"] else
                         ChannelStatus.STALE if counts["stale"] else ChannelStatus.SYNCED)
        if counts["failed"] or counts["stale"]:
            summary = (f"{counts['failed']} failed, {counts['stale']} stale of {len(diffs)} changes "
                       f"(see ops.stock_push_log, sync_id {self.report.sync_id})")
            result.reasons = [summary]
        return result

    def record_channel(self, outcome: str, detail: str) -> None:
        """A channel-wide row (``sku = '*'``): why nothing was pushed to this channel."""
        if not self.report.dry_run:
            audit.record(self.warehouse, [PushRecord(self.report.sync_id, self.name, ALL, None, None, None, None,
                                                     datetime.now(UTC), outcome, detail)])

    def redact(self, text: str) -> str:
        if self.account is None:
            return text
        from channelhub.runner import redact

        return redact(text, self.account)


class _MirrorRun(_ChannelRun):
    """One mirror's part of a sync: the allocations of every listed channel, as figures per SKU."""

    role = "mirror"

    def switched_off(self) -> list[str]:
        return [f"kill switch: stock.mirrors.{self.name}.enabled is false"] if not self.policy.mirrors[
            self.name].enabled else []

    def writer(self, account: Account) -> StockWriter | None:
        return account.connector.mirror_writer(account)

    def diff(self, writer: StockWriter) -> ChannelDiff:
        return mirror_diff(self.warehouse, self.name, sorted(self.policy.channels))

    def guardrails(self, found: ChannelDiff) -> list[str]:
        return []


def _outcome(result: StockPushResult) -> str:
    return "success" if result.ok else "stale" if result.stale else "failed"
