"""The sandbox kit: what every platform emulator is built from, so a platform's sandbox holds only what
is specific to it.

* ``server``: the HTTP base (waitress, keep-alive) with the thread-safe fault switchboard and counters;
* ``bucket``: one token/leaky/cost bucket for every rate limit;
* ``paging``: numbered pages, Link headers, keyset cursors, opaque tokens;
* request verifiers per signing family, written from the documents, never from a client:
  ``oauth1`` (RFC 5849, with a consumer's nonce and timestamp checks), ``sorted_params`` (TOP, JD,
  Pinduoduo), ``kingdee_headers`` (K3Cloud);
* ``gateway``: the base of signed single-endpoint sandboxes (TOP now, JD and Pinduoduo next): method
  dispatch, error envelopes in HTTP 200, system-parameter checks, argument validators, modified windows;
* ``query``: ERP query services over World forms (fields, a SQL WHERE subset, ordering);
* ``sessions``: login sessions an ERP hands out and forgets; ``stock``: a channel's own stock per SKU;
* ``tokens``: OAuth 2 refresh-token grants (Login with Amazon);
* ``idempotency``: idempotency keys as payment APIs keep them;
* ``files``: a drop folder for file connectors (rows per file, read faults: locks, I/O errors, damage);
* ``database`` and ``mysql_wire``: a database for SQL connectors (SQLite or MariaDB) and the MySQL
  protocol front that counts rows served and refuses connections, drops reads or serves zero dates.
"""

from .bucket import Bucket
from .server import Faults, HttpSandbox, Stats, json_response

__all__ = ["Bucket", "Faults", "HttpSandbox", "Stats", "json_response"]
