"""The HTTP side of the connector: dlt's ``RESTClient`` on our retrying session with the key and secret
as HTTP Basic (ShipStation V1's scheme), ``page``/``pages`` paging, the 40-requests-a-minute limit kept
as ShipStation's ``X-Rate-Limit-*`` headers say, and ShipStation's error body turned into an error that
says what ShipStation said."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator

from connectors.sdk import ChannelhubError, retrying_session

from .settings import ShipstationSettings

REMAINING, RESET = "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"


class ShipstationAPIError(ChannelhubError):
    """ShipStation refused a request for good (after retries): status and ShipStation's message (V1 writes
    ``{"message": ...}``, or ASP.NET's ``{"Message": ..., "ExceptionMessage": ...}``)."""

    def __init__(self, response: requests.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        self.status = response.status_code
        self.shipstation_message = (body.get("message") or body.get("Message") or body.get("ExceptionMessage")
                                    or response.reason)
        path = (response.request.path_url if response.request else "?").split("?")[0]
        super().__init__(f"ShipStation answered HTTP {self.status} on {path}: {self.shipstation_message}")


def raise_for_shipstation_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.status_code >= 400:
        raise ShipstationAPIError(response)


def auth(settings: ShipstationSettings) -> HttpBasicAuth:
    """API key as the Basic user, API secret as the password."""
    return HttpBasicAuth(settings.api_key.get_secret_value(), settings.api_secret.get_secret_value())


def paginator() -> PageNumberPaginator:
    """Lists are ``{"<objects>": [...], "total": n, "page": p, "pages": m}``: ``page`` from 1 to ``pages``."""
    return PageNumberPaginator(base_page=1, page=1, page_param="page", total_path="pages")


def reset_seconds(response: requests.Response) -> float | None:
    """How long ShipStation asks to wait: ``X-Rate-Limit-Reset``, the seconds until its minute window
    resets (it sends no ``Retry-After``). The retrying session waits this long after a 429."""
    try:
        return max(0.0, float(response.headers[RESET]))
    except (KeyError, ValueError):
        return None


class WindowPacer:
    """Waits out the window when an answer says none of its requests is left (``X-Rate-Limit-Remaining:
    0``), so a run never has to meet the 429: 40 requests a minute per key and secret. A 429 itself is the
    retrying session's (it waits :func:`reset_seconds`). ``max_wait`` bounds one wait."""

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait
        self.slept = 0.0
        self._lock = threading.Lock()

    def __call__(self, response: requests.Response) -> None:
        if response.status_code == 429 or response.headers.get(REMAINING) != "0":
            return
        pause = min(reset_seconds(response) or 0.0, self.max_wait)
        with self._lock:
            self.slept += pause
        time.sleep(pause)


def session(settings: ShipstationSettings) -> requests.Session:
    policy = settings.retry_policy()
    return retrying_session(policy, WindowPacer(policy.max_wait), retry_after=reset_seconds)


def make_client(settings: ShipstationSettings) -> dict[str, Any]:
    """``rest_api``'s client: every list pages alike."""
    return {"base_url": settings.base_url.rstrip("/"), "auth": auth(settings), "paginator": paginator(),
            "session": session(settings)}
