"""``make bench``: scripts that print figures (nothing in the test suite is timed)."""

import multiprocessing
import queue as queues
from collections.abc import Callable
from pathlib import Path
from typing import Any


def line(label: str, value: str) -> None:
    """One aligned figure of a benchmark's report."""
    print(f"  {label:<58} {value}", flush=True)


def peak_mb() -> float:
    """This process's peak resident memory since start or :func:`reset_peak` (VmHWM: unlike ru_maxrss,
    not inherited from the parent a child was forked from, which at a million orders is the sandbox's
    1.6 GB)."""
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    return int(next(row for row in status.splitlines() if row.startswith("VmHWM:")).split()[1]) / 1024


def reset_peak() -> None:
    """Start a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5", encoding="utf-8")


def in_child(target: Callable[..., None], *args: Any) -> Any:
    """Run ``target(*args, queue)`` in a spawned process (sharing nothing with a sandbox served here)
    and return what it put on the queue; a child that dies first fails the benchmark instead of
    leaving it waiting."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    while True:
        try:
            figures = queue.get(timeout=1)
            break
        except queues.Empty:
            if not child.is_alive():
                raise SystemExit(f"{target.__name__} died (exit {child.exitcode})") from None
    child.join()
    return figures
