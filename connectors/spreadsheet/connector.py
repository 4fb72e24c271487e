"""The spreadsheet connector: a drop folder of .xlsx/.csv exports, one table per configured pattern."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dlt.extract.source import DltSource

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Stream

from . import client
from .settings import SpreadsheetSettings
from .source import FILE_CURSOR, QUARANTINE, QUARANTINE_PRIMARY_KEY, ROW_PRIMARY_KEY, spreadsheet_source
from .table import HeaderNotFound, find_header


class SpreadsheetConnector(Connector[SpreadsheetSettings]):
    """Streams are defined by each account's config (one per file pattern); ``streams`` describes the
    ones the shipped config uses. Any other configured stream loads the same way."""

    name = "spreadsheet"
    kind = ConnectorKind.FILE
    settings_model = SpreadsheetSettings
    streams = (
        Stream("offline_sales", ROW_PRIMARY_KEY, "merge", FILE_CURSOR,
               "Offline-store sales lines from store exports (one row per sheet row)"),
        Stream("stock_counts", ROW_PRIMARY_KEY, "merge", FILE_CURSOR,
               "Stock-take counts per SKU, warehouse and count date"),
        Stream(QUARANTINE, QUARANTINE_PRIMARY_KEY, "merge", FILE_CURSOR,
               "Rows (or whole sheets, row 0) that could not be parsed, with the reason"),
    )

    def offered_streams(self, account: Account[SpreadsheetSettings]) -> tuple[Stream, ...]:
        """The account's file patterns, then the quarantine every one of them feeds."""
        described = {stream.name: stream for stream in self.streams}
        configured = tuple(described.get(name) or Stream(name, ROW_PRIMARY_KEY, "merge", FILE_CURSOR)
                           for name in account.settings.streams)
        return (*configured, described[QUARANTINE])

    def source(self, account: Account[SpreadsheetSettings]) -> DltSource:
        return spreadsheet_source(account.name, account.settings)

    def check(self, account: Account[SpreadsheetSettings]) -> CheckResult:
        """The folder is readable and, per stream, the newest matching file opens and has the header."""
        settings = account.settings
        folder = Path(settings.folder)
        if not folder.is_dir():
            return CheckResult(False, f"drop folder {folder} does not exist or is not a directory")
        if not os.access(folder, os.R_OK | os.X_OK):
            return CheckResult(False, f"drop folder {folder} is not readable")
        facts: dict[str, Any] = {}
        problems: list[str] = []
        for stream, mapping in settings.streams.items():
            files = client.list_files(folder, mapping.pattern)
            facts[stream] = [client.relative_name(folder, path) for path in files]
            if files:
                problem = self._check_file(folder, max(files, key=lambda p: p.stat().st_mtime_ns), stream, settings)
                if problem:
                    problems.append(problem)
        listing = ", ".join(f"{stream}: {len(names)} file(s)" for stream, names in facts.items())
        if problems:
            return CheckResult(False, "; ".join(problems), facts)
        return CheckResult(True, f"drop folder {folder} readable; {listing}", facts)

    @staticmethod
    def _check_file(folder: Path, path: Path, stream: str, settings: SpreadsheetSettings) -> str | None:
        mapping = settings.streams[stream]
        name = client.relative_name(folder, path)
        try:
            file = client.snapshot(folder, path)
            sheets = client.open_sheets(file)
        except (OSError, client.UnreadableFile) as exc:
            return f"{stream}: {name}: {exc}"
        sheets = [s for s in sheets if mapping.sheet is None or s.name == mapping.sheet]
        reasons = []
        for sheet in sheets:
            try:
                find_header(sheet, mapping)
                return None
            except HeaderNotFound as exc:
                reasons.append(str(exc))
        return f"{stream}: {name}: {'; '.join(reasons) or f'no sheet {mapping.sheet!r}'}"
