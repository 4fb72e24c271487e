"""``channelhub``: the command line ops and integration engineers use (and the demo runs)."""

from __future__ import annotations

import logging
import shlex
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.table import Table

from channelhub.config import HubConfig, load_config
from channelhub.scaffold import STYLES, NewConnector
from connectors.sdk import ChannelhubError, Connector, ConnectorKind, available_connectors

# Typer 0.29 prints a flag's type beside it ("--force <bool>"), as if it took a value: a flag takes none.
_option_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = (  # type: ignore[method-assign]
    lambda option, ctx: None if option.is_bool_flag else _option_type(option, ctx))

app = typer.Typer(help="channelhub: one warehouse for every channel, payment provider and ERP.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
connectors_app = typer.Typer(help="Installed connectors.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Local API emulators.", no_args_is_help=True)
alerts_app = typer.Typer(help="Reminders and alerts: what needs a person now (ops.alerts).")
app.add_typer(connectors_app, name="connectors")
app.add_typer(connectors_app, name="connector", hidden=True)  # `channelhub connector new acme` reads better
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(alerts_app, name="alerts")
# In a terminal rich fits tables to its width; written to a log or a pipe, they keep their columns whole
# instead of being squeezed to 80 characters and cut with "…".
console = Console(width=None if sys.stdout.isatty() else 200)
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="Path to channelhub.yml.")]


def _config(path: Path | None) -> HubConfig:
    return load_config(path)


def _fail(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(1)


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version

        console.print(f"channelhub {version('channelhub')}")
        raise typer.Exit


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens (INFO).")] = False,
         _: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                         help="Print the version and exit.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@connectors_app.command("list")
def connectors_list() -> None:
    """Connectors found through the channelhub.connectors entry points."""
    table = Table("connector", "kind", "streams (primary key · cursor)", "stock write-back")
    for name, connector in available_connectors().items():
        streams = "\n".join(
            f"{s.name} ({', '.join(s.primary_key)} · {s.cursor.field if s.cursor else s.write_disposition})"
            for s in connector.streams)
        writes = ("yes" if type(connector).stock_writer is not Connector.stock_writer else
                  "mirror" if type(connector).mirror_writer is not Connector.mirror_writer else "-")
        table.add_row(name, connector.kind.value, streams, writes)
    console.print(table)


@connectors_app.command("new")
def connectors_new(
    name: Annotated[str, typer.Argument(help="The connector's one name: package, entry points, raw tables, models.")],
    kind: Annotated[ConnectorKind, typer.Option(help="What the source is.")] = ConnectorKind.OTHER,
    style: Annotated[str, typer.Option(help="Template: " + "; ".join(
        f"{style} ({what})" for style, what in STYLES.items()) + ".")] = "rest",
    root: Annotated[Path, typer.Option(help="The project to add it to.")] = Path("."),
) -> None:
    """Generate a connector, its sandbox, tests and README; it passes the contract before any edit."""
    try:
        written = NewConnector(name, kind, style).write(root)
    except ChannelhubError as exc:
        _fail(exc)
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"next: make env (registers the entry points), then pytest tests/connectors/test_{name}.py")


@app.command()
def check(account: Annotated[str | None, typer.Argument(help="Account name; all when omitted.")] = None,
          config: ConfigOption = None) -> None:
    """Validate the config and test credentials and reachability."""
    try:
        hub = _config(config)
        names = [account] if account else hub.enabled_accounts()
        failed = False
        for name in names:
            acct = hub.account(name)
            result = acct.connector.check(acct)
            failed |= not result.ok
            mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
            console.print(f"{mark} {name} ({acct.connector.name}): {result.detail}")
    except ChannelhubError as exc:
        _fail(exc)
    if failed:
        raise typer.Exit(1)


@app.command()
def run(account: Annotated[str, typer.Argument(help="Account name from channelhub.yml.")],
        full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Drop state and reload.")] = False,
        config: ConfigOption = None) -> None:
    """Load one account into raw_<account>."""
    from channelhub.progress import RichCollector
    from channelhub.runner import run_account

    try:
        report = run_account(_config(config), account, full_refresh=full_refresh,
                             progress=RichCollector(console, account))
    except ChannelhubError as exc:
        _fail(exc)
    console.print(f"[green]loaded[/] {account}: {report.total_rows:,} rows in {report.seconds:.1f}s")
    for table, rows in report.rows.items():
        aside = report.quarantined.get(table)
        console.print(f"  {table}: {rows:,}" + (f" [yellow]({aside:,} quarantined: see ops.quarantine)[/]" if aside else ""))


@app.command()
def build(select: Annotated[list[str] | None, typer.Option("--select", "-s", help="dbt selector: a model, "
                                                             "`fct_orders+` (and what depends on it), `marts`... "
                                                             "(repeatable).")] = None,
          full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental facts whole.")] = False,
          config: ConfigOption = None) -> None:
    """Build the dbt models (staging → intermediate → marts) from the raw tables."""
    import transforms

    try:
        report = transforms.build(_config(config), select=select, full_refresh=full_refresh)
    except ChannelhubError as exc:
        _fail(exc)
    table = Table("model", "layer", "built as", "rows", "seconds", title=f"build {report.build_id}")
    for run in report.runs:
        built_as = "current (nothing new)" if run.outcome == "current" else run.strategy or run.outcome
        table.add_row(run.model, run.layer, built_as, "-" if run.rows is None else f"{run.rows:,}", f"{run.seconds:.2f}")
    console.print(table)
    console.print(f"[green]built[/] {len(report.built)} models in {report.seconds:.1f}s "
                  f"({len(report.runs) - len(report.built)} current); BI reads schema marts")


@app.command()
def docs(config: ConfigOption = None) -> None:
    """Publish the model docs (dbt docs: lineage, SQL, each mart's contract) as one offline HTML file."""
    import transforms

    try:
        index = transforms.publish_docs(_config(config))
    except ChannelhubError as exc:
        _fail(exc)
    console.print(f"model docs: {index}", soft_wrap=True)


@app.command()
def status(config: ConfigOption = None) -> None:
    """Last run and freshness per account, from ops.run_log."""
    from warehouse import Warehouse, as_utc, last_runs
    from warehouse.builds import last_build

    try:
        hub = _config(config)
        warehouse = Warehouse(hub.warehouse_url)
        with warehouse.exclusive("channelhub status"), warehouse.engine.connect() as conn:
            runs = {row["account"]: row for row in last_runs(warehouse, conn)}
            build = last_build(conn)
    except ChannelhubError as exc:
        _fail(exc)
    table = Table("account", "connector", "last run", "outcome", "rows", "last success", "age")
    now = datetime.now(UTC)
    for name, acct in sorted(hub.accounts.items()):
        row = runs.get(name)
        if row is None:
            table.add_row(name, acct.connector, "never", "-", "-", "-", "-")
            continue
        success = row["last_success_at"]
        age = "-" if success is None else _age(now - as_utc(success))
        outcome = STATE_STYLE[row["state"]]
        table.add_row(name, acct.connector, f"{as_utc(row['last_run_at']):%Y-%m-%d %H:%M}Z", outcome,
                      f"{int(row['rows_loaded']):,}", "-" if success is None else f"{as_utc(success):%Y-%m-%d %H:%M}Z",
                      age)
    console.print(table)
    if build is not None:
        console.print(f"last build {build.build_id}: {STATE_STYLE[build.outcome]}, started "
                      f"{as_utc(build.started_at):%Y-%m-%d %H:%M}Z")


@app.command()
def report(out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write it (default: "
                                                     "<home>/report/index.html).")] = None,
           days: Annotated[int, typer.Option("--days", min=1, help="Sales and SKUs over the last DAYS days.")] = 90,
           config: ConfigOption = None) -> None:
    """Write one self-contained HTML report (works offline): sales, top SKUs, stock cover and exposure,
    reconciliation exceptions, freshness, stock pushes, open alerts."""
    from channelhub.report import write_report

    try:
        path = write_report(_config(config), out, days=days)
    except ChannelhubError as exc:
        _fail(exc)
    console.print(f"report: {path.resolve()}", soft_wrap=True)


@app.command()
def access(show: Annotated[bool, typer.Option("--show", help="Print what each department reads; change nothing.")] = False,
           config: ConfigOption = None) -> None:
    """Create or update the department roles on a PostgreSQL warehouse (access: in channelhub.yml): each
    reads only the views of its schema bi_<department>, customers' PII masked unless it needs it."""
    from transforms.access import apply_access, describe

    try:
        hub = _config(config)
        if not show:
            apply_access(hub)
        rows = describe(hub)
    except ChannelhubError as exc:
        _fail(exc)
    table = Table("department", "role", "schema", "marts", "customer PII",
                  title="department access" + (" (nothing changed)" if show else " (applied)"))
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@app.command()
def metabase(url: Annotated[str, typer.Option(help="Metabase's address.", envvar="METABASE_URL")] = "http://127.0.0.1:3000",
             wait: Annotated[int, typer.Option(help="Seconds to wait for Metabase to start.")] = 600) -> None:
    """Pre-wire Metabase: first-run setup (admin from METABASE_ADMIN_EMAIL / METABASE_ADMIN_PASSWORD) and
    the warehouse registered through the read-only role of CHANNELHUB_BI_URL; safe to run on every start."""
    import os

    from channelhub.metabase import MetabaseAdmin, connect_metabase

    missing = [name for name in ("METABASE_ADMIN_EMAIL", "METABASE_ADMIN_PASSWORD", "CHANNELHUB_BI_URL")
               if not os.environ.get(name)]
    if missing:
        _fail(ChannelhubError(f"set {', '.join(missing)}"))
    try:
        done = connect_metabase(url, MetabaseAdmin(os.environ["METABASE_ADMIN_EMAIL"], os.environ["METABASE_ADMIN_PASSWORD"]),
                                os.environ["CHANNELHUB_BI_URL"], wait=wait)
    except ChannelhubError as exc:
        _fail(exc)
    console.print(f"metabase: {done}")


@app.command("validate")
def validate_command(config: ConfigOption = None) -> None:
    """Run the quality gates on raw tables and marts; exit 1 on a critical failure."""
    from expectations import CRITICAL, validate

    try:
        report = validate(_config(config))
    except ChannelhubError as exc:
        _fail(exc)
    if report.critical or report.warnings:
        table = Table("severity", "table", "column", "expectation", "observed", "details",
                      title="quality failures")
        for outcome in report.critical + report.warnings:
            severity = "[red]critical[/]" if outcome.severity == CRITICAL else "[yellow]warning[/]"
            table.add_row(severity, outcome.table_name, outcome.column_name or "-", outcome.expectation,
                          outcome.observed or "-", outcome.details or "-")
        console.print(table)
    verdict = "[green]passed[/]" if report.ok else "[red]FAILED[/]"
    console.print(f"{verdict}: {len(report.critical)} critical, {len(report.warnings)} warning(s) in "
                  f"{len(report.outcomes)} checks (run {report.run_id}, in ops.quality_results)")
    console.print(f"Data Docs: {report.docs_index or 'not built (no table could be read)'}", soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


STATE_STYLE = {"success": "[green]success[/]", "failed": "[red]failed[/]", "running": "[cyan]running[/]",
               "interrupted": "[red]interrupted[/]"}


def _age(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


@app.command("sync-stock")
def sync_stock_command(
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff; push and record nothing.")] = False,
        force: Annotated[bool, typer.Option("--force", help="Push past the zeroed-share and drop guardrails.")] = False,
        account: Annotated[list[str] | None, typer.Option("--account", "-a",
                                                          help="Only this channel or mirror (repeatable).")] = None,
        config: ConfigOption = None) -> None:
    """Push allocated stock (marts.rpt_stock_availability) to the channels of stock.channels, and mirror the
    allocations to stock.mirrors."""
    from channelhub.stock import sync_stock
    from channelhub.stock.report import render_sync

    try:
        report = sync_stock(_config(config), dry_run=dry_run, force=force, accounts=account)
    except ChannelhubError as exc:
        _fail(exc)
    render_sync(console, report)
    if not report.ok:
        raise typer.Exit(1)


@alerts_app.callback(invoke_without_command=True)
def alerts_list(ctx: typer.Context,
                resolved: Annotated[int, typer.Option("--resolved", metavar="DAYS",
                                                      help="Also list alerts resolved in the last DAYS days.")] = 0,
                config: ConfigOption = None) -> None:
    """List open alerts, most severe and oldest first (`channelhub alerts check` evaluates them)."""
    if ctx.invoked_subcommand:
        return
    from datetime import timedelta

    from channelhub.alerts import list_alerts
    from channelhub.alerts.report import render_alerts

    try:
        alerts = list_alerts(_config(config), resolved_within=timedelta(days=resolved) if resolved else None)
    except ChannelhubError as exc:
        _fail(exc)
    render_alerts(console, alerts)


@alerts_app.command("check")
def alerts_check(dry_run: Annotated[bool, typer.Option("--dry-run", help="Evaluate and record; send nothing.")] = False,
                 config: ConfigOption = None) -> None:
    """Evaluate the rules of `alerts:` now, record them in ops.alerts and send what is due; exit 1 when a
    destination did not take a message (it is tried again next time)."""
    from channelhub.alerts import check_alerts
    from channelhub.alerts.report import render_alerts

    try:
        report = check_alerts(_config(config), deliver=not dry_run)
    except ChannelhubError as exc:
        _fail(exc)
    render_alerts(console, report.open)
    console.print(f"{len(report.open)} open, {len(report.resolved)} resolved now, {len(report.sent)} sent"
                  + (" (dry run: nothing sent)" if dry_run else ""))
    for error in report.errors:
        console.print(f"[red]not delivered:[/] {error}")
    if not report.ok:
        raise typer.Exit(1)


@sandbox_app.command("serve")
def sandbox_serve(config: ConfigOption = None) -> None:
    """Serve every account's sandbox on the address its config points at, until Ctrl-C."""
    from channelhub.fleet import Fleet

    try:
        hub = _config(config)
        with Fleet(hub) as fleet:
            for line in fleet.describe():
                console.print(line)
            console.print("\nThese emulators accept only the credentials below (set them in the shell "
                          "that runs `channelhub run`, or export them before serving to choose your own):")
            for variable, value in sorted(fleet.exported.items()):
                console.print(f"  export {variable}={shlex.quote(value)}", soft_wrap=True)  # a PEM key spans lines
            console.print("Ctrl-C stops.")
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
    except ChannelhubError as exc:
        _fail(exc)


@app.command()
def demo(config: ConfigOption = None,
         full_refresh: Annotated[bool, typer.Option("--full-refresh")] = False) -> None:
    """Start the sandboxes, load every account into the warehouse and print a summary."""
    from channelhub.demo import run_demo

    try:
        run_demo(_config(config), console, full_refresh=full_refresh)
    except ChannelhubError as exc:
        _fail(exc)


if __name__ == "__main__":
    sys.exit(app())
