"""Reports as small HTML tables, for Jupyter's ``_repr_html_`` (escaped, no script)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.stats.dataset_drift import DriftReport

__all__ = ["drift_table", "number"]

_DRIFTED = ' style="color:#b00020;font-weight:bold"'


def number(value: Any) -> str:
    """A score or statistic as people read it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def drift_table(report: DriftReport) -> str:
    """The report's columns as one HTML table, drifted ones first, with a summary line."""
    rows = sorted(report.columns.values(), key=lambda c: (not c.drifted, c.column))
    head = ("<tr><th>column</th><th>kind</th><th>test</th><th>statistic</th>"
            "<th>p-value</th><th>score</th><th>threshold</th><th>status</th></tr>")
    body = "".join(
        f"<tr{_DRIFTED if c.drifted else ''}>"
        f"<td>{escape(c.column)}</td><td>{c.kind}</td><td>{escape(c.test or '')}</td>"
        f"<td>{number(c.statistic)}</td><td>{number(c.p_value)}</td>"
        f"<td>{number(c.score)}</td><td>{number(c.threshold)}</td>"
        f"<td title=\"{escape(c.reason or '')}\">{c.status}</td></tr>"
        for c in rows)
    summary = (f"<p><b>{len(report.drifted_columns)} of {report.tested}</b> columns drifted "
               f"(share {report.share:.3g}; dataset drift "
               f"{'<b>yes</b>' if report.dataset_drift else 'no'} at "
               f"{report.drift_share:g})</p>")
    return f"<div class=\"gannet-drift\">{summary}<table>{head}{body}</table></div>"
