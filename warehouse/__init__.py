"""Where data lands: the warehouse target, raw schemas per account, and the run log."""

from .hub import Hub
from .run_log import StreamRun, last_runs, record_runs
from .target import Warehouse, ensure_tables

__all__ = ["Hub", "StreamRun", "Warehouse", "ensure_tables", "last_runs", "record_runs"]
