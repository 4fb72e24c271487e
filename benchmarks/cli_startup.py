"""``make bench``: how long ``channelhub --help`` takes, next to a bare interpreter start (target < 1.5 s).

Each run is a fresh process, as a user's shell starts it; the median of five is printed.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import line

RUNS = 5
CLI = Path(sys.executable).with_name("channelhub")


def _median_seconds(command: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    print(f"CLI start-up: median of {RUNS} fresh processes", flush=True)
    bare = _median_seconds([sys.executable, "-c", "pass"])
    cli = _median_seconds([str(CLI), "--help"])
    line("python -c pass (the interpreter alone)", f"{bare:.2f} s")
    line("channelhub --help (target < 1.5 s)", f"{cli:.2f} s ({cli / bare:.1f}x the interpreter)")


if __name__ == "__main__":
    sys.exit(main())
