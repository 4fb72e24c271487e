"""Run one account in this process and kill it with SIGKILL at a chosen point: what ``kill -9`` (or the
OOM killer, or a lost machine) does to a run. Used by the reliability scenarios as

    python -m tests.reliability.crash CONFIG ACCOUNT POINT [N]

POINT: ``extract`` (as the Nth batch of records passes), ``normalize`` (extracted, nothing normalized),
``load`` (normalized, nothing loaded) or ``mid-load`` (as the Nth load job starts, earlier ones done) of
a run of ACCOUNT; or ``build`` (as dbt sends its Nth statement), ACCOUNT ignored.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import dlt
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob

from channelhub.config import load_config
from channelhub.runner import run_account
from connectors.sdk.quarantine import RecordGate


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_on_call(owner: Any, name: str, at: int) -> None:
    """Replace ``owner.name`` by a version that kills the process on its ``at``-th call."""
    original, calls = getattr(owner, name), [0]

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] >= at:
            die()
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def main(config: str, account: str, point: str, n: str = "1") -> None:
    hub = load_config(Path(config))
    if point == "build":  # dbt only here: its import costs the other scenarios a second each
        from dbt.adapters.sql.connections import SQLConnectionManager

        import transforms

        kill_on_call(SQLConnectionManager, "add_query", int(n))
        transforms.build(hub)
    else:
        targets = {"extract": [(RecordGate, "__call__")], "normalize": [(dlt.Pipeline, "normalize")],
                   "load": [(dlt.Pipeline, "load")], "mid-load": [(DuckDbCopyJob, "run"), (PostgresCsvCopyJob, "run")]}
        for owner, name in targets[point]:
            kill_on_call(owner, name, int(n))
        run_account(hub, account)
    sys.exit(3)  # it ended before the kill point: the scenario was not what it claims


if __name__ == "__main__":
    main(*sys.argv[1:])
