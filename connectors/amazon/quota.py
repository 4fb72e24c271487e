"""SP-API's usage plans on the client side: a token bucket per selling partner and operation, so the
connector waits its turn instead of being told ``QuotaExceeded``.

Amazon meters each operation separately (getOrders 0.0167 requests a second with a burst of 20,
getOrderItems 0.5 with 30, …) per selling partner and application. The buckets live in the process and
are shared by every task loading the same seller (one key per host, seller and operation); they start
at the default plan's numbers and follow the rate each answer states in ``x-amzn-RateLimit-Limit`` (a
seller's plan may be raised). The client's bucket holds one token less than Amazon's: the slack absorbs
the time requests spend on the way, which would otherwise let one arrive a little before Amazon's bucket
refilled. A 429 empties the operation's bucket, so the resend waits a whole token.
Workers in other processes keep their own buckets: the 429 handling covers what they overlap.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

RATE_HEADER = "x-amzn-RateLimit-Limit"
# (HTTP method, path pattern) -> (operation, default requests per second, burst)
OPERATIONS: tuple[tuple[str, re.Pattern[str], str, float, int], ...] = tuple(
    (method, re.compile(pattern), name, rate, burst) for method, pattern, name, rate, burst in (
        ("GET", r"/orders/v0/orders$", "getOrders", 0.0167, 20),
        ("GET", r"/orders/v0/orders/[^/]+/orderItems$", "getOrderItems", 0.5, 30),
        ("GET", r"/listings/2021-08-01/items/[^/]+$", "searchListingsItems", 5, 5),
        ("GET", r"/listings/2021-08-01/items/[^/]+/[^/]+$", "getListingsItem", 5, 10),
        ("PATCH", r"/listings/2021-08-01/items/[^/]+/[^/]+$", "patchListingsItem", 5, 5),
        ("GET", r"/fba/inventory/v1/summaries$", "getInventorySummaries", 2, 2),
        ("GET", r"/finances/v0/financialEvents$", "listFinancialEvents", 0.5, 30),
        ("POST", r"/reports/2021-06-30/reports$", "createReport", 0.0167, 15),
        ("GET", r"/reports/2021-06-30/reports/[^/]+$", "getReport", 2, 15),
        ("GET", r"/reports/2021-06-30/documents/[^/]+$", "getReportDocument", 0.0167, 15),
    ))


@dataclass
class TokenBucket:
    rate: float
    burst: int
    capacity: int = field(init=False)
    tokens: float = field(init=False)
    stamp: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.capacity = max(1, self.burst - 1)
        self.tokens = float(self.capacity)

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self) -> float:
        """Take a token, returning how long the caller must wait for it (it is spent either way, so
        callers queue instead of racing for the same refill)."""
        with self.lock:
            now = time.monotonic()
            self._refill(now)
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def empty(self) -> None:
        with self.lock:
            self._refill(time.monotonic())
            self.tokens = min(self.tokens, 0.0)


_buckets: dict[tuple[str, str, str], TokenBucket] = {}
_lock = threading.Lock()


def operation_of(method: str, path: str) -> tuple[str, float, int] | None:
    for verb, pattern, name, rate, burst in OPERATIONS:
        if verb == method and pattern.search(path):
            return name, rate, burst
    return None


class Quota:
    """``wait`` (the retrying session's ``before_send``) and ``learn`` (its pacer) for one seller."""

    def __init__(self, seller_id: str) -> None:
        self.seller_id = seller_id
        self.waited = 0.0

    def bucket(self, request: requests.PreparedRequest) -> TokenBucket | None:
        parts = urlsplit(request.url or "")
        found = operation_of(request.method or "GET", parts.path)
        if found is None:
            return None
        name, rate, burst = found
        with _lock:
            return _buckets.setdefault((parts.netloc, self.seller_id, name), TokenBucket(rate, burst))

    def wait(self, request: requests.PreparedRequest) -> None:
        bucket = self.bucket(request)
        pause = bucket.take() if bucket is not None else 0.0
        if pause > 0:
            self.waited += pause
            time.sleep(pause)

    def learn(self, response: requests.Response) -> None:
        bucket = self.bucket(response.request) if response.request is not None else None
        if bucket is None:
            return
        try:
            rate = float(response.headers.get(RATE_HEADER, ""))
        except ValueError:
            rate = 0.0
        if rate > 0:
            bucket.rate = rate
        if response.status_code == 429:
            bucket.empty()
