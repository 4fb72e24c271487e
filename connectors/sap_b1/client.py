"""The HTTP client of one Service Layer: the session login (``POST Login`` -> cookies ``B1SESSION`` and
``ROUTEID``, logged in again once when a call answers 401), ``@odata.nextLink`` paging with the page size
asked for in ``Prefer: odata.maxpagesize``, and the Service Layer's error envelope read in one place."""

from __future__ import annotations

from typing import Any

import requests
from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from connectors.sdk import ChannelhubError, retrying_session
from connectors.sdk.session import LoginRefused, SessionCookieAuth

from .settings import SapB1Settings

SESSION_COOKIES = ["B1SESSION", "ROUTEID"]  # ROUTEID pins the session to one node behind the load balancer
NEXT_LINK = "['@odata.nextLink']"  # OData v4's annotation; relative to the service root, with $skip


class SapB1Error(ChannelhubError):
    """The Service Layer refused a call for good (after retries): status, SAP's code and message."""


def sap_message(response: requests.Response) -> tuple[Any, str]:
    """SAP's ``(code, message)`` from ``{"error": {"code", "message": {"lang", "value"}}}`` (the v1 shape)
    or ``{"error": {"code", "message": "..."}}`` (the v4 shape some versions send); the reason otherwise."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return None, response.reason or f"HTTP {response.status_code}"
    message = error.get("message")
    return error.get("code"), str(message.get("value") if isinstance(message, dict) else message)


def raise_for_sap_error(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """``rest_api`` response action: an error answer fails the stream with the entity, SAP's code and
    message (``Property 'Foo' of 'Item' is invalid``), not a bare HTTP status."""
    if response.ok:
        return response
    code, message = sap_message(response)
    entity = requests.utils.urlparse(response.url).path.rsplit("/", 1)[-1]
    raise SapB1Error(f"the Service Layer refused the read of {entity}: HTTP {response.status_code}, "
                     f"code {code}: {message}")


@configspec
class SapB1Login(SessionCookieAuth):
    """``POST Login`` with the company database, user and password; a session the server forgot (expired
    after ``SessionTimeout`` minutes idle, or a restarted node) answers 401 with SAP's envelope."""

    company_db: str = None
    user: str = None
    password: TSecretStrValue = None

    def login_body(self) -> dict[str, Any]:
        return {"CompanyDB": self.company_db, "UserName": self.user, "Password": self.password}

    def login(self) -> None:
        """A refused login names the user and company, never the password."""
        try:
            super().login()
        except LoginRefused as exc:
            raise LoginRefused(f"SAP Business One refused the login of user {self.user!r} to company "
                               f"{self.company_db!r} ({exc})") from None

    def session_lost(self, response: requests.Response) -> bool:
        return (response.status_code == 401 and sap_message(response)[0] is not None
                and response.request is not None and response.request.url != self.login_url)


def make_client(settings: SapB1Settings) -> dict[str, Any]:
    """``rest_api``'s client: the session login riding on the one retry policy, next links followed."""
    auth = SapB1Login(login_url=f"{settings.root}/Login", cookie_names=SESSION_COOKIES,
                      company_db=settings.company_db, user=settings.user,
                      password=settings.password.get_secret_value())
    auth.session = retrying_session(settings.retry_policy(), also_retry=auth.relogin_and_retry)
    return {"base_url": f"{settings.root}/", "auth": auth, "session": auth.session,
            "headers": {"Prefer": f"odata.maxpagesize={settings.page_size}"},
            "paginator": JSONLinkPaginator(next_url_path=NEXT_LINK)}
