"""When a stock push must not happen, and why, in words an operator can act on.

Two kinds of guard:

* :func:`readiness_problems` (whole hub, never overridable): the numbers behind ``allocated_quantity``
  are only trusted when every enabled account's last ingest ran to its end and succeeded, the last
  build ran to its end with no failed model, and the last quality run passed on that very build.
  Pushing stock computed from a half-loaded ERP, or from marts half rebuilt, would zero a shop.
* :func:`guardrail_problems` (per channel, ``--force`` overrides), both ways. Down: a push that would
  zero more than ``max_zeroed_share`` of a channel's levels, or cut any level that stays above 0 by
  more than ``max_drop_fraction`` of what the channel holds. Levels going to 0 are judged by the first
  rule only; otherwise every sell-out (1 -> 0 is a 100 % drop) would block the channel. Up: a push
  that would raise more than ``max_raised_share`` of its levels more than ``max_raise_factor``-fold,
  or its total units by more than ``max_total_raise_fraction`` (a stock feed duplicated or scaled by
  ten). Levels rising from 0 (a restock) are judged by the total only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from warehouse import Warehouse, as_utc, last_runs
from warehouse.builds import last_build

if TYPE_CHECKING:
    from channelhub.config import HubConfig

    from .policy import StockPolicy

MART = ("marts", "rpt_stock_availability")
EXAMPLES = 5


@dataclass(frozen=True)
class LevelDiff:
    """One level whose target differs from what we believe the channel holds (``old``; None: unknown)."""

    sku: str
    location_id: str
    item_id: str
    old: int | None
    new: int


def readiness_problems(hub: HubConfig, warehouse: Warehouse) -> list[str]:
    """Every reason the warehouse's stock figures cannot be trusted right now (empty: go)."""
    with warehouse.engine.connect() as conn:  # one connection for every record read
        problems = _ingest_problems(hub, warehouse, conn)
        build = _last_build(warehouse, conn)
        quality = _last_quality_run(warehouse, conn)
        mart_exists = warehouse.table_exists(*MART, conn)
    if build is None:
        problems.append("no build recorded in ops.builds (run `channelhub build`)")
    elif build.outcome in ("running", "interrupted"):
        problems.append(f"the last build {build.build_id} ({build.started_at:%Y-%m-%d %H:%M}Z) "
                        + ("is still running" if build.outcome == "running" else
                           "did not finish (interrupted): the marts may mix two builds; run `channelhub build`"))
    elif build.failed_models:
        problems.append(f"the last build {build.build_id} failed: {', '.join(build.failed_models)}")
    if quality is None:
        problems.append("no quality run recorded in ops.quality_runs (run `channelhub validate`)")
    elif not quality.success:
        problems.append(f"the last quality run {quality.run_id} ({quality.finished_at:%Y-%m-%d %H:%M}Z) failed "
                        f"with {quality.critical_failures} critical failure(s)")
    elif build is not None and (quality.build_id != build.build_id if quality.build_id
                                else quality.started_at < build.finished_at):
        problems.append(f"the last quality run {quality.run_id} ({quality.started_at:%Y-%m-%d %H:%M}Z) validated "
                        f"{'build ' + quality.build_id if quality.build_id else 'an earlier build'}, not the last "
                        f"build {build.build_id}: validate the new marts (`channelhub validate`)")
    if not mart_exists:
        problems.append(f"{'.'.join(MART)} does not exist (run `channelhub build`)")
    return problems


def override_problems(policy: StockPolicy, warehouse: Warehouse) -> tuple[list[str], list[str]]:
    """(errors, warnings) about ``stock.overrides`` against the catalogue the marts hold: an override
    naming a SKU no source knows is an error (a typo would silently apply nothing); one naming a SKU that
    has no stock yet is a warning (it applies once stock arrives). Nothing to say before a first build."""
    if not policy.overrides:
        return [], []
    with warehouse.engine.connect() as conn:
        if not (warehouse.table_exists("marts", "dim_products", conn)
                and warehouse.table_exists("marts", "fct_inventory", conn)):
            return [], []
        known = set(conn.execute(sa.text("select product_id from marts.dim_products")).scalars())
        stocked = set(conn.execute(sa.text("select distinct product_id from marts.fct_inventory "
                                           "where product_id is not null")).scalars())
    errors, warnings = [], []
    for i, override in enumerate(policy.overrides):
        if override.sku not in known:
            errors.append(f"stock.overrides[{i}].sku: {override.sku!r} is a SKU no source knows "
                          "(not in marts.dim_products): a typo?")
        elif override.sku not in stocked:
            warnings.append(f"stock.overrides[{i}].sku: {override.sku!r} has no stock yet "
                            "(not in marts.fct_inventory); the override applies once it has")
    return errors, warnings


def guardrail_problems(policy: StockPolicy, diffs: Sequence[LevelDiff], levels: int, held: int = 0,
                       allocated: int = 0) -> list[str]:
    """Why this channel's push looks like bad data rather than trade (empty: go). ``held`` and
    ``allocated``: units over all the channel's levels, as it holds them and as the push would set them."""
    problems = []
    raised = [d for d in diffs if d.old and d.new > d.old * policy.max_raise_factor]
    if levels and len(raised) / levels > policy.max_raised_share:
        problems.append(f"{len(raised)} of {levels} levels ({len(raised) / levels:.0%}) would rise more than "
                        f"{policy.max_raise_factor:g}-fold, more than max_raised_share {policy.max_raised_share:.0%} "
                        f"(e.g. {_examples(raised)})")
    if held and (allocated - held) / held > policy.max_total_raise_fraction:
        problems.append(f"the channel's total would rise from {held:,} to {allocated:,} units "
                        f"(+{(allocated - held) / held:.0%}), more than max_total_raise_fraction "
                        f"{policy.max_total_raise_fraction:.0%}: a duplicated or mis-scaled stock feed?")
    zeroed = [d for d in diffs if d.new == 0 and (d.old or 0) > 0]
    if levels and len(zeroed) / levels > policy.max_zeroed_share:
        problems.append(f"{len(zeroed)} of {levels} levels ({len(zeroed) / levels:.0%}) would drop to 0, more than "
                        f"max_zeroed_share {policy.max_zeroed_share:.0%} (e.g. {_examples(zeroed)})")
    falls = [d for d in diffs if d.new > 0 and d.old and (d.old - d.new) / d.old > policy.max_drop_fraction]
    if falls:
        problems.append(f"{len(falls)} level(s) would fall by more than max_drop_fraction "
                        f"{policy.max_drop_fraction:.0%} (e.g. {_examples(falls)})")
    return problems


def _examples(diffs: Sequence[LevelDiff]) -> str:
    shown = ", ".join(f"{d.sku} {d.old}->{d.new}" for d in diffs[:EXAMPLES])
    return shown + (f", ... {len(diffs) - EXAMPLES} more" if len(diffs) > EXAMPLES else "")


def _ingest_problems(hub: HubConfig, warehouse: Warehouse, conn: sa.Connection) -> list[str]:
    """Every enabled account's last ingest must have run to its end and succeeded: a run still going or
    killed half-way leaves raw tables a mix of two states, however successful the run before it was."""
    runs = {row["account"]: row for row in last_runs(warehouse, conn)}
    problems = []
    for name in hub.enabled_accounts():
        run = runs.get(name)
        if run is None:
            problems.append(f"account {name!r} has never been loaded")
        elif run["state"] == "failed":
            problems.append(f"account {name!r}: the last ingest run failed ({(run['error'] or 'see ops.run_log')[:200]})")
        elif run["state"] in ("running", "interrupted"):
            problems.append(f"account {name!r}: the last ingest run "
                            + ("is still running" if run["state"] == "running" else
                               f"did not finish (interrupted); run `channelhub run {name}`"))
    return problems


@dataclass(frozen=True)
class _Build:
    build_id: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    failed_models: list[str]


@dataclass(frozen=True)
class _QualityRun:
    run_id: str
    started_at: datetime
    finished_at: datetime
    success: bool
    critical_failures: int
    build_id: str | None


def _last_build(warehouse: Warehouse, conn: sa.Connection) -> _Build | None:
    build = last_build(conn)
    if build is None:
        return None
    failed: list[str] = []
    if warehouse.table_exists("ops", "build_log", conn):
        failed = sorted(conn.execute(sa.text("select model from ops.build_log where build_id = :build and "
                                             "outcome = 'failed'"), {"build": build.build_id}).scalars())
    return _Build(build.build_id, as_utc(build.started_at), as_utc(build.finished_at or build.started_at), build.outcome,
                  failed)


def _last_quality_run(warehouse: Warehouse, conn: sa.Connection) -> _QualityRun | None:
    if not warehouse.table_exists("ops", "quality_runs", conn):
        return None
    row = conn.execute(sa.text("""
        select run_id, started_at, finished_at, success, critical_failures, build_id from ops.quality_runs
        order by started_at desc limit 1""")).first()
    if row is None:
        return None
    return _QualityRun(str(row.run_id), as_utc(row.started_at), as_utc(row.finished_at), bool(row.success),
                       int(row.critical_failures or 0), row.build_id)
