"""The contract env of a database connector: pages are ``chunk_size`` reads of a sandbox database on
the MariaDB service, through the kit's wire front (:mod:`sandbox.kit.database`)."""

from __future__ import annotations

import os
import uuid

from sandbox.kit.database import DatabaseSandbox

from .contract import ContractEnv

MARIADB = os.environ.get("CHANNELHUB_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306")


def scratch_mariadb_url(prefix: str) -> str:
    """The URL of a new database name on the MariaDB service (the sandbox creates it, :meth:`close`
    drops it)."""
    return f"{MARIADB}/{prefix}_{uuid.uuid4().hex[:8]}"


class DatabaseEnv(ContractEnv):
    """A ContractEnv over a :class:`~sandbox.kit.database.DatabaseSandbox`: ``source_table`` holds the
    primary stream's records and ``fetched`` counts its rows the wire served. Faults are the server's:
    ``rate_limit`` refuses the next connections (ERR 1040 too many connections), ``server_error`` loses
    the next reads mid-query (2013), ``malformed`` serves a zero date in ``zero_date_column``, as MariaDB
    does for one stored with strict mode off.

    A subclass's ``__init__`` builds ``sandbox`` (on :func:`scratch_mariadb_url`) and sets ``config``;
    changes are the sandbox's own (``touch``, ``share_timestamp``)."""

    sandbox: DatabaseSandbox
    source_table: str
    zero_date_column: str

    def source_count(self) -> int:
        return self.sandbox.count(self.source_table)

    def fetched(self) -> int:
        return self.sandbox.rows_served[self.source_table]

    def change(self, fraction: float) -> int:
        return len(self.sandbox.touch(fraction))

    def share_cursor_value(self, n: int) -> None:
        self.sandbox.share_timestamp(n)

    def inject(self, kind: str, times: int) -> None:
        if kind == "malformed":
            self.sandbox.corrupt_next_read(self.source_table, self.zero_date_column, times)
        else:
            self.sandbox.fail_next(kind, times)

    def close(self) -> None:
        self.sandbox.drop()
