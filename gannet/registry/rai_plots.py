"""Plots of a version's responsible-AI reports: a self-contained HTML page (inline SVG,
nothing fetched) always, and a PNG when matplotlib is installed (the ``plots`` extra).

Importance: one horizontal bar per feature (SHAP mean |value| when there is one, else
permutation importance). Fairness: the selection rate (or RMSE) of each group.
"""

from __future__ import annotations

import html
import io
from typing import Any

_BAR_HEIGHT, _WIDTH, _LABEL = 22, 640, 200


def importance_bars(report: dict[str, Any]) -> tuple[str, list[tuple[str, float]]]:
    """(title, [(feature, value)...]) of an explanation report, largest first."""
    shap = report.get("shap")
    if shap:
        return ("mean |SHAP value| per feature",
                [(f["feature"], f["mean_abs"]) for f in shap["features"]])
    perm = report["permutation"]
    return (f"permutation importance ({perm['scoring']} drop)",
            [(f["feature"], f["importance_mean"]) for f in perm["features"]])


def group_bars(report: dict[str, Any]) -> tuple[str, list[tuple[str, float]]]:
    """(title, [(attribute=group, value)...]) of a fairness report."""
    key = "rmse" if report["task"] == "regression" else "selection_rate"
    bars = [(f"{attr}={g['group']}", g.get(key) or 0.0)
            for attr, found in report["attributes"].items() if "+" not in attr
            for g in found["groups"]]
    return f"{key.replace('_', ' ')} per group", bars


def html_page(title: str, heading: str, bars: list[tuple[str, float]]) -> bytes:
    top = max((abs(v) for _, v in bars), default=1.0) or 1.0
    rows = []
    for i, (label, value) in enumerate(bars):
        y = i * _BAR_HEIGHT
        width = max(abs(value) / top * (_WIDTH - _LABEL - 80), 1)
        rows.append(
            f'<text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{_LABEL}" y="{y + 3}" width="{width:.1f}" height="{_BAR_HEIGHT - 6}" '
            f'fill="{"#c0392b" if value < 0 else "#2e86c1"}"/>'
            f'<text x="{_LABEL + width + 4:.1f}" y="{y + 15}">{value:.4g}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" '
           f'height="{len(bars) * _BAR_HEIGHT + 4}" font-family="sans-serif" font-size="12">'
           + "".join(rows) + "</svg>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><h2>{html.escape(heading)}"
            f"</h2>{svg}</body></html>").encode()


def png(title: str, heading: str, bars: list[tuple[str, float]]) -> bytes | None:
    try:
        from matplotlib.figure import Figure  # no pyplot: no backend, no global state
    except ImportError:
        return None
    shown = list(reversed(bars[:30]))
    figure = Figure(figsize=(7, 0.3 * len(shown) + 1.2))
    axes = figure.subplots()
    axes.barh([label for label, _ in shown], [value for _, value in shown], color="#2e86c1")
    axes.set_title(f"{title}\n{heading}", fontsize=10)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return out.getvalue()
