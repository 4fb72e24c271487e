"""The one rate-limit bucket every sandbox uses: ``size`` units, refilled at ``rate`` per second.

Shopify's REST leaky bucket (40 calls, 2 leak per second), its GraphQL cost bucket (1,000 points,
50 restored per second) and Stripe's per-key token bucket are the same object with other numbers: a
call takes its cost when that much is available, and is refused (the platform's 429 or THROTTLED)
otherwise.
"""

from __future__ import annotations

import math
import threading
import time


class Bucket:
    def __init__(self, size: float, rate: float, available: float | None = None) -> None:
        self.size, self.rate = size, rate
        self._available = size if available is None else available
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(self.size, self._available + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self, cost: float = 1) -> bool:
        """Take ``cost`` units if available now; False (nothing taken) when the call must be refused."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._available

    def used(self) -> int:
        """Units in use, rounded up: what a ``used/size`` header reports."""
        return min(math.ceil(self.size), math.ceil(self.size - self.available() - 1e-9))
