"""The report's charts: Plotly figures from the sections' rows, rendered as ``<div>``s that the page's one
inlined copy of plotly.js draws, so the file works offline and carries the library once."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go

LAYOUT = {"template": "plotly_white", "height": 360, "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
          "legend": {"orientation": "h", "y": -0.2}}


def html(figure: go.Figure, chart_id: str) -> str:
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=chart_id,
                          config={"displaylogo": False, "responsive": True})


def sales_per_day(rows: list[dict[str, Any]]) -> go.Figure:
    """One line per channel; channels in other currencies on their own axis rows (amounts never mix)."""
    currencies = sorted({row["currency"] for row in rows})
    figure = go.Figure()
    series: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        series[(row["channel_id"], row["currency"])].append(row)
    for (channel, currency), points in sorted(series.items()):
        axis = currencies.index(currency) + 1
        figure.add_trace(go.Scatter(x=[p["sales_date"] for p in points], y=[float(p["net_sales"]) for p in points],
                                    mode="lines", name=f"{channel} ({currency})",
                                    yaxis="y" if axis == 1 else f"y{axis}"))
    layout = dict(LAYOUT, title="Net sales per local business day", height=260 * max(len(currencies), 1) + 100)
    span = 1 / max(len(currencies), 1)
    for index, currency in enumerate(currencies):
        name = "yaxis" if index == 0 else f"yaxis{index + 1}"
        layout[name] = {"title": currency, "domain": [index * span + 0.04, (index + 1) * span - 0.04]}
    figure.update_layout(**layout)
    return figure


def top_skus(rows: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure(go.Bar(x=[row["units"] for row in rows][::-1], y=[row["sku"] for row in rows][::-1],
                              orientation="h", hovertext=[row["revenue"] for row in rows][::-1]))
    return figure.update_layout(**LAYOUT, title="Top SKUs by units sold (net of refunds)", xaxis_title="units")


def cover(rows: list[dict[str, Any]]) -> go.Figure:
    """The SKUs that run out first (by days of cover, then ATP): available to promise beside what each
    channel shows, so an exposure (the channel showing more) stands out."""
    labels = [f"{row['sku']} · {row['channel']}" for row in rows]
    figure = go.Figure([
        go.Bar(name="available to promise", x=labels, y=[row["atp"] for row in rows],
               hovertext=[f"{row['days of cover']} days of cover" for row in rows]),
        go.Bar(name="shown on the channel", x=labels, y=[0 if row["on channel"] == "—" else row["on channel"]
                                                      for row in rows]),
    ])
    return figure.update_layout(**LAYOUT, barmode="group", title="Lowest cover: ATP and what the channel shows",
                                yaxis_title="units")


def reconciliation(rows: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure()
    for currency in sorted({row["currency"] for row in rows}):
        mine = [row for row in rows if row["currency"] == currency]
        figure.add_trace(go.Bar(name=currency, x=[row["status"] for row in mine], y=[row["cases"] for row in mine],
                                hovertext=[row["difference"] for row in mine]))
    return figure.update_layout(**LAYOUT, barmode="group", title="Open reconciliation exceptions",
                                yaxis_title="cases")


def freshness(rows: list[dict[str, Any]]) -> go.Figure:
    known = [row for row in rows if row["age (hours)"] is not None]
    figure = go.Figure(go.Bar(x=[row["account"] for row in known], y=[row["age (hours)"] for row in known]))
    return figure.update_layout(**LAYOUT, title="Hours since each account's last successful load",
                                yaxis_title="hours")
