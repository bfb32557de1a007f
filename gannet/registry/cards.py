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
    """The same card as a standalone HTML page (tables and headings; text escaped)."""
    from markupsafe import Markup, escape

    lines = render_markdown(inputs).splitlines()
    parts: list[str] = []
    table: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                table.append(cells)
            continue
        if table:
            head, *body = table
            parts.append(
                "<table><tr>"
                + "".join(f"<th>{escape(c)}</th>" for c in head)
                + "</tr>"
                + "".join(
                    "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in body
                )
                + "</table>"
            )
            table = []
        if line.startswith("# "):
            parts.append(f"<h1>{escape(line[2:])}</h1>")
        elif line.startswith("## "):
            parts.append(f"<h2>{escape(line[3:])}</h2>")
        elif line.strip():
            parts.append(f"<p>{escape(line)}</p>")
    title = f"{inputs.version.name} v{inputs.version.version}"
    page = _environment(autoescape=True).get_template("card.html.j2")
    return page.render(title=title, body=Markup("\n".join(parts)))


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
        "inputs": (signature.get("inputs") or {}).get("columns", []),
        "outputs": ((signature.get("outputs") or {}) or {}).get("columns", []),
        "when": lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "fmt": lambda x: "-" if x is None else f"{x:.6g}",
    }
