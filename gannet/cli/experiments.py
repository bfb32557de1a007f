"""``gannet experiments``: list, create, rename, delete and restore experiments.

Every command that names an experiment accepts its id or its name (an id wins when a
name happens to equal another experiment's id).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output
from gannet.core.errors import NotFound
from gannet.tracking.types import Experiment, ViewType

if TYPE_CHECKING:
    from gannet.tracking.service import TrackingService

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)

ExperimentRef = Annotated[str, typer.Argument(metavar="ID_OR_NAME", help="Experiment id or name.")]
AsJson = output.AsJson


def tracking_of(ctx: typer.Context) -> TrackingService:
    return ctx.obj.tracking


def resolve_experiment(tracking: TrackingService, ref: str) -> Experiment:
    """The experiment whose id, else whose name, is ``ref`` (deleted ones included)."""
    try:
        return tracking.get_experiment(ref)
    except NotFound:
        pass
    found = tracking.get_experiment_by_name(ref)
    if found is None:
        raise NotFound(
            f"no experiment with id or name {ref!r}",
            "list experiments with `gannet experiments list --all`",
        )
    return found


def view_type(show_all: bool, deleted: bool) -> ViewType:
    """The lifecycle view ``--all`` / ``--deleted`` ask for (both at once: a usage error)."""
    if show_all and deleted:
        raise typer.BadParameter("--all and --deleted exclude each other", param_hint="--all")
    if show_all:
        return ViewType.ALL
    return ViewType.DELETED if deleted else ViewType.ACTIVE


@app.command("list")
def list_experiments(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Active and deleted.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Deleted only.")] = False,
    as_json: AsJson = False,
) -> None:
    """List experiments (active ones unless --all or --deleted)."""
    view = view_type(show_all, deleted)
    found = tracking_of(ctx).search_experiments(view)
    if as_json:
        output.print_json(found)
        return
    columns = [
        output.Column("ID", 32, fixed=True, style="cyan"),
        output.Column("Name", 10),
        output.Column("Stage", 7, fixed=True),
        output.Column("Created", 19, drop=1, fixed=True),
        output.Column("Tags", 10, drop=2),
    ]
    if not found:
        output.note("no experiments" + ("" if view == ViewType.ALL else f" ({view})"))
        return
    if view == ViewType.ACTIVE:
        del columns[2]
    rows = [
        {
            "ID": output.text(e.experiment_id),
            "Name": output.text(e.name, "bold"),
            "Stage": output.stage_text(e.lifecycle_stage),
            "Created": output.text(output.format_time(e.creation_time)),
            "Tags": output.text(", ".join(f"{k}={v}" for k, v in sorted(e.tags.items()))),
        }
        for e in found
    ]
    output.show(output.fit_table(columns, rows))


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the new experiment.")],
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="KEY=VALUE", help="A tag; repeat for more."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Create an experiment and print its id."""
    experiment_id = tracking_of(ctx).create_experiment(name, parse_tags(tag or []))
    output.done(
        as_json,
        f"Created experiment {name!r} with id {experiment_id}",
        {"experiment_id": experiment_id, "name": name},
    )


def parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--tag")
        tags[key] = value
    return tags


@app.command("rename")
def rename(
    ctx: typer.Context,
    experiment: ExperimentRef,
    new_name: Annotated[str, typer.Argument(help="The new name.")],
    as_json: AsJson = False,
) -> None:
    """Give an experiment a new name."""
    tracking = tracking_of(ctx)
    found = resolve_experiment(tracking, experiment)
    tracking.rename_experiment(found.experiment_id, new_name)
    output.done(
        as_json,
        f"Renamed experiment {found.experiment_id}: {found.name!r} -> {new_name!r}",
        {"experiment_id": found.experiment_id, "old_name": found.name, "name": new_name},
    )


@app.command("delete")
def delete(ctx: typer.Context, experiment: ExperimentRef, as_json: AsJson = False) -> None:
    """Delete an experiment (soft: it and its runs can be restored)."""
    tracking = tracking_of(ctx)
    found = resolve_experiment(tracking, experiment)
    tracking.delete_experiment(found.experiment_id)
    output.done(
        as_json,
        f"Deleted experiment {found.name!r} (id {found.experiment_id})",
        {"experiment_id": found.experiment_id, "name": found.name, "lifecycle_stage": "deleted"},
    )


@app.command("restore")
def restore(ctx: typer.Context, experiment: ExperimentRef, as_json: AsJson = False) -> None:
    """Restore a deleted experiment."""
    tracking = tracking_of(ctx)
    found = resolve_experiment(tracking, experiment)
    tracking.restore_experiment(found.experiment_id)
    output.done(
        as_json,
        f"Restored experiment {found.name!r} (id {found.experiment_id})",
        {"experiment_id": found.experiment_id, "name": found.name, "lifecycle_stage": "active"},
    )
