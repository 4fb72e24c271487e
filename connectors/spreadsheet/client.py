"""A file's sheets as grids of cell values: the sheets of a workbook, or the one sheet of a CSV.

Everything downstream works on plain grids, so .xlsx, legacy .xls and .csv exports go through one parser. Listing
and reading the files (retried while they are being written or locked) is the SDK's
(:mod:`connectors.sdk.files`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import xlrd
from openpyxl.utils.datetime import WINDOWS_EPOCH

from connectors.sdk.files import FileSnapshot, UnreadableFile

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
LEGACY_EXCEL_SUFFIXES = {".xls"}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file an .xls (or encrypted .xlsx) is
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
    """The sheets of a workbook, or the one sheet of a CSV. Raises :class:`UnreadableFile` saying what is
    wrong in words the person who exported it understands: empty, encrypted, truncated."""
    suffix = Path(file.name).suffix.lower()
    if not file.data.strip():
        raise UnreadableFile(f"the file is empty ({len(file.data)} bytes): export it again")
    if suffix in EXCEL_SUFFIXES:
        return _excel_sheets(file.data)
    if suffix in LEGACY_EXCEL_SUFFIXES:
        return _legacy_excel_sheets(file.data)
    if suffix in CSV_SUFFIXES:
        return [Sheet(name="", rows=_csv_rows(decode_text(file.data)))]
    raise UnreadableFile(f"unsupported file type {suffix or '(none)'!r}: save it as .xlsx, .xls or .csv")


def _excel_sheets(data: bytes) -> list[Sheet]:
    if data.startswith(OLE_SIGNATURE):  # Office wraps an .xlsx saved with a password in an OLE container
        raise UnreadableFile("the workbook is encrypted (saved with a password): save it without one")
    try:
        # Not read_only: merged ranges are only available on fully loaded worksheets.
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except zipfile.BadZipFile as exc:
        what = "truncated or damaged (an incomplete copy?)" if data.startswith(b"PK") else "not an Excel workbook"
        raise UnreadableFile(f"the workbook is {what}: {exc}") from exc
    except Exception as exc:  # openpyxl and XML parsers each raise their own on damaged files
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


def _legacy_excel_sheets(data: bytes) -> list[Sheet]:
    """An Excel 97-2003 workbook (.xls) through xlrd: dates as datetimes (the workbook's own date
    system), merged ranges filled in as for .xlsx."""
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise UnreadableFile("the workbook is encrypted (saved with a password): save it without one") from exc
        raise UnreadableFile(f"not a readable .xls workbook ({exc})") from exc
    except Exception as exc:  # a truncated compound file fails inside xlrd's OLE reader
        raise UnreadableFile(f"the .xls workbook is truncated or damaged ({type(exc).__name__}: {exc})") from exc
    sheets = []
    for sheet in book.sheets():
        rows = [[_xls_value(sheet.cell(r, c), book.datemode) for c in range(sheet.ncols)] for r in range(sheet.nrows)]
        for top, bottom, left, right in sheet.merged_cells:
            for r in range(top, bottom):
                for c in range(left, right):
                    rows[r][c] = rows[top][left]
        sheets.append(Sheet(name=sheet.name, rows=rows))
    return sheets


def _xls_value(cell: xlrd.sheet.Cell, datemode: int) -> Any:
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, datemode)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
        return int(cell.value)  # .xls stores every number as a double; a quantity of 3 is 3, not 3.0
    return cell.value


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
