"""Metabase's REST API as the stack's setup step uses it: health while starting, the one-time setup
token, the first admin (``POST /api/setup``), sessions and databases. Not a data source: it checks what
``channelhub metabase`` sends to pre-wire the BI tool, the way Metabase answers (401 for a wrong
password, a session header on every call, ``setup-token`` gone once set up)."""

from __future__ import annotations

import secrets
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.kit import HttpSandbox, json_response
from sandbox.world import World, WorldSpec


class MetabaseSandbox(HttpSandbox):
    name = "metabase"
    routes = Map([
        Rule("/api/health", endpoint="health", methods=["GET"]),
        Rule("/api/session/properties", endpoint="properties", methods=["GET"]),
        Rule("/api/setup", endpoint="setup", methods=["POST"]),
        Rule("/api/session", endpoint="login", methods=["POST"]),
        Rule("/api/database", endpoint="databases", methods=["GET", "POST"]),
    ])

    def __init__(self, starting_checks: int = 2) -> None:
        super().__init__(World(WorldSpec(orders=1, skus=1, customers=1)))
        self.starting_checks = starting_checks  # health answers 503 this many times, as a booting JVM does
        self.setup_token: str | None = secrets.token_hex(16)
        self.admin: dict[str, Any] | None = None
        self.sessions: set[str] = set()
        self.database_list: list[dict[str, Any]] = []

    def rate_limited(self, request: Request) -> Response:
        return json_response({"message": "Too many requests"}, 429)

    def server_error(self, request: Request) -> Response:
        return json_response({"message": "Internal server error"}, 500)

    def health(self, request: Request) -> Response:
        if self.starting_checks > 0:
            self.starting_checks -= 1
            return json_response({"status": "initializing", "progress": 0.5}, 503)
        return json_response({"status": "ok"})

    def properties(self, request: Request) -> Response:
        return json_response({"setup-token": self.setup_token, "has-user-setup": self.admin is not None,
                              "site-name": "Metabase"})

    def setup(self, request: Request) -> Response:
        body = request.get_json()
        if self.setup_token is None or body.get("token") != self.setup_token:
            return json_response({"errors": {"token": "Token does not match the setup token."}}, 403)
        user = body["user"]
        if len(user.get("password") or "") < 6:
            return json_response({"errors": {"password": "password is too common."}}, 400)
        self.admin, self.setup_token = user, None
        return self._new_session()

    def login(self, request: Request) -> Response:
        body = request.get_json()
        if self.admin is None or (body.get("username"), body.get("password")) != (self.admin["email"],
                                                                                   self.admin["password"]):
            return json_response({"errors": {"password": "did not match stored password"}}, 401)
        return self._new_session()

    def databases(self, request: Request) -> Response:
        if request.headers.get("X-Metabase-Session") not in self.sessions:
            return Response("Unauthenticated", status=401)
        if request.method == "GET":
            return json_response({"data": self.database_list, "total": len(self.database_list)})
        body = request.get_json()
        if body.get("engine") != "postgres" or not {"host", "dbname", "user"} <= set(body.get("details", {})):
            return json_response({"errors": {"details": "missing connection details"}}, 400)
        database = {"id": len(self.database_list) + 1, "name": body["name"], "engine": body["engine"],
                    "details": body["details"]}
        self.database_list.append(database)
        return json_response(database)

    def _new_session(self) -> Response:
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return json_response({"id": session})
