"""``gannet deployments``: create, show, list, history, set-traffic, set-shadows,
set-sticky-key, set-log-fields, set-features, rollback, delete, bundle — each a thin face over one
DeploymentService call, named after it (``set_deployment_traffic`` is ``set-traffic``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.serving.deployments.service import DeploymentService
    from gannet.serving.deployments.types import DeploymentState

app = typer.Typer(
    help="Deployments: versions, traffic weights, shadows, rollback.", no_args_is_help=True
)

JsonOption = output.AsJson
ReasonOption = Annotated[
    str, typer.Option("--reason", "-r", help="Why: kept with the revision and in the audit log.")
]
RoutesArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="REF=WEIGHT",
        help="A ref (3, churn/3, churn@champion, @champion) and its relative weight; "
        "a bare REF weighs 1.",
        show_default=False,
    ),
]


FeaturesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        metavar="VIEW:FEATURE,...",
        help="Features the server looks up by each request's entity keys (comma-separated "
        "or repeated).",
    ),
]
OnUnavailableOption = Annotated[
    str,
    typer.Option(
        "--on-unavailable",
        metavar="error|defaults",
        help="When the online store is down: answer 503 (error) or use the defaults.",
    ),
]
DefaultOption = Annotated[
    list[str] | None,
    typer.Option(
        "--default",
        metavar="FEATURE=VALUE",
        help="A feature's value when the store has none or is down (repeat it).",
    ),
]


def _feature_refs(items: list[str] | None) -> list[str]:
    return [ref.strip() for item in items or () for ref in item.split(",") if ref.strip()]


def _defaults(items: list[str] | None) -> dict[str, object]:
    """``["orders_30d=0", "segment=new"]`` -> ``{"orders_30d": 0, "segment": "new"}``."""
    import json

    found: dict[str, object] = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r}: write FEATURE=VALUE, e.g. orders_30d=0")
        try:
            found[name.strip()] = json.loads(text)
        except ValueError:
            found[name.strip()] = text
    return found


def _deployments(ctx: typer.Context) -> DeploymentService:
    return ctx.obj.services.deployments


def _routes(items: list[str] | None) -> dict[str | int, float] | None:
    """``["churn/3=90", "@champion=10"]`` -> ``{"churn/3": 90.0, "@champion": 10.0}``."""
    if not items:
        return None
    routes: dict[str | int, float] = {}
    for item in items:
        ref, sep, weight = item.rpartition("=")
        if not sep:
            ref, weight = item, "1"
        ref = ref.strip()
        try:
            value = float(weight)
        except ValueError:
            raise typer.BadParameter(
                f"{item!r}: the weight {weight!r} is not a number (write REF=WEIGHT, e.g. "
                "churn/3=90)"
            ) from None
        if not ref:
            raise typer.BadParameter(f"{item!r}: no ref before '=' (e.g. churn/3=90)")
        if ref in routes:
            raise typer.BadParameter(f"{ref!r} is given twice")
        routes[ref] = value
    return routes


def _share(percent: float) -> str:
    return f"{percent:.4g}%"


def _routes_text(state: DeploymentState) -> str:
    from gannet.serving.deployments.types import traffic_shares

    shares = traffic_shares(state.routes)
    return ", ".join(f"{ref} {_share(share)}" for ref, share in shares.items())


def _changed(state: DeploymentState) -> None:
    output.say(f"{state.name} revision {state.revision}: {_routes_text(state)}")
    if state.shadows:
        output.say(f"  shadows: {', '.join(state.shadows)}")


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The deployment's name (as model names).")],
    model: Annotated[str, typer.Option("--model", "-m", help="The registered model it serves.")],
    route: Annotated[
        list[str] | None,
        typer.Option(
            "--route",
            metavar="REF=WEIGHT",
            help="A route (repeat for several); default: MODEL@champion, else MODEL@latest.",
        ),
    ] = None,
    sticky: Annotated[
        str | None,
        typer.Option("--sticky", metavar="KEY", help="Header or JSON field that pins callers."),
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    features: FeaturesOption = None,
    on_unavailable: OnUnavailableOption = "error",
    default: DefaultOption = None,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Create deployment NAME of a model, with its first routes (and features)."""
    state = _deployments(ctx).create_deployment(
        name,
        model,
        _routes(route),
        description=description,
        sticky_key=sticky,
        reason=reason,
        features=_feature_refs(features),
        on_unavailable=on_unavailable,
        feature_defaults=_defaults(default),
    )
    if as_json:
        output.print_json(state)
        return
    output.say(f"created deployment {name} of {model}: {_routes_text(state)}")


@app.command("show")
def show(
    ctx: typer.Context,
    name: str,
    history: Annotated[
        bool,
        typer.Option("--history", help="Every revision instead (as `gannet deployments history`)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A deployment: routes with their shares, shadows, sticky key, last change."""
    from gannet.serving.deployments.types import traffic_shares

    service = _deployments(ctx)
    if history:
        _show_history(service.get_deployment_history(name), as_json)
        return
    info = service.get_deployment(name)
    state = info.state
    shares = traffic_shares(state.routes)
    if as_json:
        output.print_json({**output.jsonable(info), "shares": shares})
        return
    output.show(
        output.key_value_table(
            [
                ("Deployment", state.name),
                ("Model", state.model),
                ("Description", info.description or "-"),
                ("Revision", str(state.revision)),
                ("Changed", _change_text(state)),
                ("Created", f"{output.format_time(info.creation_time)} by {info.created_by}"),
                ("Sticky key", state.sticky_key or "- (each request routed afresh)"),
                ("Log: masked", ", ".join(state.log_masked) or "-"),
                ("Log: hashed", ", ".join(state.log_hashed) or "-"),
                ("Features", _features_text(state)),
            ]
        )
    )
    grid = output.table("Route", "Version now", "Weight", "Share")
    for r in state.routes:
        grid.add_row(
            output.text(r.ref, "bold"),
            output.text(_version_text(info.resolved.get(r.ref))),
            output.text(f"{r.weight:g}"),
            output.text(_share(shares[r.ref]), "cyan"),
        )
    for ref in state.shadows:
        grid.add_row(
            output.text(ref),
            output.text(_version_text(info.resolved.get(ref))),
            output.text("-"),
            output.text("shadow", "magenta"),
        )
    output.show(grid)


@app.command("history")
def history(ctx: typer.Context, name: str, as_json: JsonOption = False) -> None:
    """Every revision of deployment NAME, newest first: who changed what, when and why."""
    _show_history(_deployments(ctx).get_deployment_history(name), as_json)


def _show_history(states: list[DeploymentState], as_json: bool) -> None:
    if as_json:
        output.print_json(states)
        return
    grid = output.table("Revision", "Changed", "By", "Routes", "Shadows", "Sticky", "Reason")
    for s in states:
        grid.add_row(
            output.text(s.revision, "bold"),
            output.text(output.format_time(s.updated_time)),
            output.text(s.updated_by),
            output.text(_routes_text(s), "cyan"),
            output.text(", ".join(s.shadows) or "-"),
            output.text(s.sticky_key or "-"),
            output.text(s.reason),
        )
    output.show(grid)


def _change_text(state: DeploymentState) -> str:
    why = f": {state.reason}" if state.reason else ""
    return f"{output.format_time(state.updated_time)} by {state.updated_by}{why}"


def _version_text(version: int | None) -> str:
    return "does not resolve" if version is None else str(version)


@app.command("list")
def list_deployments(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Only deployments of this model.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Deployments with their routes, shadows and revision."""
    states = _deployments(ctx).list_deployments(model)
    if as_json:
        output.print_json(states)
        return
    if not states:
        output.note("no deployments" + (f" of {model}" if model else ""))
        return
    grid = output.table("Name", "Model", "Routes", "Shadows", "Revision", "Changed")
    for s in states:
        grid.add_row(
            output.text(s.name, "bold"),
            output.text(s.model),
            output.text(_routes_text(s), "cyan"),
            output.text(", ".join(s.shadows) or "-"),
            output.text(s.revision),
            output.text(_change_text(s)),
        )
    output.show(grid)


@app.command("set-traffic")
def set_traffic(
    ctx: typer.Context,
    name: str,
    routes: RoutesArgument,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Route NAME's traffic by weights, e.g. a canary: churn/3=90 churn/4=10."""
    state = _deployments(ctx).set_deployment_traffic(name, _routes(routes) or {}, reason)
    if as_json:
        output.print_json(state)
    else:
        _changed(state)


@app.command("set-shadows")
def set_shadows(
    ctx: typer.Context,
    name: str,
    refs: Annotated[
        list[str] | None, typer.Argument(metavar="REF", help="Refs that get a copy.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop shadowing.")] = False,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Copy NAME's traffic to REFs (answers logged, never returned); replaces the shadows."""
    if not refs and not clear:
        raise typer.BadParameter("give the refs to shadow, or --clear to stop shadowing")
    if refs and clear:
        raise typer.BadParameter("give refs or --clear, not both")
    state = _deployments(ctx).set_deployment_shadows(name, None if clear else refs, reason)
    if as_json:
        output.print_json(state)
        return
    _changed(state)
    if not state.shadows:
        output.say("  no shadows")


@app.command("set-sticky-key")
def set_sticky_key(
    ctx: typer.Context,
    name: str,
    key: Annotated[
        str | None, typer.Argument(help="Request header or JSON field, e.g. user_id.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Route every request afresh.")] = False,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Pin each caller of NAME to one route by KEY (A/B tests), or --clear."""
    if (key is None) != clear:
        raise typer.BadParameter("give a KEY, or --clear to stop pinning callers (not both)")
    state = _deployments(ctx).set_deployment_sticky_key(name, None if clear else key, reason)
    output.done(
        as_json,
        f"{state.name} revision {state.revision}: sticky key {state.sticky_key or 'none'}",
        state,
    )


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: str,
    to: Annotated[
        int | None,
        typer.Option("--to", metavar="REVISION", help="Go back to this revision instead."),
    ] = None,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Make the revision before the current one current again (as a new revision)."""
    state = _deployments(ctx).rollback_deployment(name, reason, to=to)
    if as_json:
        output.print_json(state)
    else:
        _changed(state)


@app.command("set-log-fields")
def set_log_fields(
    ctx: typer.Context,
    name: str,
    mask: Annotated[
        list[str] | None,
        typer.Option("--mask", metavar="COLUMN", help="Store this input column as ***."),
    ] = None,
    hash_: Annotated[
        list[str] | None,
        typer.Option("--hash", metavar="COLUMN", help="Store this input column hashed."),
    ] = None,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Mask or hash input columns in NAME's inference log (PII); replaces both lists."""
    state = _deployments(ctx).set_deployment_log_fields(name, mask or (), hash_ or (), reason)
    output.done(
        as_json,
        f"{state.name} revision {state.revision}: masked {', '.join(state.log_masked) or '-'}; "
        f"hashed {', '.join(state.log_hashed) or '-'}",
        state,
    )


@app.command("set-features")
def set_features(
    ctx: typer.Context,
    name: str,
    features: FeaturesOption = None,
    on_unavailable: OnUnavailableOption = "error",
    default: DefaultOption = None,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
) -> None:
    """Features NAME's server adds to each request before predict; none given: none."""
    state = _deployments(ctx).set_deployment_features(
        name, _feature_refs(features), on_unavailable=on_unavailable,
        defaults=_defaults(default), reason=reason)
    output.done(as_json, f"{state.name} revision {state.revision}: features "
                f"{_features_text(state)}", state)


def _features_text(state: DeploymentState) -> str:
    if not state.features:
        return "-"
    defaults = ", ".join(f"{k}={v!r}" for k, v in state.feature_defaults)
    return (f"{', '.join(state.features)} (store down: {state.features_on_unavailable}"
            f"{'; defaults ' + defaults if defaults else ''})")


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete deployment NAME and its history (the audit log keeps what happened)."""
    if not yes and not typer.confirm(f"delete deployment {name} and its history?"):
        raise typer.Exit(1)
    _deployments(ctx).delete_deployment(name)
    output.done(as_json, f"deleted deployment {name}", {"name": name, "deleted": True})


@app.command("bundle")
def bundle(
    ctx: typer.Context,
    name: str,
    out: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="Folder to write into.")
    ],
    image: Annotated[
        str | None,
        typer.Option("--image", help="Base image (default: python:X.Y-slim of the models)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="The server's port.")] = 8080,
    replicas: Annotated[int, typer.Option("--replicas", help="Replicas (HPA minimum).")] = 2,
    as_json: JsonOption = False,
) -> None:
    """Write a Dockerfile, requirements and Kubernetes manifests that serve NAME."""
    files = _deployments(ctx).bundle_deployment(
        name, out, image=image, port=port, replicas=replicas
    )
    if as_json:
        output.print_json({"name": name, "files": list(files)})
        return
    for path in files:
        output.say(f"wrote {path}")
