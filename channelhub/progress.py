"""Live progress for long runs in a terminal: dlt reports counters per step, rich draws them. Off when
the output is not a terminal (CI, a log file, a pipe)."""

from __future__ import annotations

from dlt.common.runtime.collector_base import Collector
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class RichCollector(Collector):
    """One line per counter (resources, items, files, jobs) for the current step."""

    def __init__(self, console: Console, account: str) -> None:
        self.console, self.account = console, account
        self.step = ""
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def update(self, name: str, inc: int = 1, total: int | None = None, inc_total: int | None = None,
               message: str | None = None, label: str | None = None) -> None:
        if self._progress is None:
            return
        key = f"{name} {label}" if label else name
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(f"{self.account} · {self.step} · {key}", total=total)
        task = self._tasks[key]
        if inc_total:
            self._progress.update(task, total=(self._progress.tasks[task].total or 0) + inc_total)
        self._progress.update(task, advance=inc, total=total if total is not None else None)

    def _start(self, step: str) -> None:
        self.step = step.split(" ")[0]
        self._tasks = {}
        if not self.console.is_terminal:  # a log or a pipe: a live display would leave only blank lines
            return
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  TextColumn("{task.completed:>10,.0f}"), TimeElapsedColumn(),
                                  console=self.console, transient=True)
        self._progress.start()

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
