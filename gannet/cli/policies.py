"""``gannet policy apply|dry-run|list|status|history|pause|resume|approve|delete`` and
``gannet controller``: continuous-training policies, and the controller that runs them.

Each command is one ``TrainingService`` call; ``gannet controller`` calls ``tick`` every
``--interval`` seconds (any number of controllers may run: one holds the lease and acts).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gannet.cli import output

app = typer.Typer(no_args_is_help=True,
                  help="Continuous training: policies that retrain, gate and roll out models.")

PolicyFile = Annotated[Path, typer.Argument(metavar="FILE", help="The policy's YAML file.")]
Name = Annotated[str, typer.Argument(metavar="NAME", help="The policy's name.")]


def _read(path: Path) -> str:
    from gannet.core.errors import NotFound

    if not path.is_file():
        raise NotFound(f"no policy file {str(path)!r}", "give the path of a YAML file")
    return path.read_text()


def _training(ctx: typer.Context) -> Any:
    """The training service: the stores', or a team server's (through its REST API; the
    policy's paths must then be readable by the server, which runs the retrains)."""
    return ctx.obj.services.training


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _status(status: Any) -> dict[str, Any]:
    policy = status.policy
    return {**status.to_dict(), "deployment": policy.deployment if policy else None,
            "stages": [s.weight for s in policy.stages] if policy else []}


@app.command("apply")
def apply(ctx: typer.Context, path: PolicyFile, as_json: output.AsJson = False) -> None:
    """Store a policy (or replace the one of its name), after checking that what it names
    exists."""
    status = _training(ctx).apply_policy(_read(path), folder=path.parent,
                                                    where=str(path))
    output.done(as_json, f"policy {status.name} applied ({status.phase})", _status(status))


@app.command("dry-run")
def dry_run(ctx: typer.Context, path: PolicyFile, as_json: output.AsJson = False) -> None:
    """What the policy would do now, and why; nothing is changed."""
    found = _training(ctx).dry_run_policy(_read(path), folder=path.parent)
    if as_json:
        output.print_json(found)
        return
    output.say(f"policy {found['policy']} is valid; now it would {found['would']}: "
               f"{found['why']}")
    for trigger in found["triggers"]:
        output.say(f"  trigger {trigger['trigger']}: {'fires' if trigger['fires'] else '-'}")
    output.say(f"  retrain: {found['pipeline']} with {found['params']}")
    output.say(f"  evaluate: {found['evaluation']} against champion {found['champion']}")
    for i, stage in enumerate(found["stages"], start=1):
        output.say(f"  stage {i}: {stage}")


@app.command("list")
def list_policies(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Every policy with where its loop is."""
    found = _training(ctx).list_policies()
    if as_json:
        output.print_json([_status(s) for s in found])
        return
    table = output.table("Policy", "Model", "Deployment", "Phase", "Stage", "Paused",
                         "Updated")
    for s in found:
        table.add_row(*map(output.text, (s.name, s.model, s.policy.deployment, s.phase,
                                         s.stage + 1, s.paused, _when(s.updated_time))))
    output.show(table)


@app.command("status")
def status(ctx: typer.Context, name: Name, as_json: output.AsJson = False) -> None:
    """Where a policy's loop is: its phase, stage, challenger, and its latest decision."""
    training = _training(ctx)
    found = training.get_policy_status(name)
    latest = training.list_decisions(name, limit=1)
    if as_json:
        output.print_json({**_status(found), "latest": latest[0] if latest else None})
        return
    output.say(f"policy {name}: {found.phase}" + (" (paused)" if found.paused else ""))
    if found.data.get("challenger"):
        output.say(f"  challenger: {found.model}/{found.data['challenger']}, stage "
                   f"{found.stage + 1} of {len(found.policy.stages)}")
    if latest:
        output.say(f"  last: {latest[0].action} at {_when(latest[0].at)}: {latest[0].reason}")


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(metavar="[NAME]",
                                               help="Only this policy's.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    as_json: output.AsJson = False,
) -> None:
    """The decisions, newest first: policy, action, reason, numbers, at."""
    found = _training(ctx).list_decisions(name, limit=limit)
    if as_json:
        output.print_json([d.to_dict() for d in found])
        return
    table = output.table("At", "Policy", "Action", "Reason")
    for d in found:
        table.add_row(*map(output.text, (_when(d.at), d.policy, d.action, d.reason)))
    output.show(table)


@app.command("pause")
def pause(ctx: typer.Context, name: Name, as_json: output.AsJson = False) -> None:
    """Leave the policy where it is: no trigger, no stage moves, until it is resumed."""
    found = _training(ctx).pause_policy(name)
    output.done(as_json, f"policy {name} paused ({found.phase})", _status(found))


@app.command("resume")
def resume(ctx: typer.Context, name: Name, as_json: output.AsJson = False) -> None:
    """Let the controller act on the policy again."""
    found = _training(ctx).resume_policy(name)
    output.done(as_json, f"policy {name} resumed ({found.phase})", _status(found))


@app.command("approve")
def approve(
    ctx: typer.Context,
    name: Name,
    comment: Annotated[str, typer.Option("--comment", help="Why, for the record.")] = "",
    as_json: output.AsJson = False,
) -> None:
    """Approve the stage a policy waits at: the controller moves its traffic next."""
    decision = _training(ctx).approve_policy(name, comment)
    output.done(as_json, decision.reason, decision.to_dict())


@app.command("delete")
def delete(ctx: typer.Context, name: Name, as_json: output.AsJson = False) -> None:
    """Remove the policy (its decisions stay in the history)."""
    _training(ctx).delete_policy(name)
    output.done(as_json, f"deleted policy {name}", {"name": name, "deleted": True})


def controller(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option("--interval", metavar="SECONDS",
                                            help="How often to evaluate the policies.")] = 10.0,
    once: Annotated[bool, typer.Option("--once", help="Evaluate once, then exit.")] = False,
    lease: Annotated[float, typer.Option("--lease", metavar="SECONDS",
                                         help="How long the lease lasts unrenewed: another "
                                              "controller takes over this long after this "
                                              "one dies.")] = 30.0,
    as_json: output.AsJson = False,
) -> None:
    """Advance every active policy's loop; with several controllers running, one acts."""
    from gannet import bootstrap
    from gannet.core.errors import NotSupported

    if ctx.obj.settings.uri:
        raise NotSupported("a team server's policies are advanced by a controller next to "
                           "its stores, not through its API",
                           "run gannet controller where the server's stores are (or let the "
                           "server run it: the controller_interval setting)")
    training = _training(ctx)
    services = ctx.obj.services
    bootstrap.use_default_services(lambda: services)  # what pipeline steps read and write
    training.lease_s = lease

    def show(report: Any) -> None:
        for d in report.decisions:
            if as_json:
                output.print_json(d.to_dict())
            else:
                output.say(f"{_when(d.at)} {d.policy}: {d.action}: {d.reason}")
        for policy, error in report.errors.items():
            output.say(f"{policy}: {error}", style="red")

    stop = threading.Event()
    if once:
        stop.set()
    training.run_controller(interval, stop, show)
