"""Tabular queries as ERP web APIs answer them: Kingdee's ``ExecuteBillQuery`` (``FieldKeys``,
``FilterString``, ``OrderString``) now; SAP Business One's ``$select``/``$filter``/``$orderby`` and
the other ERPs' query services are the same engine with other parameter names.

A :class:`Table` is a form of the ERP over the World: its rows (per document, or per document line when
a query names a line field) and its fields as getters. :meth:`Table.select` filters with a SQL WHERE
subset and orders; the platform's sandbox reads its own parameters, slices the page and renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

Row = tuple[Any, Any]  # (document or master-data object, its line or None)
Getter = Callable[[Any, Any], Any]

CONDITION = re.compile(r"\s*(?:([A-Za-z_][\w.]*)\s*(>=|<=|<>|!=|=|>|<)\s*('(?:[^']|'')*'|-?\d+(?:\.\d+)?)"
                       r"|([()])|(and|or)\b)", re.IGNORECASE)
COMPARE = {"=": lambda a, b: a == b, "<>": lambda a, b: a != b, "!=": lambda a, b: a != b,
           ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


class QueryError(ValueError):
    """A query the server refuses; ``field`` when an unknown field is the reason."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def fields(**getters: Getter) -> dict[str, Getter]:
    """Field getters keyed case-insensitively (lower case), as the ERPs match field names."""
    return {key.lower(): get for key, get in getters.items()}


@dataclass(frozen=True)
class Table:
    """A form's rows, per line (``rows(True)``: pairs of document and line) or per document (line None),
    and its fields: lower-case key -> value of a row. A query naming a ``line_fields`` key is answered
    per line."""

    rows: Callable[[bool], list[Row]]
    fields: dict[str, Getter]
    line_fields: frozenset[str] = frozenset()

    def unknown(self, keys: Sequence[str]) -> str | None:
        return next((key for key in keys if key.lower() not in self.fields), None)

    def value(self, field: str, row: Row, zone: ZoneInfo) -> Any:
        """A field of a row; times as the server's wall clock (no offset), as these servers compare them."""
        if field.lower() not in self.fields:
            raise QueryError(f"元数据中标识为{field}的字段不存在", field)
        got = self.fields[field.lower()](*row)
        return got.astimezone(zone).replace(tzinfo=None) if isinstance(got, datetime) and got.tzinfo else got

    def per_line(self, keys: Sequence[str]) -> bool:
        return any(key.lower() in self.line_fields for key in keys)

    def select(self, keys: Sequence[str], where: str, order: str, zone: ZoneInfo) -> list[Row]:
        """The rows matching ``where`` (see :func:`parse_filter`), sorted by ``order`` ("F1 ASC, F2 DESC")."""
        predicate = parse_filter(where, lambda field, row: self.value(field, row, zone))
        rows = [row for row in self.rows(self.per_line(keys)) if predicate(row)]
        for part in reversed([p.split() for p in order.split(",") if p.strip()]):
            rows.sort(key=lambda row, f=part[0]: self.value(f, row, zone), reverse=part[-1].lower() == "desc")
        return rows


def parse_filter(text: str, value: Callable[[str, Row], Any]) -> Callable[[Row], bool]:
    """A predicate for a SQL WHERE subset (comparisons joined by and/or, parentheses); ``value(field,
    row)`` reads a field. Each comparison becomes ``c(i)`` and Python's own grammar checks and joins
    them: nothing of the text itself is evaluated."""
    parts, conditions, pos = [], [], 0
    while text[pos:].strip():
        match = CONDITION.match(text, pos)
        if match is None:
            raise QueryError(f"FilterString 语法错误 near {text[pos:pos + 20].strip()!r}")
        field, op, literal, paren, join = match.groups()
        if field:
            conditions.append((field, op, literal[1:-1].replace("''", "'") if literal[0] == "'" else literal))
        parts.append(f"c({len(conditions) - 1})" if field else paren or join.lower())
        pos = match.end()
    try:
        code = compile(" ".join(parts) or "True", "<FilterString>", "eval")
    except SyntaxError as exc:
        raise QueryError(f"FilterString 语法错误: {text!r}") from exc
    return lambda row: bool(eval(code, {"__builtins__": {}}, {  # only c(i), and, or, parentheses
        "c": lambda i: _compare(value(conditions[i][0], row), *conditions[i][1:])}))


def _compare(actual: Any, op: str, literal: str) -> bool:
    if actual is None:
        return False
    if isinstance(actual, datetime):
        other: Any = datetime.fromisoformat(literal.strip())
    elif isinstance(actual, int | Decimal):
        other = Decimal(literal)
    else:
        actual, other = str(actual), literal
    return COMPARE[op](actual, other)
