"""``channelhub report``: one self-contained HTML file a person opens to see the state of sales, stock and
money: sales per channel per local day, top SKUs, stock cover and oversell exposure, reconciliation
exceptions, freshness per account, recent stock pushes and open alerts.

Charts are Plotly figures drawn by one copy of plotly.js inlined in the page: no CDN, so the file works
offline, from a mail attachment or a file share. Every number is read from the marts and ops tables at
the time of writing; the page says when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channelhub.report import charts, sections
from channelhub.report.sections import Reader, Window
from warehouse import Warehouse

if TYPE_CHECKING:
    from channelhub.config import HubConfig

DEFAULT_DAYS = 90


@dataclass
class Section:
    id: str
    title: str
    note: str
    charts: list[str] = field(default_factory=list)
    tables: list[list[dict[str, Any]]] = field(default_factory=list)


def default_path(hub: HubConfig) -> Path:
    return hub.home / "report" / "index.html"


def write_report(hub: HubConfig, out: Path | None = None, *, days: int = DEFAULT_DAYS,
                 as_of: datetime | None = None) -> Path:
    """Write the report to ``out`` (default ``<home>/report/index.html``) and return its path."""
    import jinja2
    import plotly.offline
    from markupsafe import Markup

    window = Window((as_of or datetime.now(UTC)).astimezone(UTC), days)
    warehouse = Warehouse(hub.warehouse_url)
    with warehouse.exclusive("channelhub report"), warehouse.engine.begin() as conn:
        built = _sections(Reader(hub, warehouse, conn, window), hub)
    for section in built:
        section.charts = [Markup(chart) for chart in section.charts]
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
        files(__package__).joinpath("template.html").read_text(encoding="utf-8"))
    page = template.render(sections=built, days=days, warehouse=warehouse.redacted_url,
                           generated=f"{window.as_of:%Y-%m-%d %H:%M}Z", plotly_js=Markup(plotly.offline.get_plotlyjs()))
    out = out or default_path(hub)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def _sections(reader: Reader, hub: HubConfig) -> list[Section]:
    sales, covers = sections.daily_sales(reader), sections.covers(reader, hub.alerts.velocity_window)
    skus, exceptions, fresh = sections.top_skus(reader), sections.reconciliation(reader), sections.freshness(reader)
    velocity, lowest = hub.alerts.velocity_window.days, sections.lowest_cover(covers)
    return [
        Section("alerts", "Open alerts", "What needs a person now (ops.alerts; `channelhub alerts`).",
                tables=[sections.open_alerts(reader)]),
        Section("sales", "Sales per channel", "Net sales per channel and business day in the channel's own time "
                "zone and currency (marts.rpt_daily_sales).",
                [charts.html(charts.sales_per_day(sales), "chart-sales")] if sales else [],
                [sections.channel_totals(reader)]),
        Section("skus", "Top SKUs", "Units sold net of refunds, every channel (marts.fct_order_lines).",
                [charts.html(charts.top_skus(skus), "chart-skus")] if skus else [], [skus]),
        Section("stock", "Stock cover and oversell exposure", f"Days of cover: ATP ÷ units sold per day over the "
                f"last {velocity} days. Exposure: units a channel still shows beyond its allocation until the next "
                "push (marts.rpt_stock_availability).",
                [charts.html(charts.cover(lowest), "chart-cover")] if lowest else [],
                [sections.exposure_by_channel(covers), lowest]),
        Section("reconciliation", "Reconciliation exceptions", "Orders and payments that do not agree, by status "
                "(marts.rpt_payment_reconciliation); difference = what the provider holds minus what the order asks.",
                [charts.html(charts.reconciliation(exceptions), "chart-reconciliation")] if exceptions else [],
                [exceptions]),
        Section("freshness", "Freshness per account", "When each account last loaded (ops.run_log).",
                [charts.html(charts.freshness(fresh), "chart-freshness")] if any(r["age (hours)"] is not None
                                                                                 for r in fresh) else [],
                [fresh]),
        Section("pushes", "Recent stock pushes", "The last syncs per channel, and why a push was refused "
                "(ops.stock_push_log).", tables=[sections.stock_pushes(reader)]),
    ]
