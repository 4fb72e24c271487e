"""The paging styles platforms use, for sandboxes to answer in: page numbers with a total (WordPress,
TOP, the scaffold), RFC 8288 ``Link`` headers (Shopify, WooCommerce, GitHub-style APIs), keyset cursors
on the last id (Stripe's ``starting_after``/``ending_before``) and opaque tokens (Shopify's
``page_info``, Amazon's ``NextToken``, OData's ``$skiptoken``). Offsets (``StartRow``/``Limit``) are a
slice and need nothing here.

Each takes the platform's already filtered and ordered items and says which are on the page and what
comes next; the platform's sandbox puts that into its own parameter names, headers and body.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


@dataclass(frozen=True)
class NumberedPage(Generic[T]):
    """Page ``number`` (from 1) of ``size`` items out of ``total``."""

    items: Sequence[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the listing has; an empty listing still has its one (empty) page."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def numbered_page(items: Sequence[T], number: int, size: int) -> NumberedPage[T]:
    if number < 1 or size < 1:
        raise ValueError("page numbers and sizes start at 1")
    return NumberedPage(items[(number - 1) * size: number * size], number, size, len(items))


def link_header(url: str, args: Mapping[str, Any], rels: Mapping[str, Mapping[str, Any]]) -> str | None:
    """An RFC 8288 ``Link`` value: for each relation (``next``, ``prev``…), ``url`` with ``args`` updated
    by that relation's parameters. None when there is no relation, as servers omit the header then."""
    links = [f'<{url}?{urlencode({**args, **params})}>; rel="{rel}"' for rel, params in rels.items()]
    return ", ".join(links) or None


def page_links(url: str, args: Mapping[str, Any], page: NumberedPage[Any], param: str = "page") -> str | None:
    """The ``Link`` header of a numbered page (WordPress, GitHub-style APIs): ``prev`` and ``next`` as far
    as those pages exist."""
    rels = {rel: {param: number} for rel, number in (("prev", page.number - 1), ("next", page.number + 1))
            if 1 <= number <= page.pages}
    return link_header(url, args, rels)


def keyset_page(items: Sequence[T], key: Callable[[T], str], limit: int, *, after: str | None = None,
                before: str | None = None) -> tuple[Sequence[T], bool]:
    """Stripe's cursors: the ``limit`` items right after the one whose key is ``after`` (or right before
    ``before``), and whether more lie that way. An unknown key is a ``KeyError``: the platform answers
    it with its own error."""
    if after is not None and before is not None:
        raise ValueError("after and before exclude each other")
    position = {key(item): n for n, item in enumerate(items)}
    if before is not None:
        end = position[before]
        return items[max(0, end - limit):end], end - limit > 0
    start = 0 if after is None else position[after] + 1
    return items[start:start + limit], start + limit < len(items)


class OpaqueCursor:
    """Tokens a client must hand back unread: url-safe base64 of JSON, so a sandbox keeps its paging
    state (position, filters) in the token as real servers do, and a token a client edits or invents
    is refused (``ValueError``) instead of silently read."""

    @staticmethod
    def encode(state: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def decode(token: str) -> dict[str, Any]:
        try:
            state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
            state = None
        if not isinstance(state, dict):
            raise ValueError(f"not a token this server issued: {token[:40]!r}")  # noqa: TRY004 (a bad value, not a type)
        return state
