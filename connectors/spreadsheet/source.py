"""The dlt source of a drop folder: one resource per configured stream, plus the ``quarantine`` table.

Replace semantics. A file is the unit of truth: when it is read again, everything it loaded before is
replaced. Each stream table is merged with dlt's ``delete-insert`` strategy and ``merge_key`` =
``source_file``, so loading a file's rows first deletes *all* earlier rows of that file, however many
there were (a corrected file with fewer rows leaves nothing stale). Quarantine rows are replaced the
same way, keyed on (stream, source_file). When a re-read file has no rows left for a table that held
some, a tombstone flagged ``_file_replaced`` (dlt ``hard_delete``) deletes them and is not inserted.

Incremental. The cursor is the file's mtime (``file_modified_at``, carried by every row): files
modified before the last run's newest file are not opened at all. The range is closed and boundary
rows are *not* deduplicated, so the newest file(s) of the last run are read again and replaced with
identical rows, which keeps a file written in the same mtime tick (1-2 s on SMB/FAT shares) after the
last run from being skipped. A file copied in with an old mtime preserved (``cp -p``, unzip) is not
seen: ``touch`` it or run a full refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dlt
from dlt.extract.source import DltSource
from tenacity import before_sleep_log

from connectors.sdk import Cursor, SourceDataError

from . import client
from .settings import SpreadsheetSettings, StreamMapping
from .table import HeaderNotFound, Parsed, Rejected, parse_sheet

log = logging.getLogger(__name__)

FILE_CURSOR = Cursor(field="file_modified_at", source_timezone="UTC", dedup_on_boundary=False)
ROW_PRIMARY_KEY = ("source_file", "source_sheet", "source_row")
QUARANTINE = "quarantine"
QUARANTINE_PRIMARY_KEY = ("stream", *ROW_PRIMARY_KEY)
REPLACED = "_file_replaced"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DELETE_INSERT = {"disposition": "merge", "strategy": "delete-insert"}
DLT_TYPES = {"text": "text", "decimal": "decimal", "integer": "bigint", "date": "date", "datetime": "timestamp"}
LINEAGE_HINTS: dict[str, dict[str, Any]] = {
    "source_file": {"data_type": "text", "nullable": False},
    "source_sheet": {"data_type": "text", "nullable": False},
    "source_row": {"data_type": "bigint", "nullable": False},
    "row_key": {"data_type": "text"},
    "file_hash": {"data_type": "text"},
    "file_modified_at": {"data_type": "timestamp"},
    REPLACED: {"data_type": "bool", "hard_delete": True},
}
QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE, write_disposition=DELETE_INSERT, primary_key=list(QUARANTINE_PRIMARY_KEY),
    merge_key=["stream", "source_file"],
    columns={"stream": {"data_type": "text", "nullable": False}, **LINEAGE_HINTS,
             "reason": {"data_type": "text"}, "raw_values": {"data_type": "json"},
             "loaded_at": {"data_type": "timestamp"}},
)


def column_hints(mapping: StreamMapping) -> dict[str, dict[str, Any]]:
    """Declared types, so a column that is empty in the first file still gets its type."""
    hints = {target: {"data_type": DLT_TYPES[mapping.type_of(target)]} for target in mapping.columns}
    if mapping.currency:
        hints["currency"] = {"data_type": "text"}
    return {**hints, **LINEAGE_HINTS}


class FileReader:
    """Reads one stream's files of one account into rows and quarantine rows."""

    def __init__(self, account: str, stream: str, settings: SpreadsheetSettings) -> None:
        self.account, self.stream, self.settings = account, stream, settings
        self.mapping = settings.streams[stream]
        self.folder = Path(settings.folder)
        self.zone = ZoneInfo(settings.timezone)

    def _error(self, name: str, reason: str) -> SourceDataError:
        return SourceDataError(self.account, self.stream, reason, record=f"file {name!r}")

    def changed_files(self, start: datetime, end: datetime | None) -> Iterator[Path]:
        for path in client.list_files(self.folder, self.mapping.pattern):
            try:
                modified = datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, UTC)
            except FileNotFoundError:
                continue  # moved out of the folder since it was listed
            if modified >= start and (end is None or modified < end):
                yield path

    def snapshot(self, path: Path) -> client.FileSnapshot | None:
        name = client.relative_name(self.folder, path)
        try:
            return client.snapshot(self.folder, path, self.settings.retrying(
                client.RETRY_TRANSIENT, before_sleep=before_sleep_log(log, logging.WARNING)))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error(name, f"cannot read after {self.settings.max_attempts} attempts: {exc}") from exc

    def parse(self, file: client.FileSnapshot) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Rows and quarantine rows of one file. An unreadable file raises :class:`SourceDataError`."""
        try:
            sheets = client.open_sheets(file)
        except client.UnreadableFile as exc:
            raise self._error(file.name, str(exc)) from exc
        if self.mapping.sheet is not None:
            wanted = [sheet for sheet in sheets if sheet.name == self.mapping.sheet]
            if not wanted:
                names = ", ".join(repr(s.name) for s in sheets)
                return [], [self._quarantine(file, "", Rejected(0, f"no sheet {self.mapping.sheet!r} (has {names})"))]
            sheets = wanted
        rows, rejected, unmatched = [], [], []
        for sheet in sheets:
            try:
                for item in parse_sheet(sheet, self.mapping, self.zone):
                    if isinstance(item, Parsed):
                        rows.append(self._row(file, sheet.name, item))
                    else:
                        rejected.append(self._quarantine(file, sheet.name, item))
            except HeaderNotFound as exc:
                unmatched.append((sheet.name, str(exc)))
        # Extra sheets (notes, pivots) without the header are fine as long as one sheet has it.
        if len(unmatched) == len(sheets):
            rejected.extend(self._quarantine(file, name, Rejected(0, reason)) for name, reason in unmatched)
        return rows, rejected

    def _row(self, file: client.FileSnapshot, sheet: str, item: Parsed) -> dict[str, Any]:
        row = dict(item.values)
        if self.mapping.currency and row.get("currency") is None:
            row["currency"] = self.mapping.currency
        row.update(source_file=file.name, source_sheet=sheet, source_row=item.row, row_key=item.row_key,
                   file_hash=file.sha256, file_modified_at=file.modified_at)
        return row

    def _quarantine(self, file: client.FileSnapshot, sheet: str, item: Rejected) -> dict[str, Any]:
        return {"stream": self.stream, "source_file": file.name, "source_sheet": sheet, "source_row": item.row,
                "reason": item.reason, "raw_values": item.raw, "file_hash": file.sha256,
                "file_modified_at": file.modified_at, "loaded_at": datetime.now(UTC)}

    def tombstone(self, file: client.FileSnapshot, quarantine: bool) -> dict[str, Any]:
        stone = {"source_file": file.name, "source_sheet": "", "source_row": 0, "file_hash": file.sha256,
                 "file_modified_at": file.modified_at, REPLACED: True}
        return {"stream": self.stream, **stone} if quarantine else stone


def file_incremental() -> dlt.sources.incremental[datetime]:
    return FILE_CURSOR.incremental(EPOCH)


# Only there so dlt recognises ``modified`` as the incremental argument (annotations are strings here).
INCREMENTAL_ARGUMENT = file_incremental()


def read_stream(reader: FileReader,
                modified: dlt.sources.incremental[datetime] = INCREMENTAL_ARGUMENT) -> Iterator[Any]:
    """Rows of every file changed since the last run; quarantine rows go to their own table.

    :func:`spreadsheet_source` passes a fresh ``modified`` per resource.
    Resource state remembers per file how many rows and quarantine rows it loaded, to know when a
    re-read file needs a tombstone."""
    loaded: dict[str, list[int]] = dlt.current.resource_state().setdefault("files", {})
    # Both tables exist from the first run on, even before any file or bad row arrives, so queries
    # and transforms over them never meet a missing table.
    yield dlt.mark.materialize_table_schema()
    yield dlt.mark.with_hints(dlt.mark.materialize_table_schema(), QUARANTINE_HINTS, create_table_variant=True)
    for path in reader.changed_files(modified.start_value, modified.end_value):
        file = reader.snapshot(path)
        if file is None:
            continue
        rows, rejected = reader.parse(file)
        before_rows, before_rejected = loaded.get(file.name, (0, 0))
        if not rows and before_rows:
            rows = [reader.tombstone(file, quarantine=False)]
        if not rejected and before_rejected:
            rejected = [reader.tombstone(file, quarantine=True)]
        loaded[file.name] = [sum(REPLACED not in r for r in rows), sum(REPLACED not in r for r in rejected)]
        if rows:
            yield rows
        if rejected:
            yield dlt.mark.with_hints(rejected, QUARANTINE_HINTS, create_table_variant=True)


def spreadsheet_source(account: str, settings: SpreadsheetSettings) -> DltSource:
    @dlt.source(name="spreadsheet", max_table_nesting=0)
    def source() -> Iterator[Any]:
        for stream, mapping in settings.streams.items():
            resource = dlt.resource(read_stream, name=stream, write_disposition=DELETE_INSERT,
                                    primary_key=list(ROW_PRIMARY_KEY), merge_key="source_file",
                                    columns=column_hints(mapping))
            yield resource(FileReader(account, stream, settings), file_incremental())

    return source()
