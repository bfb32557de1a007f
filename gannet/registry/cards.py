"""Model cards: what a version is, how it was made, how well it does, and how to use it.

Generated from the registry's own records (signature, lineage, metrics, gates passed)
plus the fields people edit (intended use, limitations...). Markdown for repositories
and terminals, HTML (the same content) for the UI and for sharing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gannet.registry.types import CardInputs


def render_markdown(inputs: CardInputs) -> str:
    return _environment().get_template("card.md.j2").render(**_context(inputs))


def render_html(inputs: CardInputs) -> str:
    """The same card as a standalone HTML page, rendered from the Markdown by markdown-it
    (CommonMark with tables; raw HTML in any field is shown as text, never run)."""
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(
        render_markdown(inputs)
    )
    title = f"{inputs.version.name} v{inputs.version.version}"
    page = _environment(autoescape=True).get_template("card.html.j2")
    return page.render(title=title, body=Markup(body))


def _environment(autoescape: bool = False) -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("gannet.registry", "templates"),
        autoescape=autoescape,
        keep_trailing_newline=True,
    )


def _context(inputs: CardInputs) -> dict[str, Any]:
    signature = inputs.version.signature or {}
    return {
        "v": inputs.version,
        "model": inputs.model,
        "params": inputs.params,
        "validation": inputs.validation,
        "promotions": inputs.promotions,
        "datasets": inputs.datasets,
        "inputs": (signature.get("inputs") or {}).get("columns", []),
        "outputs": ((signature.get("outputs") or {}) or {}).get("columns", []),
        "when": lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "fmt": lambda x: "-" if x is None else f"{x:.6g}",
        "explanation": inputs.reports.get("explanation"),
        "fairness": inputs.reports.get("fairness"),
        "shap_of": _shap_of,
        "group_metrics": _group_metrics,
    }


def _shap_of(report: dict[str, Any], feature: str) -> float | None:
    for item in (report.get("shap") or {}).get("features", []):
        if item["feature"] == feature:
            return float(item["mean_abs"])
    return None


def _group_metrics(report: dict[str, Any]) -> tuple[str, ...]:
    if report.get("task") == "regression":
        return ("rmse", "mae")
    return ("selection_rate", "tpr", "fpr", "precision", "error_rate")
