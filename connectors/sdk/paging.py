"""Paginators dlt lacks, for the paging styles of the platforms still to come."""

from __future__ import annotations

from typing import Any

import requests
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator, OffsetPaginator


class ShortPageOffsetPaginator(OffsetPaginator):
    """Offset/limit paging whose answers give no total (Kingdee's ``StartRow``/``Limit`` in the query
    body, SAP Business One's ``$skip``/``$top``): a page shorter than the limit is the last, so no empty
    page is asked for after it. ``paths`` are dlt's ``OffsetPaginator`` parameter and body paths."""

    def __init__(self, limit: int, **paths: Any) -> None:
        super().__init__(limit=limit, total_path=None, stop_after_empty_page=True, **paths)

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if data is not None and len(data) < self.limit:
            self._has_next_page = False


class LastRecordCursorPaginator(JSONResponseCursorPaginator):
    """Keyset paging whose cursor is the last record of a page (Jiandaoyun's ``data/list``: records sorted
    by ``_id``, the next request's ``data_id`` is the last ``_id`` seen). dlt's cursor paginator reads the
    cursor from a fixed path of the answer; here it is the key of the page's last record, after the
    data selector. A page shorter than ``limit`` is the last, so no empty page is asked for after it."""

    def __init__(self, limit: int, key: str, cursor_body_path: str) -> None:
        super().__init__(cursor_path=key, cursor_body_path=cursor_body_path)
        self.limit, self.key = limit, key

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        last = data[-1] if data else None
        self._next_reference = last.get(self.key) if isinstance(last, dict) else None
        if not data or len(data) < self.limit or self._next_reference is None:
            self._has_next_page = False
