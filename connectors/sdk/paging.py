"""Paginators dlt lacks, for the paging styles of the platforms still to come."""

from __future__ import annotations

from typing import Any

import requests
from dlt.sources.helpers.rest_client.paginators import OffsetPaginator


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
