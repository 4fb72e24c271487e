"""The base every HTTP sandbox is built on: a werkzeug app served by waitress (HTTP/1.1, keep-alive)
from a thread on 127.0.0.1, fault switches shared by all platforms, and counters tests assert on.

A subclass supplies ``routes`` (a werkzeug ``Map`` whose endpoints are method names) and the
platform's own shapes for a rate-limit answer and a server error.
Faults are armed for the *next N* matching requests so tests are deterministic; the same switches
are reachable over HTTP at ``POST /__sandbox__/faults`` for a standalone ``channelhub sandbox serve``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Self

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from ..world import World

# One line per request is noise in the demo and in test output; sandboxes report through Stats instead.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


@dataclass
class Faults:
    """Counters of upcoming requests to break. ``path_contains`` limits them to matching paths."""

    rate_limit: int = 0       # answer 429 with the platform's headers and body
    server_error: int = 0     # answer 500/503 with the platform's error body
    timeout: int = 0          # stall ``stall_seconds`` before answering (client should time out)
    malformed: int = 0        # cut a successful JSON body in half
    cut_body: int = 0         # promise the whole body (Content-Length), send half, close: a connection reset mid-body
    gzip_mismatch: int = 0    # say Content-Encoding: gzip, send plain JSON (a proxy that mangled the body)
    after_auth: int = 0       # answer 500/503 once the request authenticated (a nonce or key already spent)
    stall_seconds: float = 5.0
    path_contains: str = ""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, kind: str, path: str) -> bool:
        """Spend one armed fault of ``kind`` on this request, if any: atomic, since the server answers
        requests on many threads and an armed count must break exactly that many requests."""
        if self.path_contains and self.path_contains not in path:
            return False
        with self._lock:
            remaining = getattr(self, kind)
            if remaining > 0:
                setattr(self, kind, remaining - 1)
                return True
            return False


@dataclass
class Stats:
    requests: int = 0
    by_path: Counter = field(default_factory=Counter)
    records_served: Counter = field(default_factory=Counter)
    faults_served: Counter = field(default_factory=Counter)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, default=str, ensure_ascii=False), status=status,
                    headers=headers or {}, content_type="application/json; charset=utf-8")


class HttpSandbox(ABC):
    """One emulated API. ``serve()`` starts it; ``world`` is shared with sibling sandboxes."""

    name: str
    routes: Map

    def __init__(self, world: World) -> None:
        self.world = world
        self.faults = Faults()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- platform specifics -------------------------------------------------------------------------
    @abstractmethod
    def rate_limited(self, request: Request) -> Response:
        """The platform's 429: status, headers and body exactly as documented."""

    @abstractmethod
    def server_error(self, request: Request) -> Response:
        """The platform's 5xx error body."""

    def authenticate(self, request: Request) -> Response | None:
        """Return an error response when the request's credentials are wrong."""
        return None

    def before_request(self, request: Request) -> Response | None:
        """Hook for platform throttling (e.g. Shopify's leaky bucket)."""
        return None

    def after_request(self, request: Request, response: Response) -> Response:
        return response

    # -- WSGI ------------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path == "/__sandbox__/faults":
            return self._control(request)
        with self._lock:
            self.stats.requests += 1
            self.stats.by_path[request.path] += 1
        path = self.fault_scope(request)
        if self.faults.take("timeout", path):
            self.stats.faults_served["timeout"] += 1
            time.sleep(self.faults.stall_seconds)
        if self.faults.take("rate_limit", path):
            self.stats.faults_served["rate_limit"] += 1
            return self.after_request(request, self.rate_limited(request))
        if self.faults.take("server_error", path):
            self.stats.faults_served["server_error"] += 1
            return self.after_request(request, self.server_error(request))
        denied = self.authenticate(request) or self.before_request(request)
        if denied is not None:
            return self.after_request(request, denied)
        if self.faults.take("after_auth", path):
            self.stats.faults_served["after_auth"] += 1
            return self.after_request(request, self.server_error(request))
        try:
            endpoint, args = self.routes.bind_to_environ(request.environ).match()
            response = getattr(self, endpoint)(request, **args)
        except NotFound:
            response = self.not_found(request)
        except HTTPException as exc:
            response = exc.get_response()
        if response.status_code == 200 and self.faults.take("malformed", path):
            self.stats.faults_served["malformed"] += 1
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
        if response.status_code == 200 and self.faults.take("cut_body", path):
            self.stats.faults_served["cut_body"] += 1
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
            response.headers["Content-Length"] = str(len(body))  # waitress closes the connection short of it
        if response.status_code == 200 and self.faults.take("gzip_mismatch", path):
            self.stats.faults_served["gzip_mismatch"] += 1
            response.headers["Content-Encoding"] = "gzip"
        return self.after_request(request, response)

    def fault_scope(self, request: Request) -> str:
        """What ``Faults.path_contains`` is matched against: the path, unless every call of the API shares
        one path (Kingdee's query service) and the platform adds what tells its calls apart."""
        return request.path

    def not_found(self, request: Request) -> Response:
        return json_response({"errors": "Not Found"}, 404)

    def count_records(self, stream: str, n: int) -> None:
        with self._lock:
            self.stats.records_served[stream] += n

    def _control(self, request: Request) -> Response:
        if request.method == "POST":
            for key, value in (request.get_json(silent=True) or {}).items():
                if not key.startswith("_") and hasattr(self.faults, key):
                    setattr(self.faults, key, type(getattr(self.faults, key))(value))
        return json_response({k: v for k, v in asdict(self.faults).items() if not k.startswith("_")})

    # -- serving ---------------------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start in a daemon thread; returns the base URL. ``port=0`` picks a free port."""
        # waitress: HTTP/1.1 with persistent connections, as the platforms serve, so a client paging
        # through a list keeps its connection (werkzeug's development server closes after every answer)
        self._server = create_server(self, host=host, port=port, threads=8, ident=None,
                                     clear_untrusted_proxy_headers=False)
        self._thread = threading.Thread(target=self._server.run, name=f"sandbox-{self.name}", daemon=True)
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        assert self._server is not None, "sandbox is not serving"
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            # closed inside its own loop thread (closing from here would pull sockets out from under a
            # select() in progress); the loop ends once nothing is left open
            try:
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
                self._thread.join(timeout=10)
            except OSError:  # the loop's wake-up pipe is gone (seen once under a full suite): close from here
                wasyncore.close_all(server._map)
            server.task_dispatcher.shutdown()

    def __enter__(self) -> Self:
        self.serve()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
