"""File streams: files matching a pattern under an account's folder, listed by dlt's filesystem
helpers and turned into rows by the connector's ``parse``. The one way a file connector lists, reads
(consistently, retried) and replaces what a file loaded.

Replace semantics. A file is the unit of truth: when it is read again, everything it loaded before is
replaced. Every stream table is merged with dlt's ``delete-insert`` strategy and ``merge_key`` =
``source_file``, so a corrected file with fewer rows leaves nothing stale and a file read twice never
duplicates. Quarantine rows (what ``parse`` could not trust) are replaced the same way, keyed on
(stream, source_file). When a re-read file has no rows left for a table that held some, a tombstone
flagged ``_file_replaced`` (dlt ``hard_delete``) deletes them and is not inserted.

Incremental. The cursor (:data:`FILE_CURSOR`) is the file's mtime, carried by every row as
``file_modified_at``: files modified before the last run's newest file are not opened at all. The range
is closed and boundary rows are *not* deduplicated, so the newest file(s) of the last run are read again
and replaced with identical rows: a file written in the same mtime tick (1-2 s on SMB/FAT shares) after
the last run is never skipped. A file copied in with an old mtime preserved (``cp -p``, unzip) is not
seen: ``touch`` it or run a full refresh.

Reading. :func:`read_bytes` is the one file read; a file whose size or mtime moves while it is read
(still being copied) and transient OS errors (a lock held by another process, a network share's I/O
error) are retried with the account's tenacity policy. Tests route :func:`read_bytes` through a
sandbox drop folder's fault switches.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import dlt
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import MTIME_DISPATCH, FileItemDict, fsspec_filesystem, glob_files
from dlt.extract.source import DltSource
from tenacity import Retrying, before_sleep_log, retry_if_exception

from .errors import SourceDataError
from .quarantine import Rejected, notice, reject
from .settings import RetrySettings
from .spec import Cursor, Stream

log = logging.getLogger(__name__)

FILE_CURSOR = Cursor(field="file_modified_at", source_timezone="UTC", dedup_on_boundary=False)
QUARANTINE = "quarantine"
REPLACED = "_file_replaced"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Excel writes "~$name.xlsx" owner files next to an open workbook; editors and OSes drop dot files.
IGNORED_PREFIXES = ("~$", ".")
DELETE_INSERT = {"disposition": "merge", "strategy": "delete-insert"}
LINEAGE_HINTS: dict[str, dict[str, Any]] = {
    "source_file": {"data_type": "text", "nullable": False},
    "file_hash": {"data_type": "text"},
    "file_modified_at": {"data_type": "timestamp"},
    REPLACED: {"data_type": "bool", "hard_delete": True},
}

Position = tuple[tuple[str, str], ...]
"""Where a row sits in its file, as (column, dlt type) pairs: ``(("source_row", "bigint"),)`` for a CSV;
with ``source_file`` it is the primary key of every stream and of the quarantine."""


class UnreadableFile(Exception):
    """The file's bytes are not what the parser reads (empty, encrypted, truncated, binary junk): the file
    is quarantined whole with this reason, its earlier rows stay, and the other files load."""


class FileChangedWhileReading(OSError):
    """Size or mtime moved while we read: someone is still writing it. Transient, so retried."""


@dataclass(frozen=True)
class FileSnapshot:
    """One consistent read of a file: the bytes and the stat they belong to."""

    name: str                # relative to the folder, with forward slashes
    data: bytes
    modified_at: datetime    # UTC
    sha256: str


@dataclass(frozen=True)
class FileRows:
    """What ``parse`` made of one file. Rows and rejects carry the stream's position columns; a reject
    also has ``reason`` (naming the field) and ``raw_values`` (the cells as text)."""

    rows: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)  # reported once in the run log (columns left unmapped)
    unreadable: bool = False  # nothing could be read: what the file loaded before stays


Parse = Callable[[FileSnapshot], FileRows]


@dataclass(frozen=True)
class FileStream:
    """A declared stream, the glob (relative to the folder; ``**/`` descends) and how a file parses."""

    stream: Stream
    pattern: str
    parse: Parse


def file_stream(name: str, position: Position, description: str = "",
                column_types: tuple[tuple[str, str], ...] = ()) -> Stream:
    """The declaration of a file stream: keyed on its position in a file, cursor on the file's mtime."""
    return Stream(name, ("source_file", *(column for column, _ in position)), "merge", FILE_CURSOR, description,
                  (*column_types, *position, *((c, h["data_type"]) for c, h in LINEAGE_HINTS.items() if c != REPLACED)))


def quarantine_stream(position: Position) -> Stream:
    """What every file stream of a connector sets apart, one row per rejected row (or whole file)."""
    keyed = file_stream(QUARANTINE, position, "Rows (or whole files) that could not be parsed, with the reason "
                        "naming the field", (("stream", "text"), ("reason", "text"), ("raw_values", "json"),
                                             ("loaded_at", "timestamp")))
    return replace(keyed, primary_key=("stream", *keyed.primary_key))


def list_files(folder: str, pattern: str) -> list[FileItemDict]:
    """Files matching ``pattern`` (dlt's glob: a local path or an fsspec URL), sorted by name for
    stable runs; Excel owner files and dot files are not exports."""
    fs = fsspec_filesystem("file" if FilesystemConfiguration.is_local_path(folder) else urlparse(folder).scheme)[0]
    return sorted((FileItemDict(item, fs) for item in glob_files(fs, folder, pattern)
                   if not item["file_name"].startswith(IGNORED_PREFIXES)), key=lambda item: item["relative_path"])


def read_bytes(file: FileItemDict) -> bytes:
    """The only file read of a file connector (see module docstring)."""
    return file.read_bytes()


def _stat(file: FileItemDict) -> tuple[int, datetime]:
    local = "file" in file.fsspec.protocol  # as FileItemDict.open: local files by path, not percent-encoded URL
    info = file.fsspec.info(file.local_file_path if local else file["file_url"])
    return info["size"], MTIME_DISPATCH[urlparse(file["file_url"]).scheme](info)


def _read_once(file: FileItemDict) -> FileSnapshot:
    before = _stat(file)
    data = read_bytes(file)
    after = _stat(file)
    if before != after or len(data) != after[0]:
        raise FileChangedWhileReading(f"{file['file_name']} changed while it was read (still being written?)")
    return FileSnapshot(name=file["relative_path"], data=data, modified_at=after[1].astimezone(UTC),
                        sha256=hashlib.sha256(data).hexdigest())


def _transient(exc: BaseException) -> bool:
    """Locks, sharing violations and network-share hiccups pass; a vanished file or a directory do not."""
    return isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError)


def snapshot(file: FileItemDict, retrying: Retrying | None = None) -> FileSnapshot:
    """Read ``file`` consistently; with ``retrying``, transient OS errors and files still being written
    are retried (see :func:`retry_transient`)."""
    return retrying(_read_once, file) if retrying else _read_once(file)


def retry_transient(settings: RetrySettings) -> Retrying:
    return settings.retrying(retry_if_exception(_transient), before_sleep=before_sleep_log(log, logging.WARNING))


def _hints(stream: Stream) -> dict[str, Any]:
    """The declaration's hints, merged per file (delete-insert on source_file); keys never null."""
    hints = stream.resource_hints()
    keys = set(stream.primary_key)
    hints["columns"] = {**{c: {**h, "nullable": c not in keys} for c, h in hints["columns"].items()}, **LINEAGE_HINTS}
    merge_key = ["stream", "source_file"] if stream.name == QUARANTINE else ["source_file"]
    return {**hints, "write_disposition": DELETE_INSERT, "merge_key": merge_key}


@dataclass(frozen=True)
class _Reader:
    account: str
    folder: str
    declared: FileStream
    quarantine: Stream
    retry: RetrySettings

    def error(self, name: str, reason: str) -> SourceDataError:
        return SourceDataError(self.account, self.declared.stream.name, reason, record=f"file {name!r}")

    def changed(self, start: datetime, end: datetime | None) -> Iterator[FileSnapshot]:
        for file in list_files(self.folder, self.declared.pattern):
            if file["modification_date"] < start or (end is not None and file["modification_date"] >= end):
                continue
            try:
                read = snapshot(file, retry_transient(self.retry))
            except FileNotFoundError:
                continue  # moved out of the folder since it was listed
            except OSError as exc:
                raise self.error(file["relative_path"], f"cannot read after {self.retry.max_attempts} attempts: "
                                                        f"{exc}") from exc
            yield read

    def parse(self, file: FileSnapshot) -> FileRows:
        """The file's rows and rejects; a file that cannot be read at all becomes one reject of its own
        (position zero, and a row in ``ops.quarantine``) and takes no other file down with it."""
        stream = self.declared.stream.name
        try:
            parsed = self.declared.parse(file)
        except UnreadableFile as exc:
            reject(Rejected(self.account, stream, f"file {file.name}", None, None, f"file not loaded: {exc}", ""))
            types = dict(self.quarantine.column_types)
            position = {column: "" if types[column] == "text" else 0 for column in self.quarantine.primary_key}
            parsed = FileRows([], [{**position, "reason": f"file not loaded: {exc}", "raw_values": None}],
                              unreadable=True)
        for text in parsed.notes:
            notice(self.account, stream, f"{file.name}: {text}")
        lineage = {"source_file": file.name, "file_hash": file.sha256, "file_modified_at": file.modified_at}
        loaded_at = datetime.now(UTC)
        return FileRows([{**row, **lineage} for row in parsed.rows],
                        [{**row, "stream": stream, **lineage, "loaded_at": loaded_at} for row in parsed.rejected],
                        unreadable=parsed.unreadable)

    def tombstone(self, file: FileSnapshot, stream: Stream) -> dict[str, Any]:
        """The row deleting what ``file`` loaded into ``stream`` before (key columns need a value)."""
        types = dict(stream.column_types)
        stone = {column: "" if types[column] == "text" else 0 for column in stream.primary_key}
        stone.update(source_file=file.name, file_hash=file.sha256, file_modified_at=file.modified_at)
        if stream.name == QUARANTINE:
            stone["stream"] = self.declared.stream.name
        return {**stone, REPLACED: True}


# Only there so dlt recognises ``modified`` as the incremental argument.
INCREMENTAL_ARGUMENT = FILE_CURSOR.incremental(EPOCH)


def _read_stream(reader: _Reader, modified: dlt.sources.incremental[datetime] = INCREMENTAL_ARGUMENT) -> Iterator[Any]:
    """Rows of every file changed since the last run; quarantine rows go to their own table. Resource
    state remembers per file how many rows and rejects it loaded, to know when a re-read file needs a
    tombstone."""
    loaded: dict[str, list[int]] = dlt.current.resource_state().setdefault("files", {})
    quarantine = dlt.mark.make_hints(table_name=QUARANTINE, **{k: v for k, v in _hints(reader.quarantine).items()
                                                               if k != "name"})
    # Both tables exist from the first run on, before any file or bad row arrives, so queries and
    # models over them never meet a missing table.
    yield dlt.mark.materialize_table_schema()
    yield dlt.mark.with_hints(dlt.mark.materialize_table_schema(), quarantine, create_table_variant=True)
    for file in reader.changed(modified.start_value, modified.end_value):
        parsed = reader.parse(file)
        rows, rejected = parsed.rows, parsed.rejected
        before_rows, before_rejected = loaded.get(file.name, (0, 0))
        if not rows and before_rows and not parsed.unreadable:  # an unreadable version keeps what loaded
            rows = [reader.tombstone(file, reader.declared.stream)]
        if not rejected and before_rejected:
            rejected = [reader.tombstone(file, reader.quarantine)]
        loaded[file.name] = [before_rows if parsed.unreadable else len(parsed.rows), len(parsed.rejected)]
        if rows:
            yield rows
        if rejected:
            yield dlt.mark.with_hints(rejected, quarantine, create_table_variant=True)


def file_source(name: str, account: str, folder: str, streams: Sequence[FileStream], quarantine: Stream,
                retry: RetrySettings) -> DltSource:
    """A dlt source with one resource per file stream; every one of them feeds ``quarantine``."""

    @dlt.source(name=name, max_table_nesting=0)
    def source() -> Iterator[Any]:
        for declared in streams:
            resource = dlt.resource(_read_stream, **_hints(declared.stream))
            yield resource(_Reader(account, folder, declared, quarantine, retry), FILE_CURSOR.incremental(EPOCH))

    return source()
