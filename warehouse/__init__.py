"""Where data lands: the warehouse target, raw schemas per account, and the run log."""

from .run_log import StreamRun, last_runs, record_runs
from .target import Warehouse

__all__ = ["StreamRun", "Warehouse", "last_runs", "record_runs"]
