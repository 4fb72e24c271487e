"""Quality gates: Great Expectations suites over the raw tables and the marts, run as one checkpoint.

``validate(hub)`` is the one entry point (CLI ``channelhub validate``, Airflow, stock sync); results land
in ``ops.quality_runs`` / ``ops.quality_results`` and Data Docs in ``<channelhub home>/data_docs``.
"""

from .contracts import mart_suites
from .store import ExpectationOutcome
from .suites import CRITICAL, INFO, WARNING, TableSuite, raw_suites
from .validate import ValidationReport, validate

__all__ = ["CRITICAL", "INFO", "WARNING", "ExpectationOutcome", "TableSuite", "ValidationReport", "mart_suites",
           "raw_suites", "validate"]
