"""Plotly figures as plain data (traces and a layout) that pages embed as JSON and
``static/figures.js`` draws: per-column profile charts of a dataset version, a monitor's
time series. Built here from the services' answers, so the pages hold no chart logic."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from gannet.stats.profile import ColumnProfile

__all__ = ["column_figure", "iso", "series_figure", "traffic_figures"]


def iso(millis: int) -> str:
    """A time Plotly reads as a date (UTC)."""
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def column_figure(column: ColumnProfile) -> dict[str, Any] | None:
    """A column's distribution: its histogram (numbers), else its most frequent values;
    None when the profile has neither (an empty or unsupported column)."""
    if column.histogram is not None and column.histogram.counts:
        edges = column.histogram.edges
        centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        widths = [b - a for a, b in itertools.pairwise(edges)]
        trace = {"type": "bar", "x": centers, "y": column.histogram.counts, "width": widths,
                 "name": column.name, "hovertemplate": "%{x}: %{y} rows<extra></extra>"}
        title = f"{column.name} (histogram)"
    elif column.top:
        values = [str(c.value) for c in column.top]
        counts = [c.count for c in column.top]
        if column.other_count:
            values, counts = [*values, "(other)"], [*counts, column.other_count]
        trace = {"type": "bar", "x": values, "y": counts, "name": column.name,
                 "hovertemplate": "%{x}: %{y} rows<extra></extra>"}
        title = f"{column.name} (most frequent values)"
    else:
        return None
    return {"data": [trace], "layout": {
        "height": 220, "xaxis": {"title": {"text": title}, "automargin": True},
        "yaxis": {"title": {"text": "rows"}}, "bargap": 0.05}}


def series_figure(times: list[int], series: dict[str, list[float | None]], *,
                  y_title: str, threshold: float | None = None,
                  y_range: list[float] | None = None) -> dict[str, Any]:
    """Lines over time, one per series (None: a window without that number)."""
    x = [iso(t) for t in times]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": values, "name": name}
        for name, values in series.items()]
    layout: dict[str, Any] = {"height": 280, "showlegend": True,
                              "xaxis": {"type": "date", "title": {"text": "window (UTC)"}},
                              "yaxis": {"title": {"text": y_title}}}
    if y_range is not None:
        layout["yaxis"]["range"] = y_range
    if threshold is not None and x:
        data.append({"type": "scatter", "mode": "lines", "x": [x[0], x[-1]],
                     "y": [threshold, threshold], "name": "threshold",
                     "line": {"dash": "dash", "color": "#a40e26"}})
    return {"data": data, "layout": layout}


def traffic_figures(buckets: list[dict[str, Any]], bucket_ms: int) -> dict[str, Any]:
    """A deployment's live charts from the inference log's buckets (``InferenceLog.traffic``):
    requests per minute, and latency p50 (solid) and p99 (dotted), one line per version (a
    shadow version's apart). A bucket without a version's requests counts zero for it."""
    per_minute = 60_000 / bucket_ms
    starts = sorted({b["bucket"] for b in buckets})
    series: dict[str, dict[int, dict[str, Any]]] = {}
    for b in buckets:
        name = f"version {b['version']}" + (" (shadow)" if b["shadow"] else "")
        series.setdefault(name, {})[b["bucket"]] = b
    x = [iso(t) for t in starts]
    rate = [{"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
             "y": [round(found[t]["requests"] * per_minute, 3) if t in found else 0
                   for t in starts]} for name, found in sorted(series.items())]
    latency = []
    for name, found in sorted(series.items()):
        times = sorted(found)
        for key, dash in (("p50", "solid"), ("p99", "dot")):
            latency.append({"type": "scatter", "mode": "lines+markers", "x": [
                iso(t) for t in times], "y": [found[t][key] for t in times],
                "name": f"{name} {key}", "line": {"dash": dash}})
    axis = {"type": "date", "title": {"text": "minute (UTC)"}}
    return {
        "requests_figure": {"data": rate, "layout": {
            "height": 260, "showlegend": True, "xaxis": axis,
            "yaxis": {"title": {"text": "requests per minute"}, "rangemode": "tozero"}}},
        "latency_figure": {"data": latency, "layout": {
            "height": 260, "showlegend": True, "xaxis": axis,
            "yaxis": {"title": {"text": "latency (ms)"}, "rangemode": "tozero"}}}}
