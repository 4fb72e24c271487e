"""One channelhub command at a time on a DuckDB warehouse file, the others waiting politely.

DuckDB lets one process open a file for writing and refuses every other process outright, readers too
("Could not set lock on file"). Each command that opens the file (run, build, validate, sync-stock,
status) therefore holds an advisory lock on ``<file>.lock`` for its duration; another command waits for
it, saying what it waits for, up to ``CHANNELHUB_WAREHOUSE_LOCK_WAIT`` seconds (default 900), then fails
naming the holder. The kernel releases the lock of a killed process, so a crash never leaves it held.
Within one process the lock is re-entrant (the demo runs every command in one).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from connectors.sdk import ChannelhubError

WAIT_VARIABLE = "CHANNELHUB_WAREHOUSE_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 900.0
log = logging.getLogger(__name__)


class WarehouseBusy(ChannelhubError):
    """Another command held the warehouse file for longer than this one would wait."""


class _Held:
    """This process's hold on one lock file: the open file and how many nested holds share it."""

    def __init__(self, file: IO[str]) -> None:
        self.file, self.depth = file, 0


_held: dict[Path, _Held] = {}
_guard = threading.RLock()


def wait_seconds() -> float:
    value = os.environ.get(WAIT_VARIABLE, "")
    try:
        return float(value) if value else DEFAULT_WAIT_SECONDS
    except ValueError:
        raise ChannelhubError(f"{WAIT_VARIABLE}={value!r}: give the seconds to wait for the warehouse") from None


def _try_lock(file: IO[str]) -> None:
    fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


@contextmanager
def exclusive(path: Path, command: str) -> Iterator[None]:
    """Hold ``path`` (the lock file beside the database) while the block runs, as ``command``."""
    with _guard:
        held = _held.get(path)
        if held is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            held = _Held(open(path, "a+", encoding="utf-8"))  # noqa: SIM115 - kept open while held
            try:
                _acquire(held.file, path, command)
            except BaseException:
                held.file.close()
                raise
            _held[path] = held
        held.depth += 1
    try:
        yield
    finally:
        with _guard:
            held.depth -= 1
            if held.depth == 0:
                del _held[path]
                held.file.close()  # closing releases the lock


def _acquire(file: IO[str], path: Path, command: str) -> None:
    try:
        _try_lock(file)
    except BlockingIOError:
        holder = _holder(path)
        limit = wait_seconds()
        message = f"waiting up to {limit:.0f}s for the warehouse: {holder} is using it"
        log.warning(message)
        try:
            for attempt in Retrying(stop=stop_after_delay(limit), wait=wait_exponential(0.05, max=2.0),
                                    retry=retry_if_exception_type(BlockingIOError)):
                with attempt:
                    _try_lock(file)
        except RetryError:
            raise WarehouseBusy(f"the warehouse ({path.with_suffix('')}) stayed busy for {limit:.0f}s: {holder} "
                                f"is using it; retry later, or set {WAIT_VARIABLE} to wait longer") from None
    file.seek(0)
    file.truncate()
    file.write(f"pid {os.getpid()} ({command})")
    file.flush()


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"
