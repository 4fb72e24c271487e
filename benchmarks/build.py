"""``make bench``: time to build every model for 1M orders on DuckDB, full and after 1% new orders, and
to validate the result.

Baseline, in the same run: the same compiled SQL of every model executed directly with DuckDB, one
``create or replace`` per model in dependency order (what the models cost without dbt), so dbt's
overhead is a ratio. The quality gates run in a child process, whose peak memory is theirs alone.

Loading a million orders through the Shopify emulator would measure ingest again (benchmarks/ingest.py
does that), so this script loads a 10k-order merchant through the sandboxes once and then multiplies
its raw tables in place with DuckDB: each copy gets fresh ids (orders, lines, refunds, Stripe charges
that pay them, store receipts), so the marts see 1M distinct orders of the same shape. The "1% new
orders" step adds one more copy under a newer dlt load id, exactly as a new incremental load would.
Sizes: ``BENCH_BUILD_ORDERS=200000 make bench`` for a quick look.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
import yaml

from benchmarks import line, peak_mb, reset_peak

BUILD_ORDERS = int(os.environ.get("BENCH_BUILD_ORDERS", "1000000"))
BASE_ORDERS = 10_000
ID_STEP = 10_000_000_000_000  # larger than any generated id: copy k adds k * ID_STEP
NUMERIC_IDS = {"id", "order_id", "line_item_id", "refund_id"}
TEXT_IDS = {"_dlt_id", "_dlt_parent_id", "_dlt_root_id", "charge", "payment_intent", "receipt_no", "row_key",
            "source_file"}
SHOPIFY_TABLES = ("orders", "orders__line_items", "orders__shipping_lines", "orders__refunds",
                  "orders__refunds__transactions", "orders__refunds__refund_line_items")


def _copy_expression(column: str, data_type: str) -> str | None:
    """How copy ``k`` rewrites ``column`` so that every key stays unique and every link still joins."""
    if column in NUMERIC_IDS and data_type == "BIGINT":
        return f"{column} + k * {ID_STEP}"
    if column == "metadata__order_id":
        return f"cast(cast({column} as bigint) + k * {ID_STEP} as varchar)"
    if column in TEXT_IDS or (column == "id" and data_type == "VARCHAR"):
        return f"{column} || '~' || k"
    return None


def multiply(conn: sa.Connection, schema: str, table: str, copies: range, load_id: str | None = None) -> None:
    """Insert ``copies`` of the rows of ``<schema>.<table>`` as they were before the first copy."""
    columns = conn.execute(sa.text("select column_name, data_type from information_schema.columns "
                                   "where table_schema = :s and table_name = :t"), {"s": schema, "t": table}).all()
    rewrites = {name: expr for name, kind in columns if (expr := _copy_expression(name, kind))}
    for stamped in ("_dlt_load_id", "_dlt_root_load_id"):  # a root's load, and the one its nested rows carry
        if load_id and any(name == stamped for name, _ in columns):
            rewrites[stamped] = f"'{load_id}'"
    replace = ", ".join(f"{expr} as {name}" for name, expr in rewrites.items())
    original = ("_dlt_id not like '%~%'" if any(name == "_dlt_id" for name, _ in columns)
                else f"abs(id) < {ID_STEP}")  # the connector's child tables have no dlt row id
    conn.execute(sa.text(f"create temp table base as select * from {schema}.{table} where {original}"))
    conn.execute(sa.text(f"insert into {schema}.{table} select * exclude (k) replace ({replace}) "
                         f"from base, range({copies.start}, {copies.stop}) as copies(k)"))
    conn.execute(sa.text("drop table base"))


def load_base(workdir: Path) -> Path:
    """Load a 10k-order merchant from the sandboxes, as ``make demo`` would; returns its config."""
    from channelhub.config import load_config
    from channelhub.fleet import Fleet, move_sandbox
    from channelhub.runner import run_account

    shipped = yaml.safe_load(Path("channelhub.yml").read_text(encoding="utf-8"))
    shipped["warehouse"]["url"] = f"duckdb:///{workdir}/build.duckdb"
    shipped["sandbox"].update(orders=BASE_ORDERS, skus=400, customers=3_000)
    ports = iter(range(18701, 18799))
    for account in shipped["accounts"].values():
        if "base_url" in account["settings"]:
            move_sandbox(account["settings"], next(ports))
    shipped["accounts"]["erp_u8"]["settings"]["url"] = f"sqlite:///{workdir}/u8.sqlite"
    shipped["accounts"]["erp_gjp"]["settings"]["url"] = f"sqlite:///{workdir}/guanjiapo.sqlite"
    shipped["accounts"]["store_files"]["settings"]["folder"] = str(workdir / "dropzone")
    path = workdir / "channelhub.yml"
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    hub = load_config(path)
    with Fleet(hub):
        for name in hub.enabled_accounts():
            run_account(hub, name)
    return path


def prepare_raw(workdir: Path, copies: int) -> None:
    """The raw tables of ``copies`` × 10k orders in ``workdir``, ready to build."""
    from channelhub.config import load_config

    multiply_merchant(load_config(load_base(workdir)), range(1, copies))


def multiply_merchant(hub: object, copies: range, load_id: str | None = None) -> None:
    from warehouse import Warehouse

    engine = Warehouse(hub.warehouse_url).engine  # type: ignore[attr-defined]
    targets = [(f"raw_{name}", table) for name in hub.enabled_accounts()  # type: ignore[attr-defined]
               for table in {"shopify": SHOPIFY_TABLES, "stripe": ("charges", "refunds"),
                             "spreadsheet": ("offline_sales",)}.get(hub.accounts[name].connector, ())]  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for schema, table in targets:
            multiply(conn, schema, table, copies, load_id)
        if load_id:  # dlt records every completed load; a build looks there for what is new
            for schema in sorted({schema for schema, _ in targets}):
                conn.execute(sa.text(f"insert into {schema}._dlt_loads (load_id, schema_name, status, inserted_at, "
                                     f"schema_version_hash) select :load_id, schema_name, 0, now(), "
                                     f"schema_version_hash from {schema}._dlt_loads order by load_id desc limit 1"),
                             {"load_id": load_id})


def scalar(hub: object, sql: str) -> int:
    from warehouse import Warehouse

    with Warehouse(hub.warehouse_url).engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(sa.text(sql)).scalar_one()


def timed_build(hub: object, **kwargs: object) -> tuple[float, dict[str, str], str]:
    """(wall seconds, strategy per model, the slowest models as text)."""
    import transforms

    started = time.perf_counter()
    report = transforms.build(hub, **kwargs)  # type: ignore[arg-type]
    slowest = sorted(report.runs, key=lambda run: run.seconds, reverse=True)[:4]
    return (time.perf_counter() - started, {run.model: run.strategy or "-" for run in report.runs},
            ", ".join(f"{run.model} {run.seconds:.1f}" for run in slowest))


def plain_sql_build(hub: object) -> float:
    """The baseline: every model's compiled SQL run straight on DuckDB, in dependency order."""
    from transforms.project import DEFAULT_MEMORY, MEMORY_VARIABLE, Dbt, configured_connectors
    from warehouse import Warehouse

    warehouse = Warehouse(hub.warehouse_url)  # type: ignore[attr-defined]
    dbt = Dbt.for_warehouse(warehouse, hub.home, configured_connectors(hub))  # type: ignore[arg-type,attr-defined]
    # --full-refresh: the incremental models' whole SQL, not the filter of an incremental run
    compiled = {item.node.name: item.node for item in dbt.invoke(["compile", "--full-refresh"]).result.results}
    started = time.perf_counter()
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text(f"set memory_limit = '{os.environ.get(MEMORY_VARIABLE, DEFAULT_MEMORY)}'"))
        conn.execute(sa.text("set preserve_insertion_order = false"))  # as transforms/profiles.yml
        for node in dbt.models():
            kind = "view" if node.config.materialized == "view" else "table"
            conn.execute(sa.text(f"create or replace {kind} {node.schema}.{node.name}__plain as "
                                 f"{compiled[node.name].compiled_code}"))
    seconds = time.perf_counter() - started
    with warehouse.engine.begin() as conn:  # a copy of every mart is no part of a merchant's warehouse
        for node in reversed(dbt.models()):
            kind = "view" if node.config.materialized == "view" else "table"
            conn.execute(sa.text(f"drop {kind} {node.schema}.{node.name}__plain"))
    return seconds


def timed_validate(config: Path) -> tuple[float, float]:
    """(seconds, peak MB) of ``channelhub validate`` in its own process."""
    code = ("import sys, time; from benchmarks import peak_mb; from channelhub.config import load_config; "
            "import expectations; t = time.perf_counter(); r = expectations.validate(load_config(sys.argv[1])); "
            "print(*(f'{o.table_name}.{o.column_name} {o.expectation}: {o.observed}' for o in r.critical), sep='\\n'); "
            "print(time.perf_counter() - t, peak_mb(), len(r.outcomes), len(r.critical))")
    done = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True)
    *failures, figures = done.stdout.strip().splitlines()
    seconds, peak, checks, critical = figures.split()
    line("quality gates: checks, critical failures", f"{checks}, {critical} {'; '.join(failures)}")
    return float(seconds), float(peak)


def main() -> None:
    from channelhub.config import load_config

    copies = max(1, BUILD_ORDERS // BASE_ORDERS)
    print(f"Build: every model for {copies * BASE_ORDERS:,} orders on DuckDB, full and after 1% new orders",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="channelhub-bench-build-") as tmp:
        workdir = Path(tmp)
        os.environ["CHANNELHUB_HOME"] = str(workdir / "home")
        started = time.perf_counter()
        # in a child process: the sandboxes and pipelines it holds would count in the builds' memory
        prepare = "import sys, pathlib, benchmarks.build as b; b.prepare_raw(pathlib.Path(sys.argv[1]), int(sys.argv[2]))"
        subprocess.run([sys.executable, "-c", prepare, str(workdir), str(copies)], check=True)
        config = workdir / "channelhub.yml"
        hub = load_config(config)
        orders = scalar(hub, "select count(*) from raw_shop_us.orders") + \
            scalar(hub, "select count(*) from raw_shop_eu.orders")
        lines = scalar(hub, "select count(*) from raw_shop_us.orders__line_items") + \
            scalar(hub, "select count(*) from raw_shop_eu.orders__line_items")
        line("raw data prepared (10k orders loaded, then multiplied)", f"{time.perf_counter() - started:.1f} s")
        line("web orders / order lines in raw", f"{orders:,} / {lines:,}")

        reset_peak()  # the builds' memory, not the loading's or the baseline's
        full, _, slowest = timed_build(hub)
        line("full build of every model (first build)", f"{full:.1f} s ({slowest})")
        peaks = [peak_mb()]
        plain = plain_sql_build(hub)
        line("baseline: the same SQL run directly (no dbt)", f"{plain:.1f} s (dbt build = {full / plain:.2f}x)")
        line("fct_orders / fct_order_lines rows", f"{scalar(hub, 'select count(*) from marts.fct_orders'):,} / "
             f"{scalar(hub, 'select count(*) from marts.fct_order_lines'):,}")

        newest = scalar(hub, "select max(_dlt_load_id) from raw_shop_us.orders")
        multiply_merchant(hub, range(copies, copies + max(1, copies // 100)), load_id=f"{float(newest) + 60:.6f}")
        reset_peak()
        incremental, strategies, slowest = timed_build(hub)
        rebuild, _, _ = timed_build(hub, full_refresh=True)
        peaks.append(peak_mb())
        line("build after 1% new orders (facts incremental)", f"{incremental:.1f} s ({incremental / rebuild:.0%} of "
             f"a full rebuild; fct_orders built {strategies['fct_orders']}; slowest: {slowest})")
        line("full rebuild of the same data (--full-refresh)", f"{rebuild:.1f} s")
        line("peak memory of the builds (dbt and DuckDB in this process)", f"{max(peaks):,.0f} MB")
        seconds, peak = timed_validate(config)
        line("validate (every raw table and mart, in the warehouse)", f"{seconds:.1f} s, peak {peak:,.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
