"""Build the models into the warehouse: views, tables and incremental tables, each logged.

``channelhub build`` runs :func:`build`; the Airflow build DAG runs :func:`prepare` and then one
:func:`run_model` task per model, so both paths share every statement. Tables are built beside the
old one and swapped in one transaction, so BI never reads a half-built mart, and a failed build leaves
the previous marts in place.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from channelhub.config import HubConfig
from connectors.sdk import ChannelhubError
from warehouse import Warehouse

from . import seeds
from .build_log import ModelRun, last_fingerprint, record_model_run
from .ddl import replace_view, swap_table
from .project import Model, Project, load_project, render
from .sources import create_source_views

log = logging.getLogger(__name__)
BI_SCHEMA = "marts"
SCHEMAS = ("staging", "intermediate", "analytics", BI_SCHEMA, "ops")


class BuildFailed(ChannelhubError):
    """A model failed. Models built before it stay; the marts it feeds keep their previous contents."""


@dataclass
class BuildReport:
    build_id: str
    runs: list[ModelRun] = field(default_factory=list)

    @property
    def failed(self) -> list[ModelRun]:
        return [run for run in self.runs if run.outcome == "failed"]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)


def prepare(hub: HubConfig) -> list[str]:
    """Schemas, one view per declared source table, and the config-driven tables the models read."""
    with Warehouse(hub.warehouse_url).engine.connect() as conn:
        return _prepare(conn, hub)


def _prepare(conn: sa.Connection, hub: HubConfig) -> list[str]:
    with conn.begin():
        for schema in SCHEMAS:
            conn.execute(sa.text(f"create schema if not exists {schema}"))
        views = create_source_views(conn, hub)
        seeds.write_seeds(conn, hub)
    return views


def _count(conn: sa.Connection, relation: str) -> int:
    return int(conn.execute(sa.text(f"select count(*) from {relation}")).scalar_one())


def _publish(conn: sa.Connection, model: Model) -> None:
    """The BI-facing view: ``marts.<name>`` reads the physical table, so BI grants stay on one schema."""
    replace_view(conn, f"{BI_SCHEMA}.{model.name}", f"select * from {model.relation}")


def _merge_increment(conn: sa.Connection, model: Model, sql: str) -> bool:
    """Apply the rows of loads the table has not seen yet; False when a full build is needed.

    The watermark is the raw load id. Rows are new when their load is newer than ``lookback`` before
    the newest load in the table and is not one the table already holds, so a load that started
    earlier but committed later is still picked up. The window's bounds are passed as constants, which
    lets the database filter the raw scans instead of computing the whole model. Delete-then-insert on
    ``unique_key`` makes re-reading harmless; rows whose source vanished (a deleted order, a replaced
    spreadsheet) are removed too.
    """
    key, mark = model.unique_key, model.watermark
    newest = conn.execute(sa.text(f"select max({mark}) from {model.relation}")).scalar_one()
    if newest is None:
        return False
    since = newest - model.lookback
    seen = conn.execute(sa.text(f"select distinct {mark} from {model.relation} where {mark} > :since"),
                        {"since": since}).scalars().all()
    unseen = sa.text(f"create temporary table increment_batch as select * from ({sql}) as m "
                     f"where m.{mark} > :since and m.{mark} not in :seen"
                     ).bindparams(sa.bindparam("seen", expanding=True))
    conn.execute(sa.text("drop table if exists increment_batch"))
    conn.execute(unseen, {"since": since, "seen": seen})
    conn.execute(sa.text(f"delete from {model.relation} where {key} in (select {key} from increment_batch)"))
    conn.execute(sa.text(f"delete from {model.relation} where {key} not in (select k.{key} from ({sql}) as k)"))
    conn.execute(sa.text(f"insert into {model.relation} select * from increment_batch"))
    conn.execute(sa.text("drop table increment_batch"))
    return True


def _materialize(conn: sa.Connection, model: Model, sql: str, incremental: bool) -> tuple[int | None, str]:
    """Build ``model``; returns (rows, how): ``view``, ``table`` (rebuilt whole) or ``incremental``."""
    if model.materialized == "view":
        replace_view(conn, model.relation, sql)
        return None, "view"
    how = "table"
    if incremental and sa.inspect(conn).has_table(model.name, schema=model.schema) \
            and _merge_increment(conn, model, sql):
        how = "incremental"
    else:
        swap_table(conn, model.schema, model.name, sql)
    if model.layer == "marts":
        _publish(conn, model)
    return _count(conn, model.relation), how


def _execute(conn: sa.Connection, project: Project, model: Model, dialect: str, build_id: str,
             full_refresh: bool) -> ModelRun:
    """Build one model in its own transaction and log the outcome; never raises for SQL errors.
    ``dialect`` is the warehouse kind, which is also sqlglot's name for it (duckdb, postgres)."""
    run = ModelRun(build_id, model.name, model.layer, datetime.now(UTC), fingerprint=project.fingerprint(model.name))
    clock = time.perf_counter()
    try:
        sql = render(model, project, dialect)
        with conn.begin():
            incremental = model.materialized == "incremental" and not full_refresh \
                and last_fingerprint(conn, model.name) == run.fingerprint
            run.rows, run.strategy = _materialize(conn, model, sql, incremental)
        run.outcome = "success"
    except sa.exc.SQLAlchemyError as exc:
        run.outcome, run.error = "failed", f"model {model.name} ({model.path.name}): {getattr(exc, 'orig', None) or exc}"
    run.seconds = time.perf_counter() - clock
    run.finished_at = datetime.now(UTC)
    record_model_run(conn, run)
    if run.outcome == "success":
        log.info("built %s (%s) in %.2fs, %s rows", model.relation, run.strategy, run.seconds, run.rows)
    return run


def run_model(hub: HubConfig, name: str, *, full_refresh: bool = False, build_id: str | None = None) -> ModelRun:
    """Build one model (its inputs must exist) and log it in ``ops.build_log``; one Airflow task."""
    project = load_project()
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.engine.connect() as conn:
        run = _execute(conn, project, project.model(name), warehouse.kind, build_id or uuid.uuid4().hex,
                       full_refresh)
    if run.outcome == "failed":
        raise BuildFailed(run.error or name)
    return run


def build(hub: HubConfig, *, select: list[str] | None = None, full_refresh: bool = False) -> BuildReport:
    """Prepare, then build every model (or ``select`` and what depends on it) in dependency order.

    One connection serves the whole build (opening a DuckDB file costs a checkpoint on close). A
    failing model does not stop models that do not depend on it; its dependants are logged as
    skipped, and :class:`BuildFailed` is raised at the end naming every failure."""
    project = load_project()
    models = project.downstream(set(select)) if select else list(project.models)
    report = BuildReport(uuid.uuid4().hex)
    warehouse = Warehouse(hub.warehouse_url)
    broken: set[str] = set()
    with warehouse.engine.connect() as conn:
        _prepare(conn, hub)
        for model in models:
            failed_inputs = broken.intersection(model.depends_on)
            if failed_inputs:
                run = ModelRun(report.build_id, model.name, model.layer, datetime.now(UTC), outcome="skipped",
                               error=f"skipped: input failed ({', '.join(sorted(failed_inputs))})")
                record_model_run(conn, run)
            else:
                run = _execute(conn, project, model, warehouse.kind, report.build_id, full_refresh)
            if run.outcome != "success":
                broken.add(model.name)
            report.runs.append(run)
    if report.failed:
        raise BuildFailed("; ".join(run.error or run.model for run in report.failed))
    return report
