"""``gannet features``: register definitions (apply, diff), see them (list, show), load the
online store (materialize) and read it (online). Each command is one ``FeatureStore`` call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.features.definitions import Change

app = typer.Typer(help="The feature store: definitions, materialization, online values.",
                  no_args_is_help=True)

DefinitionsFile = Annotated[
    Path, typer.Argument(metavar="FILE", help="A YAML file of entities and feature_views.")
]


def _show_changes(changes: list[Change], *, applied: bool) -> None:
    grid = output.table("kind", "name", "version", "status", "changes")
    for c in changes:
        details = [*(f"BREAKING: {b}" for b in c.breaking), *c.changes]
        if c.affects:
            details.append(f"used by {', '.join(c.affects)}")
        grid.add_row(c.kind, c.name, str(c.version), c.status, "; ".join(details))
    output.show(grid)
    breaking = [c.name for c in changes if c.breaking]
    if breaking:
        output.note(f"breaking changes in {', '.join(breaking)}: models trained on the "
                    "earlier versions may no longer get the features they expect")
    if not applied:
        output.note("nothing was registered (diff); run gannet features apply to register")


@app.command("apply")
def apply(ctx: typer.Context, file: DefinitionsFile, as_json: output.AsJson = False) -> None:
    """Register the entities and feature views of FILE: a changed definition gets a new
    version; breaking changes (a feature dropped or retyped) are reported."""
    changes = ctx.obj.services.features.apply(file)
    if as_json:
        output.print_json([c.to_dict() for c in changes])
        return
    _show_changes(changes, applied=True)


@app.command("diff")
def diff(ctx: typer.Context, file: DefinitionsFile, as_json: output.AsJson = False) -> None:
    """What applying FILE would change, registering nothing."""
    changes = ctx.obj.services.features.apply(file, dry_run=True)
    if as_json:
        output.print_json([c.to_dict() for c in changes])
        return
    _show_changes(changes, applied=False)


@app.command("list")
def list_(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Registered entities, feature views and on-demand views (newest versions), with each
    view's staleness."""
    store = ctx.obj.services.features
    records = store.list_definitions()
    stale = store.staleness()
    if as_json:
        output.print_json([{**r, "staleness_seconds": stale.get(r["name"])}
                           if r["kind"] == "feature_view" else r for r in records])
        return
    grid = output.table("kind", "name", "version", "entities / join keys", "features",
                        "ttl", "staleness")
    for r in records:
        d = r["definition"]
        if r["kind"] == "entity":
            grid.add_row("entity", r["name"], str(r["version"]), ", ".join(d["join_keys"]),
                         "", "", "")
            continue
        if r["kind"] == "on_demand_view":  # computed when asked: never stale
            grid.add_row("on_demand_view", r["name"], str(r["version"]),
                         "from " + ", ".join(d["sources"]), ", ".join(d["features"]),
                         "", "computed")
            continue
        age = stale.get(r["name"])
        grid.add_row("feature_view", r["name"], str(r["version"]), ", ".join(d["entities"]),
                     ", ".join(d["features"]), f"{d['ttl']}s" if d["ttl"] else "forever",
                     "never materialized" if age is None else f"{age:.0f}s")
    output.show(grid)


@app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="A feature view or "
                                                                      "entity.")],
         as_json: output.AsJson = False) -> None:
    """A feature view's (or entity's) definition and its versions."""
    record = ctx.obj.services.features.get_definition(name)
    if as_json:
        output.print_json(record)
        return
    d = record["definition"]
    rows = [("kind", record["kind"]), ("version", str(record["version"]))]
    rows += [(k, ", ".join(f"{n}: {t}" for n, t in v.items()) if isinstance(v, dict)
              else ", ".join(v) if isinstance(v, list) else str(v))
             for k, v in d.items() if k not in ("kind", "name")]
    rows.append(("versions", ", ".join(f"{v['version']} ({output.format_time(v['created_time'])})"
                                       for v in record["versions"])))
    output.show(output.key_value_table(rows))


@app.command("materialize")
def materialize(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--start", metavar="TIME",
                     help="Load values newer than this ISO time (default: where the last "
                     "materialization ended).")] = None,
    end: Annotated[str | None, typer.Option("--end", metavar="TIME",
                   help="Load values up to this ISO time (default: now).")] = None,
    views: Annotated[list[str] | None, typer.Option("--view", metavar="NAME",
                     help="Only this feature view (repeatable; default: all).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Load each feature view's newest values into the online store (incremental)."""
    results = ctx.obj.services.features.materialize(start, end, views)
    if as_json:
        output.print_json([r.to_dict() for r in results])
        return
    grid = output.table("feature view", "from", "to", "entities written", "newest value")
    for r in results:
        d = r.to_dict()
        grid.add_row(r.view, d["start"] or "the beginning", d["end"], str(r.rows),
                     d["newest"] or "")
    output.show(grid)
