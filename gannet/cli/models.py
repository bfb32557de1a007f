"""``gannet models``: register, list, show, set-alias, delete-alias, promote, approve,
archive, delete, set-policy, card, import-mlflow — each a thin face over one registry call
of the same name (``set-alias`` is ``set_registered_model_alias``; see docs/vocabulary.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.registry.service import RegistryService
    from gannet.registry.types import ModelVersion

app = typer.Typer(help="The model registry: versions, aliases, gates, cards.", no_args_is_help=True)

JsonOption = output.AsJson


def _registry(ctx: typer.Context) -> RegistryService:
    return ctx.obj.services.registry


def _version_row(v: ModelVersion) -> dict[str, output.Text]:
    return {
        "Version": output.text(v.version, "bold"),
        "Status": output.text(v.status.value),
        "Aliases": output.text(", ".join(v.aliases) or "-", "cyan"),
        "Flavor": output.text(v.flavor),
        "Registered": output.text(output.format_time(v.creation_time)),
        "Run": output.text(v.run_id or "-"),
        "Signed by": output.text(v.signing_key_id or "unsigned"),
    }


VERSION_COLUMNS = (
    output.Column("Version", 7, fixed=True),
    output.Column("Status", 8, fixed=True),
    output.Column("Aliases", 10),
    output.Column("Flavor", 8, fixed=True),
    output.Column("Registered", 19, drop=2, fixed=True),
    output.Column("Run", 32, drop=3, fixed=True),
    output.Column("Signed by", 16, drop=1, fixed=True),
)


@app.command("register")
def register(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="A run id, runs:/<run id>/<path>, or a package folder.")
    ],
    name: Annotated[str, typer.Argument(help="The registered model's name.")],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    as_json: JsonOption = False,
) -> None:
    """Register a new, signed version of NAME from a run's model or a package folder."""
    version = _registry(ctx).register_model(source, name, description=description)
    if as_json:
        output.print_json(version)
        return
    output.say(
        f"registered {name} version {version.version} (signed by key {version.signing_key_id})"
    )


@app.command("list")
def list_models(
    ctx: typer.Context,
    name_like: Annotated[
        str | None, typer.Option("--name", help="SQL LIKE pattern, e.g. 'churn%'.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Registered models with their latest version and aliases."""
    models = _registry(ctx).search_registered_models(name_like)
    if as_json:
        output.print_json(models)
        return
    if not models:
        output.note("no registered models" + (f" like {name_like!r}" if name_like else ""))
        return
    grid = output.table("Name", "Latest", "Aliases", "Updated", "Description")
    for m in models:
        aliases = ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())) or "-"
        grid.add_row(
            output.text(m.name, "bold"),
            output.text(m.latest_version or "-"),
            output.text(aliases, "cyan"),
            output.text(output.format_time(m.last_update_time)),
            output.text(m.description),
        )
    output.show(grid)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME for all versions, or churn/3, churn@champion.")],
    policy: Annotated[
        bool, typer.Option("--policy", help="Print NAME's promotion policy (YAML) only.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A registered model and its versions, or one version in detail."""
    registry = _registry(ctx)
    if policy:
        model = registry.get_registered_model(ref)
        typer.echo(model.policy or "# no policy: promote checks nothing")
        return
    if "/" not in ref and "@" not in ref:
        model, versions = registry.get_registered_model(ref), registry.search_model_versions(ref)
        if as_json:
            output.print_json({"model": model, "versions": versions})
            return
        output.say(f"{model.name}: {model.description or 'no description'}", style="bold")
        output.show(output.fit_table(VERSION_COLUMNS, [_version_row(v) for v in versions]))
        if model.policy:
            output.note(f"promotion policy is set (gannet models show {model.name} --policy)")
        return
    v = registry.resolve_model_version(ref)
    if as_json:
        output.print_json(v)
        return
    output.show(
        output.key_value_table(
            [
                ("Model", f"{v.name} version {v.version}"),
                ("Status", v.status.value),
                ("Aliases", ", ".join(v.aliases) or "-"),
                ("Flavor", v.flavor),
                ("Source", v.source),
                ("Run", v.run_id or "-"),
                ("Git commit", v.git_commit or "-"),
                ("Package", v.package_digest),
                ("Signed by", v.signing_key_id or "unsigned"),
                ("Registered", f"{output.format_time(v.creation_time)} by {v.user_id}"),
                (
                    "Metrics",
                    output.format_metrics({k: x for k, x in v.metrics.items() if x is not None}),
                ),
            ]
        )
    )


@app.command("set-alias")
def set_alias(
    ctx: typer.Context,
    name: str,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    version: Annotated[str, typer.Argument(help="A version number of NAME.")],
    as_json: JsonOption = False,
) -> None:
    """Point NAME@ALIAS at VERSION now (no gates; `promote` is the gated way)."""
    v = _registry(ctx).set_registered_model_alias(name, alias_name, version)
    output.done(as_json, f"{name}@{alias_name} -> version {v.version}", v)


@app.command("delete-alias")
def delete_alias(
    ctx: typer.Context,
    name: str,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    as_json: JsonOption = False,
) -> None:
    """Remove NAME@ALIAS."""
    _registry(ctx).delete_registered_model_alias(name, alias_name)
    gone = {"name": name, "alias": alias_name, "version": None}
    output.done(as_json, f"removed {name}@{alias_name}", gone)


@app.command("promote")
def promote(
    ctx: typer.Context,
    name: str,
    version: str,
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why: kept in the audit log.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Move NAME@ALIAS to VERSION if every gate of NAME's policy passes."""
    result = _registry(ctx).promote(name, version, alias_name, reason)
    if as_json:
        output.print_json(result)
    else:
        for gate in result.results:
            mark = output.text("PASS", "green") if gate.passed else output.text("FAIL", "red bold")
            output.show(output.key_value_table([(mark, f"{gate.gate}: {gate.detail}")]))
        if not result.results:
            output.note(f"{name} has no gates for {alias_name!r}: nothing to check")
        if result.promoted:
            output.say(
                f"{name}@{alias_name} -> version {result.version} "
                f"(was {result.previous_version or 'unset'})"
            )
        else:
            output.say(f"not promoted: {name}@{alias_name} unchanged", style="red")
    if not result.promoted:
        raise typer.Exit(1)


@app.command("approve")
def approve(
    ctx: typer.Context,
    name: str,
    version: int,
    comment: Annotated[str, typer.Option("--comment", "-c")] = "",
    as_json: JsonOption = False,
) -> None:
    """Approve VERSION of NAME as the current user (for approval gates)."""
    _registry(ctx).approve_model_version(name, version, comment)
    user = ctx.obj.services.auth.current_user
    output.done(
        as_json,
        f"approved {name}/{version} as {user}",
        {"name": name, "version": version, "user": user, "comment": comment},
    )


@app.command("archive")
def archive(ctx: typer.Context, name: str, version: int, as_json: JsonOption = False) -> None:
    """Archive a version (it stays loadable by number but takes no aliases)."""
    _registry(ctx).archive_model_version(name, version)
    output.done(
        as_json, f"archived {name}/{version}", {"name": name, "version": version, "archived": True}
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    version: Annotated[int | None, typer.Argument(help="Only this version.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a version, or (without VERSION) the registered model and all its versions."""
    what = f"{name}/{version}" if version else f"model {name} and all its versions"
    if not yes and not typer.confirm(f"delete {what}?"):
        raise typer.Exit(1)
    registry = _registry(ctx)
    if version:
        registry.delete_model_version(name, version)
    else:
        registry.delete_registered_model(name)
    output.done(as_json, f"deleted {what}", {"name": name, "version": version, "deleted": True})


@app.command("set-policy")
def set_policy(
    ctx: typer.Context,
    name: str,
    file: Annotated[Path | None, typer.Argument(help="A YAML policy file.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the policy.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Set NAME's promotion gates from a YAML file (see docs/models.md); `show --policy`
    prints them."""
    if (file is None) == (not clear):
        raise typer.BadParameter("give a policy FILE, or --clear to remove the policy")
    registry = _registry(ctx)
    if clear:
        registry.set_model_policy(name, None)
        output.done(as_json, f"removed the policy of {name}", {"name": name, "policy": None})
    else:
        assert file is not None
        policy = file.read_text(encoding="utf-8")
        registry.set_model_policy(name, policy)
        output.done(
            as_json, f"set the promotion policy of {name} from {file}",
            {"name": name, "policy": policy},
        )


@app.command("card")
def card(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="churn/3 or churn@champion")],
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a .md or .html file.")
    ] = None,
    set_fields: Annotated[
        list[str] | None, typer.Option("--set", help="field=text (intended_use, limitations, ...)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print or write a version's model card; --set edits its fields."""
    registry = _registry(ctx)
    v = registry.resolve_model_version(ref)
    if set_fields:
        fields = dict(item.split("=", 1) for item in set_fields if "=" in item)
        registry.update_model_version(v.name, v.version, card=fields)
    fmt = "html" if out is not None and out.suffix.lower() in (".html", ".htm") else "markdown"
    text = registry.get_model_card(v.name, v.version, fmt)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    if as_json:
        output.print_json({"name": v.name, "version": v.version, "format": fmt,
                           "card": text, "path": out})
    elif out is None:
        typer.echo(text)
    else:
        output.say(f"wrote {out}")


@app.command("import-mlflow")
def import_mlflow(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="An MLflow model folder (with MLmodel).")],
    name: str,
    as_json: JsonOption = False,
) -> None:
    """Import an MLflow model folder (sklearn / python_function flavor) as a new version."""
    import tempfile

    from gannet.models.mlflow_import import import_mlflow_model

    with tempfile.TemporaryDirectory(prefix="gannet-import-") as tmp:
        import_mlflow_model(folder, Path(tmp) / "package")
        version = _registry(ctx).register_model(
            Path(tmp) / "package", name, description=f"imported from {folder}"
        )
    output.done(as_json, f"imported {folder} as {name} version {version.version}", version)
