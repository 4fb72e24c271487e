"""The HTTP side of the connector: dlt's ``RESTClient`` on our retrying session with the key as HTTP
Basic username (EasyPost's documented scheme), ``before_id`` paging, and EasyPost's error envelope
turned into an error that says what EasyPost said."""

from __future__ import annotations

from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from connectors.sdk import ChannelhubError, retrying_session

from .settings import EasypostSettings


class EasypostAPIError(ChannelhubError):
    """EasyPost refused a request for good (after retries): status, EasyPost's code and message, and the
    fields its ``errors`` name."""

    def __init__(self, response: requests.Response) -> None:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        self.status, self.code = response.status_code, error.get("code")
        self.easypost_message = error.get("message") or response.reason
        fields = [item.get("field") if isinstance(item, dict) else str(item) for item in error.get("errors") or []]
        path = (response.request.path_url if response.request else "?").split("?")[0]
        detail = f" (fields: {', '.join(str(field) for field in fields)})" if fields else ""
        super().__init__(f"EasyPost answered HTTP {self.status} {self.code or 'without an error body'} on {path}: "
                         f"{self.easypost_message}{detail}")


def raise_for_easypost_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.status_code >= 400:
        raise EasypostAPIError(response)


def auth(settings: EasypostSettings) -> HttpBasicAuth:
    """The key as the Basic username, the password blank (``curl -u "$KEY":``)."""
    return HttpBasicAuth(settings.api_key.get_secret_value(), "")


def paginator(list_key: str) -> JSONResponseCursorPaginator:
    """Lists are ``{"<objects>": [...], "has_more": ...}``, newest first; the next page is the objects
    before the last one's id, and there is none once ``has_more`` is false."""
    return JSONResponseCursorPaginator(cursor_path=f"{list_key}[-1].id", cursor_param="before_id",
                                       has_more_path="has_more")


def make_client(settings: EasypostSettings) -> dict[str, Any]:
    """``rest_api``'s client; each endpoint brings its own paginator (the list key differs)."""
    return {"base_url": settings.base_url.rstrip("/"), "auth": auth(settings),
            "session": retrying_session(settings.retry_policy())}
