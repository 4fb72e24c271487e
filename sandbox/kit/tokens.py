"""OAuth 2 access tokens as an authorization server hands them out: the refresh-token grant (Login
with Amazon for SP-API; others with their own endpoints) and the client-credentials grant (PayPal),
each token valid ``lifetime`` seconds.

Written from RFC 6749 section 6 and Amazon's LWA documentation, independently of any client: the
token endpoint takes a form body, refuses an unknown client or refresh token with the RFC's error
codes, and answers ``access_token``, ``token_type``, ``expires_in`` and the refresh token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TokenIssuer:
    """Issues and checks access tokens for one client and its refresh tokens."""

    client_id: str
    client_secret: str
    refresh_tokens: frozenset[str]
    lifetime: float = 3600.0
    prefix: str = "Atza|"  # LWA's access tokens; other servers use their own shapes
    issued: int = 0
    _expiry: dict[str, float] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) of a token request."""
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        if form.get("refresh_token") not in self.refresh_tokens:
            return 400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}
        return 200, {**self._issue(), "refresh_token": form["refresh_token"]}

    def grant_client_credentials(self, form: Mapping[str, str], client_id: str | None,
                                 client_secret: str | None) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) of a client-credentials request (RFC 6749 section 4.4), the client
        authenticated with HTTP Basic (PayPal)."""
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client", "error_description": "Client Authentication failed"}
        return 200, self._issue()

    def _issue(self) -> dict[str, Any]:
        token = self.prefix + secrets.token_urlsafe(24)
        with self._lock:
            self._expiry[token] = time.monotonic() + self.lifetime
            self.issued += 1
        return {"access_token": token, "token_type": "bearer",
                "expires_in": int(self.lifetime) if self.lifetime >= 1 else self.lifetime}

    def check(self, token: str | None) -> str | None:
        """None for a live token, else why it is refused ("missing", "unknown", "expired")."""
        if not token:
            return "missing"
        expiry = self._expiry.get(token)
        if expiry is None:
            return "unknown"
        return "expired" if time.monotonic() >= expiry else None

    def expire_all(self) -> None:
        """Every token handed out so far expires now (a long run outliving its token)."""
        with self._lock:
            self._expiry.clear()
