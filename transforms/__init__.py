"""SQL models from raw tables to marts: ``staging/`` → ``intermediate/`` → ``marts/``.

Written once in DuckDB's SQL and transpiled with sqlglot for PostgreSQL. The CLI (``channelhub
build``) and the Airflow build DAG both call these functions.
"""

from .build_log import ModelRun
from .project import Model, Project, load_project
from .runner import BuildFailed, BuildReport, build, prepare, run_model

__all__ = ["BuildFailed", "BuildReport", "Model", "ModelRun", "Project", "build", "load_project", "prepare",
           "run_model"]
