"""Where data lands: the warehouse target, raw schemas per account, and the run log."""

from .hub import Hub
from .lock import WarehouseBusy
from .quarantine import record_quarantine
from .run_log import StreamRun, as_utc, last_runs, record_runs, settle_run, spool_runs
from .target import Warehouse, ensure_tables

__all__ = ["Hub", "StreamRun", "Warehouse", "WarehouseBusy", "as_utc", "ensure_tables", "last_runs", "record_quarantine",
           "record_runs", "settle_run", "spool_runs"]
