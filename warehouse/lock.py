"""One channelhub command at a time on a DuckDB warehouse file, the others waiting politely.

DuckDB lets one process open a file for writing and refuses every other process outright, readers too
("Could not set lock on file"). Each command that opens the file (run, build, validate, sync-stock,
status) therefore holds a lock on ``<file>.lock`` for its duration (``filelock``: an OS lock the kernel
releases when a process dies, so a crash never leaves it held). Another command waits for it, saying
what it waits for, up to ``CHANNELHUB_WAREHOUSE_LOCK_WAIT`` seconds (default 900), then fails naming the
holder. Within one process the lock is re-entrant (the demo runs every command in one).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from connectors.sdk import ChannelhubError

WAIT_VARIABLE = "CHANNELHUB_WAREHOUSE_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 900.0
log = logging.getLogger(__name__)


class WarehouseBusy(ChannelhubError):
    """Another command held the warehouse file for longer than this one would wait."""


def wait_seconds() -> float:
    value = os.environ.get(WAIT_VARIABLE, "")
    try:
        return float(value) if value else DEFAULT_WAIT_SECONDS
    except ValueError:
        raise ChannelhubError(f"{WAIT_VARIABLE}={value!r}: give the seconds to wait for the warehouse") from None


@contextmanager
def exclusive(path: Path, command: str) -> Iterator[None]:
    """Hold ``path`` (the lock file beside the database) while the block runs, as ``command``. The holder
    is written beside it (``<lock>.holder``) so a command waiting can say whom it waits for."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock, holder = FileLock(path, is_singleton=True), path.with_name(path.name + ".holder")
    first = not lock.is_locked
    try:
        lock.acquire(timeout=0)
    except Timeout:
        limit, who = wait_seconds(), _read(holder)
        log.warning("waiting up to %.0fs for the warehouse: %s is using it", limit, who)
        try:
            lock.acquire(timeout=limit)
        except Timeout:
            raise WarehouseBusy(f"the warehouse ({path.with_suffix('')}) stayed busy for {limit:.0f}s: {who} "
                                f"is using it; retry later, or set {WAIT_VARIABLE} to wait longer") from None
    try:
        if first:
            holder.write_text(f"pid {os.getpid()} ({command})", encoding="utf-8")
        yield
    finally:
        lock.release()


def _read(holder: Path) -> str:
    try:
        return holder.read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"
