"""One file to rows of one stream: in each sheet, find the header below any title rows, skip blank,
subtotal and repeated header rows, convert every cell, and set apart the rows that cannot be trusted.

Row numbers are 1-based sheet rows (what Excel shows), so a quarantine entry points at the cell to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from connectors.sdk.files import FileRows, FileSnapshot

from .client import Sheet, open_sheets
from .settings import StreamMapping
from .values import CellError, convert, is_blank, normalize, to_text


@dataclass(frozen=True)
class Header:
    row: int                     # 0-based index of the header's last row; data starts below it
    columns: dict[str, int]      # target column -> 0-based sheet column
    labels: dict[str, set[str]]  # target column -> the header texts found for it (normalized)


@dataclass(frozen=True)
class Rejected:
    """A row (or, with ``row`` 0, a whole sheet) that goes to quarantine instead of the table."""

    row: int
    reason: str
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    row: int
    values: dict[str, Any]
    row_key: str | None


class HeaderNotFound(Exception):
    """No row in the first rows of the sheet carries the mapping's required headers."""


def _label(value: Any) -> str:
    return "".join(normalize(to_text(value)).lower().split()).lstrip("*") if not is_blank(value) else ""


def _labels_at(rows: list[list[Any]], r: int, c: int) -> set[str]:
    """The texts a header cell answers to: its own, and its parent's prefixed to it for two-level
    headers ("商品" over "编码" answers to "商品编码"). Vertical merges are already filled in."""
    own = _label(rows[r][c]) if c < len(rows[r]) else ""
    labels = {own} - {""}
    if r > 0 and own and c < len(rows[r - 1]):
        parent = _label(rows[r - 1][c])
        if parent and parent != own:
            labels.add(parent + own)
    return labels


def find_header(sheet: Sheet, mapping: StreamMapping) -> Header:
    """The row matching most target columns (the lowest one on ties, so the lower row of a two-level
    header wins over its merged top row); it must match every required column."""
    aliases = {target: {_label(alias) for alias in mapping.aliases(target)} for target in mapping.columns}
    best: Header | None = None
    for r in range(min(len(sheet.rows), mapping.header_search_rows)):
        columns: dict[str, int] = {}
        labels: dict[str, set[str]] = {}
        for target, wanted in aliases.items():
            for c in range(len(sheet.rows[r])):
                found = _labels_at(sheet.rows, r, c)
                if c not in columns.values() and found & wanted:
                    columns[target], labels[target] = c, found
                    break
        if columns and (best is None or len(columns) >= len(best.columns)):
            best = Header(row=r, columns=columns, labels=labels)
    missing = [t for t in mapping.required_columns if best is None or t not in best.columns]
    if best is None or missing:
        wanted_text = ", ".join(f"{t} ({' / '.join(mapping.aliases(t))})" for t in missing or mapping.columns)
        raise HeaderNotFound(f"no header row with {wanted_text} in the first {mapping.header_search_rows} rows")
    return best


def _is_subtotal(cells: dict[str, Any], row: list[Any], mapping: StreamMapping) -> bool:
    """Subtotal and total rows carry their marker in a key column or in the row's first filled cell."""
    first = next((value for value in row if not is_blank(value)), None)
    candidates = [cells[t] for t in mapping.required_columns if t in cells] + [first]
    markers = [_label(marker) for marker in mapping.subtotal_markers]
    return any(not is_blank(value) and _label(value).startswith(tuple(markers)) for value in candidates)


def _is_repeated_header(cells: dict[str, Any], header: Header) -> bool:
    """Printed reports repeat the header on every page."""
    filled = {t: v for t, v in cells.items() if not is_blank(v)}
    return bool(filled) and all(_label(v) in header.labels[t] for t, v in filled.items())


def unmapped_columns(sheet: Sheet, header: Header) -> list[str]:
    """The header texts of columns the mapping does not read: reported once per file, so a column an
    export gained (a new discount field) is seen rather than silently dropped."""
    mapped = set(header.columns.values())
    row = sheet.rows[header.row]
    return [to_text(row[c]).strip() for c in range(len(row)) if c not in mapped and not is_blank(row[c])]


def parse_sheet(sheet: Sheet, mapping: StreamMapping, zone: tzinfo, header: Header) -> Iterator[Parsed | Rejected]:
    """Rows of ``sheet`` below ``header`` as :class:`Parsed` or :class:`Rejected`."""
    seen: dict[str, int] = {}
    for r in range(header.row + 1, len(sheet.rows)):
        row = sheet.rows[r]
        cells = {t: row[c] if c < len(row) else None for t, c in header.columns.items()}
        if all(is_blank(v) for v in cells.values()) or _is_subtotal(cells, row, mapping) \
                or _is_repeated_header(cells, header):
            continue
        values, errors = {}, []
        for target, value in cells.items():
            try:
                values[target] = convert(value, mapping.type_of(target), sheet.epoch, zone)
            except CellError as exc:
                errors.append(f"field {target!r}: {exc}")
                continue
            if values[target] is None and target in mapping.required_columns:
                errors.append(f"field {target!r}: required value is missing")
        raw = {t: to_text(v) for t, v in cells.items() if not is_blank(v)}
        if errors:
            yield Rejected(r + 1, "; ".join(errors), raw)
            continue
        row_key = "|".join(to_text(values[t]) for t in mapping.key) if mapping.key else None
        if row_key is not None and row_key in seen:
            yield Rejected(r + 1, f"duplicate key {row_key!r} ({', '.join(mapping.key)}); first at row {seen[row_key]}",
                           raw)
            continue
        if row_key is not None:
            seen[row_key] = r + 1
        yield Parsed(r + 1, values, row_key)


def parse_file(file: FileSnapshot, mapping: StreamMapping, zone: tzinfo) -> FileRows:
    """Rows and rejects of every sheet (or of ``mapping.sheet``) with the header; extra sheets without
    it (notes, pivots) are fine as long as one sheet has it, else each is one reject at row 0."""
    sheets = open_sheets(file)
    if mapping.sheet is not None:
        wanted = [sheet for sheet in sheets if sheet.name == mapping.sheet]
        if not wanted:
            names = ", ".join(repr(s.name) for s in sheets)
            return FileRows([], [_rejected("", Rejected(0, f"no sheet {mapping.sheet!r} (has {names})"))])
        sheets = wanted
    rows, rejected, unmatched, notes = [], [], [], []
    for sheet in sheets:
        try:
            header = find_header(sheet, mapping)
        except HeaderNotFound as exc:
            unmatched.append(_rejected(sheet.name, Rejected(0, str(exc))))
            continue
        if extra := unmapped_columns(sheet, header):
            where = f"sheet {sheet.name!r}: " if sheet.name else ""
            notes.append(f"{where}columns not in the mapping, not loaded: {', '.join(extra)}")
        for item in parse_sheet(sheet, mapping, zone, header):
            if isinstance(item, Parsed):
                row = dict(item.values)
                if mapping.currency and row.get("currency") is None:
                    row["currency"] = mapping.currency
                rows.append({**row, "source_sheet": sheet.name, "source_row": item.row, "row_key": item.row_key})
            else:
                rejected.append(_rejected(sheet.name, item))
    return FileRows(rows, rejected + (unmatched if len(unmatched) == len(sheets) else []), notes)


def _rejected(sheet: str, item: Rejected) -> dict[str, Any]:
    return {"source_sheet": sheet, "source_row": item.row, "reason": item.reason, "raw_values": item.raw}
