"""A file's sheets as grids of cell values: the sheets of a workbook, or the one sheet of a CSV.

Everything downstream works on plain grids, so .xlsx and .csv exports go through one parser. Listing
and reading the files (retried while they are being written or locked) is the SDK's
(:mod:`connectors.sdk.files`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.datetime import WINDOWS_EPOCH

from connectors.sdk.files import FileSnapshot, UnreadableFile

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
CSV_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class Sheet:
    """A sheet as rows of cell values (merged ranges filled in). ``name`` is "" for CSV files.
    ``epoch`` is the workbook's date system, needed to turn serial numbers into dates."""

    name: str
    rows: list[list[Any]]
    epoch: datetime = WINDOWS_EPOCH


def open_sheets(file: FileSnapshot) -> list[Sheet]:
    """The sheets of a workbook, or the one sheet of a CSV. Raises :class:`UnreadableFile`."""
    suffix = Path(file.name).suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _excel_sheets(file.data)
    if suffix in CSV_SUFFIXES:
        return [Sheet(name="", rows=_csv_rows(decode_text(file.data)))]
    raise UnreadableFile(f"unsupported file type {suffix or '(none)'!r}: save it as .xlsx or .csv")


def _excel_sheets(data: bytes) -> list[Sheet]:
    try:
        # Not read_only: merged ranges are only available on fully loaded worksheets.
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # zipfile, openpyxl and XML parsers each raise their own on damaged files
        raise UnreadableFile(f"not a readable Excel workbook ({type(exc).__name__}: {exc})") from exc
    sheets = []
    for worksheet in workbook.worksheets:
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
        for merged in worksheet.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else None
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                row = rows[r]
                row.extend([None] * (merged.max_col - len(row)))
                for c in range(merged.min_col - 1, merged.max_col):
                    row[c] = value
        sheets.append(Sheet(name=worksheet.title, rows=rows, epoch=workbook.epoch))
    return sheets


def decode_text(data: bytes) -> str:
    """UTF-16 (Excel "Unicode text"), UTF-8 with or without BOM, else GB18030 (a superset of GBK and
    GB2312, what Chinese Windows Excel writes). UTF-8 is tried first: GBK bytes are almost never
    valid UTF-8, while UTF-8 bytes often decode as (wrong) GBK."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise UnreadableFile("binary data (NUL bytes), not a CSV text file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("text is neither UTF-8 nor GBK/GB18030")


def _csv_rows(text: str) -> list[list[Any]]:
    lines = text.splitlines()
    delimiter = _delimiter(lines[:50])
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _delimiter(lines: list[str]) -> str:
    """The delimiter splitting most lines into the same number of fields. ``csv.Sniffer`` is thrown
    off by the title lines exports put above the header."""
    def score(delimiter: str) -> tuple[int, int]:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter) if len(row) > 1]
        if not counts:
            return (0, 0)
        most = max(set(counts), key=counts.count)
        return (counts.count(most), most)
    return max(CSV_DELIMITERS, key=score)
