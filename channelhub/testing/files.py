"""The contract env of a file connector: pages are files in a sandbox drop folder."""

from __future__ import annotations

import math
import random
from abc import abstractmethod
from datetime import UTC, datetime

import pytest

from connectors.sdk import files
from sandbox.kit.files import DropFolder

from .contract import ContractEnv

FAULTS = {"rate_limit": "locked", "server_error": "io_error", "malformed": "malformed"}


class DropFolderEnv(ContractEnv):
    """A ContractEnv over a :class:`~sandbox.kit.files.DropFolder`. The primary stream's records sit in
    ``files`` of ``page_size`` records, each with its own mtime (the cursor, from :meth:`tick`);
    ``fetched`` counts the records in the files the connector read; a change rewrites whole files (a file
    is the unit of truth); faults are the file system's: ``rate_limit`` = a file locked by another
    process, ``server_error`` = an I/O error of a network share, ``malformed`` = a damaged file.

    A subclass's ``__init__`` writes the files, sets ``config``, ``files`` and ``page_size``, and ends
    with :meth:`serve`; :meth:`rewrite` writes one file again with its records changed."""

    drop: DropFolder
    files: list[str]
    page_size: int
    clock: float = datetime(2026, 4, 1, tzinfo=UTC).timestamp()

    def tick(self) -> float:
        """A new mtime, a minute after the last one."""
        self.clock += 60
        return self.clock

    def serve(self, drop: DropFolder) -> None:
        """Route the connector's file reads (the SDK's one I/O seam) through ``drop``'s fault switches
        and counters. Wired here: the sandbox never imports the SDK."""
        self.drop, self.rng, self._patch = drop, random.Random(7), pytest.MonkeyPatch()
        self._patch.setattr(files, "read_bytes", drop.read_bytes)

    @abstractmethod
    def rewrite(self, name: str, mtime: float) -> None:
        """Write file ``name`` again, its records changed, with ``mtime``."""

    def source_count(self) -> int:
        return self.drop.source_count()

    def fetched(self) -> int:
        return self.drop.rows_served

    def change(self, fraction: float) -> int:
        wanted = max(1, round(self.source_count() * fraction))
        names = self.rng.sample(self.files, k=math.ceil(wanted / self.page_size))
        when = self.tick()
        for name in names:
            self.rewrite(name, when)
        return sum(self.drop.rows_in[name] for name in names)

    def share_cursor_value(self, n: int) -> None:
        self.drop.set_mtime(self.files[:math.ceil(n / self.page_size)], self.tick())

    def inject(self, kind: str, times: int) -> None:
        setattr(self.drop.faults, FAULTS[kind], times)

    def close(self) -> None:
        self._patch.undo()
