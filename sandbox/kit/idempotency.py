"""Idempotency keys as payment APIs keep them (Stripe's ``Idempotency-Key``, PayPal's
``PayPal-Request-Id``): the first answer to a key is stored and replayed for every retry of the same
request, so a client that lost the answer can send again without paying twice.

A key is scoped to the credential that used it. A retry must repeat the request: the same key with
other parameters is :class:`IdempotencyConflict`, which the platform answers with its own error.
Stored answers expire after ``ttl`` seconds (Stripe: 24 hours).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Response


class IdempotencyConflict(Exception):
    """The key was first used with other parameters."""


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    at: float


@dataclass
class IdempotencyStore:
    ttl: float = 86_400.0
    replayed: int = 0
    _answers: dict[tuple[str, str], _Stored] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, scope: str, key: str | None, request_body: bytes, handle: Callable[[], Response]) -> Response:
        """``handle()``'s response, or, for a key seen before with the same body, the stored one marked
        ``Idempotent-Replayed: true``. No key: every request is handled. Only answers that did
        something are stored (2xx and 4xx; a 5xx may be retried for real, as Stripe does)."""
        if not key:
            return handle()
        fingerprint = hashlib.sha256(request_body).hexdigest()
        with self._lock:  # one request per key at a time: a parallel retry waits for the first answer
            stored = self._answers.get((scope, key))
            if stored is not None and time.monotonic() - stored.at < self.ttl:
                if stored.fingerprint != fingerprint:
                    raise IdempotencyConflict(key)
                self.replayed += 1
                return Response(stored.body, status=stored.status,
                                headers=[*stored.headers, ("Idempotent-Replayed", "true")])
            response = handle()
            if response.status_code < 500:
                self._answers[(scope, key)] = _Stored(fingerprint, response.status_code, tuple(response.headers.items()),
                                                      response.get_data(), time.monotonic())
            return response
