"""Run one account: its connector's dlt source into ``raw_<account>``, recorded in ``ops.run_log``.

The CLI, the demo, the benchmarks and the Airflow tasks all call :func:`run_account`, so there is one
code path to trust. dlt keeps incremental state in the warehouse as well as on local disk, so a run
on a fresh Airflow worker continues where the last one stopped.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import dlt
import requests
from dlt.common.destination import Destination
from dlt.common.normalizers.json.relational import DataItemNormalizer
from dlt.common.runtime.collector import Collector, NullCollector
from dlt.extract.exceptions import ResourceExtractionError
from dlt.extract.source import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed
from pydantic import SecretStr

from channelhub.config import HubConfig, SecretRef, home
from channelhub.reconcile import due, reconcile_keys
from channelhub.run_notes import new_columns, new_notices, stream_notes, table_columns
from channelhub.tracking import pending_waybills, record_queries, todays_allowance
from connectors.sdk import Account, ChannelhubError, SourceDataError
from connectors.sdk.quarantine import Quarantine, RecordGate, Rejected, collecting
from connectors.sdk.spec import reconciling
from connectors.sdk.tracking import WaybillTracker
from warehouse import (
    StreamRun,
    Warehouse,
    WarehouseBusy,
    record_quarantine,
    record_runs,
    settle_run,
    spool_runs,
)
from warehouse.run_log import RUN, utcnow

ROOT_LOAD_ID = "_dlt_root_load_id"
log = logging.getLogger(__name__)

# channelhub resolves every secret itself (channelhub.yml: env variables or Airflow connections). dlt's
# Airflow secrets provider would instead open Airflow's metadata database in every process that runs a
# pipeline (1-4 s, and ~/airflow/airflow.db on a plain CLI run), so it stays off unless set otherwise.
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
# dlt gzips the files it hands from extract to normalize to load, then reads them back: on the same disk
# within one run that is CPU spent for nothing (10-15% of a Shopify sync in `make bench`).
os.environ.setdefault("DATA_WRITER__DISABLE_COMPRESSION", "true")
# The same for parquet's snappy: the warehouse reads the file once, moments after it was written, and
# DuckDB decodes a million uncompressed rows in about half the time (U8 full load in `make bench`).
os.environ.setdefault("DATA_WRITER__COMPRESSION", "none")
# Arrow tables bound for one table may differ in columns (deletion rows carry the key and the flag only,
# see connectors.sdk.columnar): dlt merges such schemas losslessly instead of failing the extract.
os.environ.setdefault("DATA_WRITER__ARROW_CONCAT_PROMOTE_OPTIONS", "default")
# DuckDB, embedded in the syncing process, takes 80% of the machine's memory by default and holds on to
# it while dlt merges a load. Capped, it spills to <database>.tmp; without insertion order kept, its
# inserts and merges can stream and spill (row order in raw tables means nothing to the models). Not
# everything spills: dlt de-duplicates a merge's staged rows with a window function, which needed
# ~600 MB for the 2.2M line items of a million-order Shopify sync (a 400 MB cap failed it), so the cap
# leaves room for that. Set this variable to change it.
os.environ.setdefault("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG",
                      '{"memory_limit": "1GB", "preserve_insertion_order": false}')


class RunFailed(ChannelhubError):
    """A run did not complete. What earlier runs loaded is untouched; re-running is safe."""

    def __init__(self, account: str, message: str, cause: BaseException | None = None) -> None:
        super().__init__(f"account {account!r}: {message}")
        self.account, self.cause = account, cause


@dataclass
class RunReport:
    account: str
    run_id: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    quarantined: dict[str, int] = field(default_factory=dict)  # records set aside per stream

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


SHORT_SECRET = 8  # characters; a shorter secret is masked only where it stands whole as a value


def mask(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by ``***``. A long secret goes wherever it appears. A short one
    ("a", "1234") is also a piece of ordinary words and numbers: replacing each of those would mangle the
    message and, by what went missing, give the secret away. It is masked where it stands whole as a
    value: after ``=``, ``:``, a quote or ``Bearer``, up to a delimiter."""
    if not secret:
        return text
    if len(secret) >= SHORT_SECRET:
        return text.replace(secret, "***")
    return re.sub(r"(?:(?<=[=:'\"])|(?<=Bearer )|(?<=: ))" + re.escape(secret) + r"(?=$|[\s&'\",;)\]}])",
                  "***", text)


def redact(text: str, account: Account) -> str:
    """Mask every secret value of the account in ``text``: errors end up in logs and the run log."""
    for value in account.settings.__dict__.values():
        if isinstance(value, SecretStr):
            text = mask(text, value.get_secret_value())
    return text


def pipeline_for(account: Account, warehouse: Warehouse, progress: Collector | None = None,
                 destination: Destination | None = None) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=account.pipeline_name,
        pipelines_dir=str(home() / "pipelines" / warehouse.kind),
        destination=destination or warehouse.destination(),
        dataset_name=account.dataset,
        progress=progress or NullCollector(),
    )


def stamp_nested_rows(source: DltSource) -> None:
    """Give nested rows (an order's line items, its refunds' transactions) the dlt load id of their
    root row, as ``_dlt_root_load_id``. dlt rewrites an order's nested rows whenever it loads the
    order, so their load is the order's; with it in their own table, an incremental model reads a new
    load's line items by load id instead of joining every line item to the new orders. Not named
    ``_dlt_load_id``: dlt declares that NOT NULL, which cannot be added to a table already holding rows
    (a warehouse loaded before this existed); those older rows keep NULL, and are rewritten with the
    next load of their order."""
    DataItemNormalizer.update_normalizer_config(
        source.schema, {"propagation": {"root": {"_dlt_load_id": ROOT_LOAD_ID}}})  # type: ignore[typeddict-item]


def select_streams(source: DltSource, account: Account) -> None:
    """Deselect the resources of streams the account does not load (``streams:`` in channelhub.yml), so
    a token without ``read_products`` still loads orders. A selected transformer still receives its
    parent's items; dlt only leaves the parent's table out."""
    wanted = {stream.name for stream in account.connector.streams_for(account)}
    for resource in source.resources.values():
        table = resource.table_name  # a resource feeding another stream's table (deletions) follows it
        resource.selected = (table if isinstance(table, str) else resource.name) in wanted


def _root_cause(exc: BaseException) -> BaseException:
    while isinstance(exc, PipelineStepFailed) or (exc.__cause__ and not isinstance(exc, ChannelhubError)):
        if exc.__cause__ is None:
            break
        exc = exc.__cause__
    return exc


def _failed_stream(exc: BaseException) -> str | None:
    """The resource dlt was extracting when ``exc`` happened, so an error raised below a declarative
    source (an unreadable page in dlt's own paginator) still names the stream."""
    while exc is not None:
        if isinstance(exc, ResourceExtractionError):
            return exc.pipe_name
        exc = exc.__cause__ or exc.__context__
    return None


def gate_streams(source: DltSource, account: Account) -> None:
    """Put a :class:`RecordGate` on every stream the account loads: records without their key, cursor
    or a required field, or with a value their declared type cannot hold, go to quarantine."""
    for stream in account.connector.streams_for(account):
        resource = source.resources.get(stream.name)
        if resource is not None and resource.selected:
            resource.add_step(RecordGate(account.name, stream))


def settle_pending(pipeline: dlt.Pipeline, warehouse: Warehouse, full_refresh: bool) -> str | None:
    """What an interrupted or failed run left behind, dealt with before this run extracts: its load
    package is loaded (once more), or discarded with local state rewound to the last committed load when
    that fails again or a full refresh makes it moot. dlt's ``run`` would otherwise only load it and
    return, fetching nothing new, and a package that cannot load would block the account for good."""
    if not pipeline.has_pending_data:
        return None
    if full_refresh:
        pipeline.abort_packages()
        return "discarded the load package a previous run left (full refresh)"
    try:
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as exc:
        pipeline.abort_packages()
        return (f"discarded a load package that failed again ({_describe(_root_cause(exc))}); "
                "extracted again from the last committed state")
    return "completed the load package an interrupted run left"


def _describe(cause: BaseException) -> str:
    return str(cause) if isinstance(cause, SourceDataError) else f"{type(cause).__name__}: {cause}"


def run_account(config: HubConfig, name: str, *, full_refresh: bool = False, reconcile: bool | None = None,
                progress: Collector | None = None) -> RunReport:
    """Extract, normalize and load one account. Raises :class:`RunFailed` with a clear cause; whatever
    happens, the run's row in ``ops.run_log`` says how it ended (a killed run's says ``running`` and
    reads as interrupted). ``reconcile``: whether the run also reconciles the account
    (channelhub/reconcile.py); by default when ``reconcile_every`` has passed since it last did."""
    account = config.account(name)
    settings = config.accounts[name]
    warehouse = Warehouse(config.warehouse_url)
    try:
        with warehouse.exclusive(f"channelhub run {name}"):
            if reconcile is None:
                reconcile = not full_refresh and due(warehouse, name, settings.reconcile_every, utcnow())
            lookback = settings.reconcile_lookback.total_seconds() if reconcile else None
            return _run(account, warehouse, full_refresh, lookback, progress, credentials_hint(settings.secrets))
    except WarehouseBusy as exc:  # no row can be written to the file now: it waits beside it
        now = utcnow()
        spool_runs(warehouse, [StreamRun(uuid.uuid4().hex, name, account.connector.name, RUN, now, now, 0, "failed",
                                         full_refresh, str(exc), **_here())])
        raise RunFailed(name, str(exc), exc) from exc


def credentials_hint(secrets: dict[str, SecretRef]) -> str:
    """Where an account's credentials come from, for the error that says they were rejected."""
    places = [" or ".join(filter(None, (ref.env, ref.airflow_conn_id and f"the Airflow connection {ref.airflow_conn_id}")))
              for ref in secrets.values()]
    return "check " + ("; ".join(places) if places else "the account's settings")


def _rejected(cause: BaseException) -> int | None:
    """The status of an answer that refused our credentials (401, 403), if that is what failed."""
    response = getattr(cause, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(cause, requests.HTTPError) and status in (401, 403) else None


def _here() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _run(account: Account, warehouse: Warehouse, full_refresh: bool, lookback: float | None,
         progress: Collector | None, hint: str) -> RunReport:
    """The run; ``lookback`` (seconds) when it reconciles."""
    name = account.name
    report = RunReport(account=name, run_id=uuid.uuid4().hex)
    started, clock = utcnow(), time.perf_counter()
    row = partial(StreamRun, report.run_id, name, account.connector.name)
    here = _here()
    record_runs(warehouse, [row(RUN, started, started, 0, "running", full_refresh, **here)])
    quarantine, notes, added, reconciled = Quarantine(), [], {}, []
    try:
        with warehouse.loading() as destination, collecting(quarantine):
            pipeline = pipeline_for(account, warehouse, progress, destination)
            if isinstance(account.connector, WaybillTracker):  # first: a full refresh it refuses drops nothing
                account = replace(account, waybills=pending_waybills(warehouse, account, full_refresh))
                account = replace(account, allowance=todays_allowance(warehouse, account, full_refresh))
            if (settled := settle_pending(pipeline, warehouse, full_refresh)) is not None:
                notes.append(settled)
            with reconciling(lookback) if lookback is not None else nullcontext():
                source = account.connector.source(account)
            select_streams(source, account)
            gate_streams(source, account)
            stamp_nested_rows(source)
            before = table_columns(pipeline)
            pipeline.run(source, loader_file_format=warehouse.loader_file_format,
                         refresh="drop_sources" if full_refresh else None)
            added = {} if full_refresh else new_columns(before, table_columns(pipeline))
            if lookback is not None:
                reconciled = reconcile_keys(account, pipeline, warehouse)
    except BaseException as exc:
        record_queries(warehouse, account)
        cause = _root_cause(exc)
        message = _describe(cause)
        stream = _failed_stream(exc)
        if stream and not isinstance(cause, SourceDataError):
            message = f"stream {stream!r}: {message}"
        if (status := _rejected(cause)) is not None:
            message = f"{message}; credentials rejected (HTTP {status}): {hint}"
        message = redact(message, account)
        finished = utcnow()
        record_quarantine(warehouse, report.run_id, finished, redacted(quarantine, account))
        settle_run(warehouse, row(RUN, started, finished, 0, "failed", full_refresh, message,
                                  len(quarantine.rejected), "; ".join(notes) or None, **here), [])
        if not isinstance(exc, Exception):
            raise  # interrupted (Ctrl-C, the task's timeout): recorded, and not turned into a failure
        raise RunFailed(name, message, cause) from exc
    record_queries(warehouse, account)
    report.seconds = time.perf_counter() - clock
    report.rows = extracted_rows(pipeline)
    report.quarantined = dict(quarantine.counts())
    finished = utcnow()
    for columns in added.values():
        log.warning("account %r: new columns %s (loaded; see ops.run_log)", name, ", ".join(columns))
    record_quarantine(warehouse, report.run_id, finished, redacted(quarantine, account))
    streams = sorted(set(report.rows) | {stream.name for stream in account.connector.streams_for(account)})
    notes_of = stream_notes(added, reconciled, new_notices(warehouse, name, quarantine.notices))
    first_load = not before
    settle_run(warehouse, row(RUN, started, finished, 0, "success", full_refresh,
                              quarantined=len(quarantine.rejected), note="; ".join(notes) or None,
                              reconciled=lookback is not None or full_refresh or first_load, **here), [
        row(stream, started, finished, report.rows.get(stream, 0), "success", full_refresh,
            quarantined=report.quarantined.get(stream, 0), note=notes_of.get(stream))
        for stream in streams
    ])
    return report


def redacted(quarantine: Quarantine, account: Account) -> list[Rejected]:
    return [replace(item, excerpt=redact(item.excerpt, account), reason=redact(item.reason, account))
            for item in quarantine.rejected]


def extracted_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Records each stream handed over in this run, counted by the extract step.

    Normalize counts are not used: dlt 1.31's CSV writer (our PostgreSQL loader format) counts cells,
    not rows. Child tables (``orders__line_items``, nested by dlt or split by the connector) are
    derived from these records and not counted as streams."""
    info = pipeline.last_trace.last_extract_info if pipeline.last_trace else None
    counts: dict[str, int] = {}
    for metrics in (info.metrics.values() if info else ()):
        for step in metrics:
            for table, writer in step["table_metrics"].items():
                if not table.startswith("_dlt") and "__" not in table:
                    counts[table] = counts.get(table, 0) + writer.items_count
    return dict(sorted(counts.items()))
