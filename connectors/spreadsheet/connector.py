"""The spreadsheet connector: a drop folder of .xlsx/.csv exports, one file stream per configured pattern
(:mod:`connectors.sdk.files` lists, reads and replaces files; this package parses them)."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from dlt.extract.source import DltSource

from connectors.sdk import Account, CheckResult, Connector, ConnectorKind, Stream
from connectors.sdk.files import (
    QUARANTINE,
    FileStream,
    UnreadableFile,
    file_source,
    file_stream,
    list_files,
    quarantine_stream,
    snapshot,
)

from .client import open_sheets
from .settings import SpreadsheetSettings, StreamMapping
from .table import HeaderNotFound, find_header, parse_file

# Where a row sits: the sheet ("" for CSV) and the row number Excel shows.
POSITION = (("source_sheet", "text"), ("source_row", "bigint"))
DLT_TYPES = {"text": "text", "decimal": "decimal", "integer": "bigint", "date": "date", "datetime": "timestamp"}
DESCRIPTIONS = {"offline_sales": "Offline-store sales lines from store exports (one row per sheet row)",
                "stock_counts": "Stock-take counts per SKU, warehouse and count date"}


def declared(name: str, mapping: StreamMapping | None = None) -> Stream:
    """A configured pattern as a stream: its mapped columns typed as declared (so a column empty in the
    first file still gets its type), the stamped currency and the row key."""
    types = [(target, DLT_TYPES[mapping.type_of(target)]) for target in mapping.columns] if mapping else []
    if mapping and mapping.currency:
        types.append(("currency", "text"))
    return file_stream(name, POSITION, DESCRIPTIONS.get(name, ""), (*types, ("row_key", "text")))


class SpreadsheetConnector(Connector[SpreadsheetSettings]):
    """Streams are defined by each account's config (one per file pattern); ``streams`` describes the
    ones the shipped config uses. Any other configured stream loads the same way."""

    name = "spreadsheet"
    kind = ConnectorKind.FILE
    settings_model = SpreadsheetSettings
    streams: ClassVar[tuple[Stream, ...]] = (*(declared(name) for name in DESCRIPTIONS), quarantine_stream(POSITION))

    def offered_streams(self, account: Account[SpreadsheetSettings]) -> tuple[Stream, ...]:
        """The account's file patterns, then the quarantine every one of them feeds."""
        return (*(declared(name, mapping) for name, mapping in account.settings.streams.items()),
                quarantine_stream(POSITION))

    def source(self, account: Account[SpreadsheetSettings]) -> DltSource:
        settings = account.settings
        zone = ZoneInfo(settings.timezone)
        streams = [FileStream(stream, settings.streams[stream.name].pattern,
                              partial(parse_file, mapping=settings.streams[stream.name], zone=zone))
                   for stream in self.streams_for(account) if stream.name != QUARANTINE]
        return file_source("spreadsheet", account.name, settings.folder, streams, quarantine_stream(POSITION), settings)

    def check(self, account: Account[SpreadsheetSettings]) -> CheckResult:
        """The folder is readable and every matching file opens and has the header: the run loads each
        file on its own, so the check names each one that would be quarantined."""
        settings = account.settings
        folder = Path(settings.folder)
        if not folder.is_dir():
            return CheckResult(False, f"drop folder {folder} does not exist or is not a directory")
        if not os.access(folder, os.R_OK | os.X_OK):
            return CheckResult(False, f"drop folder {folder} is not readable")
        facts: dict[str, Any] = {}
        problems: list[str] = []
        for stream, mapping in settings.streams.items():
            files = list_files(settings.folder, mapping.pattern)
            facts[stream] = [file["relative_path"] for file in files]
            problems += [problem for file in files if (problem := _check_file(file, stream, mapping))]
        listing = ", ".join(f"{stream}: {len(names)} file(s)" for stream, names in facts.items())
        if problems:
            return CheckResult(False, "; ".join(problems), facts)
        return CheckResult(True, f"drop folder {folder} readable; {listing}", facts)


def _check_file(file: Any, stream: str, mapping: StreamMapping) -> str | None:
    """Why a file of ``stream`` would not load, or None when one of its sheets has the header."""
    try:
        sheets = open_sheets(snapshot(file))
    except (OSError, UnreadableFile) as exc:
        return f"{stream}: {file['relative_path']}: {exc}"
    reasons = []
    for sheet in (s for s in sheets if mapping.sheet is None or s.name == mapping.sheet):
        try:
            find_header(sheet, mapping)
            return None
        except HeaderNotFound as exc:
            reasons.append(str(exc))
    return f"{stream}: {file['relative_path']}: {'; '.join(reasons) or f'no sheet {mapping.sheet!r}'}"
