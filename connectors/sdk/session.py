"""Session login with cookies as a dlt auth: log in once, send the session's cookies with every request,
and log in again when the server says the session is gone.

ERPs on premises authenticate this way: Kingdee K3Cloud (``AuthService.ValidateUser`` -> cookies
``kdservice-sessionid`` and ``ASP.NET_SessionId``), SAP Business One's Service Layer (``Login`` ->
``B1SESSION`` and ``ROUTEID``). A subclass says how to log in, how a refused login and a lost session
look; the rest is here.

The re-login rides on the one retry policy (``http.retrying_session``): the session's ``also_retry`` is
:meth:`SessionCookieAuth.relogin_and_retry`, which marks a request whose session was lost, and the
resend's ``RESIGN`` hook logs in before it goes out. Once per request: a session lost again right after
a fresh login is an answer for the caller, not a reason to loop.
"""

from __future__ import annotations

import copy
import threading
import weakref
from typing import Annotated, Any

import requests
from dlt.common.configuration import configspec
from dlt.common.configuration.specs.base_configuration import NotResolved
from dlt.sources.helpers.rest_client.auth import AuthConfigBase

from .errors import ChannelhubError
from .http import RESIGN


class LoginRefused(ChannelhubError):
    """The server refused the login (wrong user, password, data centre or app): retrying cannot help."""


@configspec
class SessionCookieAuth(AuthConfigBase):
    """``login_url`` answers a JSON POST of :meth:`login_body` by setting the cookies ``cookie_names``
    (those the server sets are replayed; at least one must come). ``session`` sends the login (the
    connector's retrying session, so a login hitting a 503 is retried like any call)."""

    login_url: str = None
    cookie_names: list[str] = None
    session: Annotated[requests.Session, NotResolved()] = None

    def __post_init__(self) -> None:
        self._cookie = ""
        self._lock = threading.RLock()
        self._lost: weakref.WeakSet[requests.PreparedRequest] = weakref.WeakSet()     # resend after a login
        self._relogged: weakref.WeakSet[requests.PreparedRequest] = weakref.WeakSet()  # had their one login
        self.logins = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> SessionCookieAuth:
        """dlt's rest_api validates a deep copy of its config (masking secrets in it): the copy takes the
        settings, not this session's lock and state, which cannot be copied."""
        clone = copy.copy(self)
        clone.__post_init__()
        return clone

    def login_body(self) -> dict[str, Any]:
        """The login request's JSON body (it holds the secret: never logged)."""
        raise NotImplementedError

    def check_login(self, response: requests.Response) -> None:
        """Raise :class:`LoginRefused` when the answer says the login failed. HTTP errors are raised
        before this; servers that answer 200 either way (Kingdee) override it."""

    def session_lost(self, response: requests.Response) -> bool:
        """Whether ``response`` says the session expired or is unknown: 401 (SAP B1) unless overridden."""
        return response.status_code == 401

    def login(self) -> None:
        with self._lock:
            response = self.session.post(self.login_url, json=self.login_body())
            if response.status_code in (401, 403):
                raise LoginRefused(f"login at {self.login_url} refused: HTTP {response.status_code}")
            response.raise_for_status()
            self.check_login(response)
            cookies = [(name, response.cookies[name]) for name in self.cookie_names if name in response.cookies]
            if not cookies:
                raise LoginRefused(f"login at {self.login_url} set none of the cookies {self.cookie_names}")
            self._cookie = "; ".join(f"{name}={value}" for name, value in cookies)
            self.logins += 1

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:
            if not self._cookie:
                self.login()
            request.headers["Cookie"] = self._cookie
        setattr(request, RESIGN, self._resign)
        return request

    def relogin_and_retry(self, response: requests.Response) -> bool:
        """``also_retry`` for the retrying session: True (send again, after a login) the first time a
        request's session is lost."""
        request = response.request
        if request is None or request in self._relogged or not self.session_lost(response):
            return False
        self._relogged.add(request)
        self._lost.add(request)
        return True

    def _resign(self, request: requests.PreparedRequest) -> None:
        with self._lock:
            if request in self._lost:
                self._lost.discard(request)
                if request.headers.get("Cookie") == self._cookie:  # no other request logged in meanwhile
                    self.login()
            request.headers["Cookie"] = self._cookie
