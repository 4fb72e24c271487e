"""Login sessions as ERP servers keep them (Kingdee's ``kdservice-sessionid``, SAP Business One's
``B1SESSION``): a login opens one, every later call names it (a cookie or a header), and the server may
forget them all at once (an application-pool recycle, a timeout), which clients must survive by logging
in again."""

from __future__ import annotations

import secrets
import threading


class Sessions:
    def __init__(self) -> None:
        self.logins = 0  # how many sessions were opened: tests count the client's logins
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def open(self) -> str:
        sid = secrets.token_hex(16)
        with self._lock:
            self._open.add(sid)
            self.logins += 1
        return sid

    def valid(self, sid: str | None) -> bool:
        return sid in self._open

    def expire(self) -> None:
        """The server forgets every session: the next call with one is refused."""
        with self._lock:
            self._open.clear()
