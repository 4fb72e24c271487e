"""A drop folder: the file-system counterpart of the HTTP sandboxes.

It writes the files a sandbox renders from the World, remembers how many good rows each holds, counts
the rows each read hands out, and arms faults for the next N reads (a file locked by another process,
an I/O error of a network share, the bytes of a damaged file) by standing in for the connector's
single read function (``connectors.sdk.files.read_bytes``, swapped in by the test, never imported here).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FileFaults:
    """Faults for the next N reads: ``locked`` (PermissionError, another process holds the file),
    ``io_error`` (EIO from a network share), ``malformed`` (the bytes of a damaged file)."""

    locked: int = 0
    io_error: int = 0
    malformed: int = 0

    def take(self, kind: str) -> bool:
        if getattr(self, kind) > 0:
            setattr(self, kind, getattr(self, kind) - 1)
            return True
        return False


@dataclass
class DropFolder:
    """The folder, what each file holds, and the reads a connector made of it."""

    folder: Path
    rows_in: dict[str, int] = field(default_factory=dict)   # file name -> good rows it holds
    faults: FileFaults = field(default_factory=FileFaults)
    reads: int = 0
    rows_served: int = 0

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, data: bytes, rows: int, *, mtime: float | None = None) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.rows_in[name] = rows
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def corrupt(self, name: str) -> Path:
        """Overwrite a file with junk of the same size: the connector must refuse it, not guess."""
        path = self.folder / name
        path.write_bytes(damage(path.read_bytes()))
        return path

    def set_mtime(self, names: list[str], when: float) -> None:
        for name in names:
            os.utime(self.folder / name, (when, when))

    def source_count(self) -> int:
        return sum(self.rows_in.values())

    def read_bytes(self, file: Mapping[str, Any]) -> bytes:
        """A connector's read of ``file`` (a listed file: ``relative_path`` under the folder), through
        the fault switches."""
        path = self.folder / file["relative_path"]
        if self.faults.take("locked"):
            raise PermissionError(errno.EACCES, "file is locked by another process", str(path))
        if self.faults.take("io_error"):
            raise OSError(errno.EIO, "input/output error on network share", str(path))
        data = path.read_bytes()
        self.reads += 1
        if self.faults.take("malformed"):
            return damage(data)
        self.rows_served += self.rows_in.get(file["relative_path"], 0)
        return data


def damage(data: bytes) -> bytes:
    """Keep the first half, zero the rest: same size (so not mistaken for a file still being written),
    but no longer valid."""
    half = len(data) // 2
    return data[:half] + b"\x00" * (len(data) - half)
