"""How ``channelhub sync-stock`` shows a :class:`StockSyncReport`: one summary table per sync and the
level diff (sku, channel, old -> new, outcome), cut to a readable length per channel. A mirror is shown
like a channel, named ``<account> (mirror)``; its levels' location is the channel a figure is about, and
its item the figure (allocated, on_hand, available)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .sync import ChannelStatus, ChannelSync, StockSyncReport

SHOWN_PER_CHANNEL = 50
STYLE = {ChannelStatus.SYNCED: "green", ChannelStatus.DRY_RUN: "cyan", ChannelStatus.STALE: "yellow",
         ChannelStatus.DISABLED: "dim", ChannelStatus.FAILED: "red", ChannelStatus.REFUSED: "red"}


def render_sync(console: Console, report: StockSyncReport, shown_per_channel: int = SHOWN_PER_CHANNEL) -> None:
    mode = " (dry run: nothing pushed)" if report.dry_run else " (forced past guardrails)" if report.forced else ""
    diff = Table("channel", "sku", "location", "item", "old", "new", "outcome",
                 title=f"stock sync {report.sync_id[:12]}{mode}")
    targets = [(channel.channel, channel) for channel in report.channels]
    targets += [(f"{mirror.channel} (mirror)", mirror) for mirror in report.mirrors]
    for name, channel in targets:
        for change in channel.changes[:shown_per_channel]:
            d = change.diff
            diff.add_row(name, d.sku, d.location_id, d.item_id, "?" if d.old is None else str(d.old),
                         str(d.new), change.outcome or "-")
        if len(channel.changes) > shown_per_channel:
            diff.add_row(name, f"... {len(channel.changes) - shown_per_channel} more", "", "", "", "", "")
    if diff.row_count:
        console.print(diff)
    summary = Table("channel", "status", "levels", "changed", "pushed", "stale", "failed", "why")
    for name, channel in targets:
        counts = channel.outcomes
        style = STYLE[channel.status]
        summary.add_row(name, f"[{style}]{channel.status.value}[/]", str(channel.levels),
                        str(len(channel.changes)), str(counts["success"]), str(counts["stale"]),
                        str(counts["failed"]), "\n".join(_why(channel)) or "-")
    console.print(summary)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def _why(channel: ChannelSync) -> list[str]:
    unpushable = [f"{channel.unpushable} mart row(s) without location, inventory item or allocation: not pushed"]
    return channel.reasons + (unpushable if channel.unpushable else [])
