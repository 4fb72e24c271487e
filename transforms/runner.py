"""Build the dbt models into the warehouse and log every model in ``ops.build_log``.

``channelhub build``, the demo, the benchmarks and the Airflow build task all call :func:`build`. It
writes the config-driven tables the models read (:mod:`transforms.seeds`), parses the project once,
and runs dbt through its Python API. dbt builds each table beside the old one and swaps it in, so BI
never reads a half-built mart, and a failed model leaves the previous mart in place while dbt skips
what depends on it.

A build runs only the models with something new to build from: a model is left as it is ("current"
in the build log) when its logic (:meth:`Dbt.fingerprint`) and its inputs (:mod:`transforms.inputs`:
new dlt loads, new accounts or columns, edited ops tables) are those of its last successful build.
Views are rebuilt only when their SQL would change. ``--select`` and ``full_refresh`` build what they
name regardless.

Incremental facts are built incrementally unless ``full_refresh``, or unless the logic their rows
come from changed since their last successful build: those, and what depends on them, are rebuilt
whole in a second dbt run after the first has built everything upstream.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from connectors.sdk import ChannelhubError
from warehouse import Hub, Warehouse, ensure_tables
from warehouse.builds import finish_build, start_build

from . import access, phones, seeds
from .build_log import LastBuild, ModelRun, last_builds, record_model_runs, vanished_keys
from .inputs import input_digest, source_states
from .project import DEFAULT_MEMORY, MEMORY_VARIABLE, Dbt, configured_connectors

log = logging.getLogger(__name__)


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
    def built(self) -> list[ModelRun]:
        """The models this build ran (not those left current)."""
        return [run for run in self.runs if run.outcome != "current"]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.runs)

    def mart_rows(self) -> dict[str, int | None]:
        """Rows per mart built by this build (for the Airflow Assets BI refreshes follow)."""
        return {run.model: run.rows for run in self.runs if run.layer == "marts" and run.outcome == "success"}


def prepare(hub: Hub) -> None:
    """Write the tables the models read that come from channelhub.yml, not from a source."""
    with Warehouse(hub.warehouse_url).engine.begin() as conn:
        seeds.write_seeds(conn, hub)


def _layer(node: Any) -> str:
    return node.fqn[1] if len(node.fqn) > 2 else "models"


def _existing_relations(conn: sa.Connection, nodes: Sequence[Any]) -> dict[str, str]:
    """``schema.name`` -> table | view, for the schemas the models live in."""
    schemas = sorted({node.schema for node in nodes})
    rows = conn.execute(sa.text("select table_schema, table_name, table_type from information_schema.tables "
                                "where table_schema in :schemas").bindparams(sa.bindparam("schemas", expanding=True)),
                        {"schemas": schemas})
    return {f"{schema}.{name}": "view" if kind == "VIEW" else "table" for schema, name, kind in rows}


def _with_dependants(nodes: Sequence[Any], names: set[str]) -> set[str]:
    """``names`` and every node of ``nodes`` (in dependency order) that needs one of them."""
    ids = {node.unique_id for node in nodes if node.name in names}
    for node in nodes:  # dependency order: a node's inputs are decided before it
        if set(node.depends_on.nodes) & ids:
            ids.add(node.unique_id)
    return {node.name for node in nodes if node.unique_id in ids}


def _rebuild_whole(nodes: Sequence[Any], fingerprints: dict[str, str], previous: dict[str, LastBuild]) -> set[str]:
    """Incremental models whose logic changed since their last successful build, and what depends on
    them."""
    changed = {node.name for node in nodes if node.config.materialized == "incremental"
               and node.name in previous and previous[node.name].fingerprint != fingerprints[node.name]}
    return _with_dependants(nodes, changed)


def _due(nodes: Sequence[Any], fingerprints: dict[str, str], inputs: dict[str, str],
         previous: dict[str, LastBuild], existing: dict[str, str]) -> set[str]:
    """The models to run: missing, failed or skipped last time, built from other logic or other inputs
    than now, and every table downstream of one of those (its input is being rebuilt)."""
    due = {node.name for node in nodes
           if f"{node.schema}.{node.name}" not in existing or node.name not in previous
           or previous[node.name] != LastBuild(fingerprints[node.name], inputs[node.name], latest=True)}
    rebuilt_tables = {node.name for node in nodes if node.name in due and node.config.materialized != "view"}
    downstream = _with_dependants(nodes, rebuilt_tables)
    return due | {node.name for node in nodes if node.name in downstream and node.config.materialized != "view"}


def _count_rows(conn: sa.Connection, runs: list[ModelRun], nodes: dict[str, Any]) -> None:
    for run in runs:
        node = nodes[run.model]
        if run.outcome == "success" and node.config.materialized != "view":
            run.rows = int(conn.execute(sa.text(f'select count(*) from {node.schema}."{node.name}"')).scalar_one())


def _model_runs(result: Any, nodes: dict[str, Any], build_id: str, fingerprints: dict[str, str],
                inputs: dict[str, str], strategy: dict[str, str]) -> list[ModelRun]:
    runs = []
    for item in (result.result.results if result.result is not None else []):
        node = item.node
        if node.name not in nodes:
            continue
        timing = [t for t in item.timing if t.started_at]
        started = timing[0].started_at.replace(tzinfo=UTC) if timing else datetime.now(UTC)
        finished = timing[-1].completed_at.replace(tzinfo=UTC) if timing else started
        status = str(item.status)
        outcome = {"success": "success", "error": "failed", "skipped": "skipped"}.get(status, status)
        error = None
        if outcome == "failed":
            error = _with_memory_hint(f"model {node.name} ({node.original_file_path}): {item.message}")
        elif outcome == "skipped":
            error = "skipped: an input failed"
        runs.append(ModelRun(build_id, node.name, _layer(node), started, finished, strategy=strategy[node.name],
                             fingerprint=fingerprints[node.name], inputs=inputs[node.name], outcome=outcome, error=error,
                             seconds=float(item.execution_time or 0)))
    return runs


def _with_memory_hint(error: str) -> str:
    """DuckDB's out-of-memory message suggests SET memory_limit; say where channelhub sets it."""
    if "Out of Memory Error" not in error:
        return error
    return (f"{error} (DuckDB's cap for builds is {os.environ.get(MEMORY_VARIABLE, DEFAULT_MEMORY)}: "
            f"set {MEMORY_VARIABLE}, e.g. to 2GB, for a merchant this size)")


def _record_aborted(warehouse: Warehouse, report: BuildReport, error: str) -> None:
    """dbt stopped before reporting models: log the build as failed (model ``*``) so the stock
    readiness gate does not take the previous build for the last one, then raise."""
    now = datetime.now(UTC)
    with warehouse.engine.begin() as conn:
        record_model_runs(conn, [*report.runs, ModelRun(report.build_id, "*", "build", now, now, outcome="failed",
                                                        error=error)])
        finish_build(conn, report.build_id, "failed", now)
    raise BuildFailed(error)


def build(hub: Hub, *, select: Sequence[str] | None = None, full_refresh: bool = False,
          build_id: str | None = None) -> BuildReport:
    """Build every model (or what ``select`` picks, in dbt's selector syntax: ``fct_orders+``,
    ``tag:x``, a bare name), log each in ``ops.build_log`` and raise :class:`BuildFailed` naming every
    failed model. Models that do not need a failed one are still built."""
    report = BuildReport(build_id or uuid.uuid4().hex)
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.exclusive("channelhub build"):
        dbt = Dbt.for_warehouse(warehouse, hub.home, configured_connectors(hub))
        nodes = dbt.models(select)
        by_name = {node.name: node for node in nodes}
        fingerprints = {node.name: dbt.fingerprint(node) for node in nodes}
        with warehouse.engine.begin() as conn:  # one connection: opening the DuckDB file costs tens of ms
            start_build(conn, report.build_id, datetime.now(UTC))
        with warehouse.engine.begin() as conn:
            seeds.write_seeds(conn, hub)
            phones.write_phone_numbers(conn, phones.phone_columns(dbt.sources(nodes)))
            ensure_tables(conn, vanished_keys)
            previous = last_builds(conn)
            states = source_states(conn, dbt.sources(nodes))
            existing = _existing_relations(conn, nodes)
        inputs = {node.name: input_digest(states, [source.unique_id for source in dbt.sources([node])],
                                          structure_only=node.config.materialized == "view") for node in nodes}
        due = set(by_name) if select or full_refresh else _due(nodes, fingerprints, inputs, previous, existing)
        whole = set(by_name) if full_refresh else _rebuild_whole(nodes, fingerprints, previous)
        strategy = {node.name: ("view" if node.config.materialized == "view" else
                                "incremental" if node.config.materialized == "incremental"
                                and node.name not in whole and existing.get(f"{node.schema}.{node.name}") == "table"
                                else "table") for node in nodes}
        now = datetime.now(UTC)
        report.runs.extend(ModelRun(report.build_id, node.name, _layer(node), now, now, fingerprint=fingerprints[node.name],
                                    inputs=inputs[node.name], outcome="current")
                           for node in nodes if node.name not in due)
        batches = [([n.name for n in nodes if n.name in due and n.name not in whole], []),
                   ([n.name for n in nodes if n.name in due and n.name in whole], ["--full-refresh"])]
        for names, options in batches:
            broken = _with_dependants(nodes, {run.model for run in report.runs if run.outcome in ("failed", "skipped")})
            report.runs.extend(ModelRun(report.build_id, name, _layer(by_name[name]), datetime.now(UTC),
                                        outcome="skipped", error="skipped: an input failed")
                               for name in names if name in broken)
            names = [name for name in names if name not in broken]
            if names:
                result = dbt.invoke(["run"], "--select", *names, *options, "--no-write-json")
                if result.exception is not None and result.result is None:
                    _record_aborted(warehouse, report, _with_memory_hint(f"dbt could not run: {result.exception}"))
                report.runs.extend(_model_runs(result, by_name, report.build_id, fingerprints, inputs, strategy))
        with warehouse.engine.begin() as conn:
            _count_rows(conn, report.runs, by_name)
            record_model_runs(conn, report.runs)
            access.refresh_views(conn, hub)  # a rebuilt mart took its department views with it
            finish_build(conn, report.build_id, "failed" if report.failed else "success", datetime.now(UTC))
        for run in report.runs:
            if run.outcome == "success":
                log.info("built %s (%s) in %.2fs, %s rows", run.model, run.strategy, run.seconds, run.rows)
        if report.failed:
            raise BuildFailed("; ".join(run.error or run.model for run in report.failed))
        return report
