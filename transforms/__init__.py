"""The dbt project from raw tables to marts: ``models/staging`` → ``intermediate`` → ``marts``.

Built with dbt-duckdb on the embedded default and dbt-postgres in production. The CLI (``channelhub
build``) and the Airflow build DAG both call :func:`build`.
"""

from .build_log import ModelRun
from .docs import publish_docs
from .project import DbtFailed, mart_names
from .runner import BuildFailed, BuildReport, build, prepare

__all__ = ["BuildFailed", "BuildReport", "DbtFailed", "ModelRun", "build", "mart_names", "prepare",
           "publish_docs"]
