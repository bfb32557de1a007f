"""``gannet runs``: list, show, search, compare, delete and restore runs.

Listings are newest first unless ``--order-by`` says otherwise. ``--experiment/-e``
takes ids or names and may be repeated; without it every active experiment is searched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import output
from gannet.cli.experiments import resolve_experiment, tracking_of, view_type
from gannet.tracking.types import Experiment, Lifecycle, Run, ViewType, format_metric

if TYPE_CHECKING:
    from rich.table import Table

    from gannet.tracking.service import TrackingService

app = typer.Typer(
    help="Runs: one execution of training code, with its params and metrics.", no_args_is_help=True
)

RunId = Annotated[str, typer.Argument(help="The run's id.")]
AsJson = output.AsJson
Experiments = Annotated[
    list[str] | None,
    typer.Option(
        "--experiment",
        "-e",
        metavar="ID_OR_NAME",
        help="Only runs of this experiment; repeat for more (default: all active).",
    ),
]
Limit = Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many runs.")]
OldMax = Annotated[  # the name --limit had before 0.4; kept so scripts keep working
    int | None, typer.Option("--max", min=1, hidden=True, help="Deprecated: --limit.")
]
ShowAll = Annotated[bool, typer.Option("--all", help="Active and deleted runs.")]
Deleted = Annotated[bool, typer.Option("--deleted", help="Deleted runs only.")]
HIDDEN_TAG_PREFIX = "gannet."


@app.command("list")
def list_runs(
    ctx: typer.Context,
    experiment: Experiments = None,
    limit: Limit = 100,
    show_all: ShowAll = False,
    deleted: Deleted = False,
    as_json: AsJson = False,
    old_max: OldMax = None,
) -> None:
    """List runs, newest first."""
    max_results = old_max or limit
    view = view_type(show_all, deleted)
    tracking = tracking_of(ctx)
    ids, names = _scope(tracking, experiment or [])
    page = tracking.search_runs(ids, None, None, max_results, None, view)
    if as_json:
        output.print_json(page.items)
        return
    if not page.items:
        output.note("no runs")
        return
    output.show(runs_table(page.items, names))
    if page.next_page_token:
        output.note(f"showing the newest {max_results}; more runs exist (raise --limit)")


@app.command("search")
def search(
    ctx: typer.Context,
    filter_string: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILTER]", help="e.g. \"metrics.acc > 0.9 AND params.model = 'rf'\"."
        ),
    ] = None,
    experiment: Experiments = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option(
            "--order-by",
            metavar="KEY [ASC|DESC]",
            help='e.g. "metrics.acc DESC"; repeat for more keys.',
        ),
    ] = None,
    limit: Limit = 100,
    page_token: Annotated[
        str | None, typer.Option("--page-token", metavar="T", help="Continue a search.")
    ] = None,
    show_all: ShowAll = False,
    deleted: Deleted = False,
    as_json: AsJson = False,
    old_max: OldMax = None,
) -> None:
    """Search runs with MLflow's filter language; prints the next page token if any."""
    max_results = old_max or limit
    view = view_type(show_all, deleted)
    tracking = tracking_of(ctx)
    ids, names = _scope(tracking, experiment or [])
    page = tracking.search_runs(ids, filter_string, order_by, max_results, page_token, view)
    if as_json:
        output.print_json({"runs": page.items, "next_page_token": page.next_page_token})
        return
    if page.items:
        output.show(runs_table(page.items, names))
    else:
        output.note("no runs match")
    if page.next_page_token:
        output.say(f"next page token: {page.next_page_token}")


@app.command("show")
def show_run(
    ctx: typer.Context,
    run_id: RunId,
    all_tags: Annotated[
        bool, typer.Option("--all-tags", help="Also show Gannet's own gannet.* tags.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """A run's info, params, latest metrics (with their history) and tags."""
    tracking = tracking_of(ctx)
    run = tracking.get_run(run_id)
    histories = {
        key: [m.value for m in tracking.get_metric_history(run_id, key)]
        for key in sorted(run.data.metrics)
    }
    tags = {
        key: value
        for key, value in sorted(run.data.tags.items())
        if all_tags or not key.startswith(HIDDEN_TAG_PREFIX)
    }
    if as_json:
        document = output.jsonable(run)
        document["data"]["tags"] = tags
        document["metric_points"] = {key: len(values) for key, values in histories.items()}
        output.print_json(document)
        return
    experiment = tracking.get_experiment(run.info.experiment_id)
    output.show(
        _info_grid(run, experiment),
        "",
        _params_table(run),
        _metrics_table(run, histories),
        _tags_table(tags),
    )
    hidden = len(run.data.tags) - len(tags)
    if hidden:
        output.note(f"{hidden} gannet.* tag(s) hidden; --all-tags shows them")


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str], typer.Argument(metavar="RUN_ID RUN_ID [...]", help="Two or more run ids.")
    ],
    as_json: AsJson = False,
) -> None:
    """Params and latest metrics of runs side by side; differing params are marked."""
    if len(run_ids) < 2:
        raise typer.BadParameter("compare needs at least two run ids", param_hint="RUN_ID")
    tracking = tracking_of(ctx)
    found = [tracking.get_run(run_id) for run_id in run_ids]
    params = _side_by_side([run.data.params for run in found])
    metrics = _side_by_side([run.data.metrics for run in found])
    differing = [key for key, values in params.items() if len(set(values)) > 1]
    if as_json:
        output.print_json(
            {"runs": found, "params": params, "metrics": metrics, "differing_params": differing}
        )
        return
    output.show_uncut(_compare_table(found, params, metrics, set(differing)))


@app.command("delete")
def delete(ctx: typer.Context, run_id: RunId, as_json: AsJson = False) -> None:
    """Delete a run (soft: restore brings it back)."""
    tracking_of(ctx).delete_run(run_id)
    output.done(as_json, f"Deleted run {run_id}", {"run_id": run_id, "lifecycle_stage": "deleted"})


@app.command("restore")
def restore(ctx: typer.Context, run_id: RunId, as_json: AsJson = False) -> None:
    """Restore a deleted run."""
    tracking_of(ctx).restore_run(run_id)
    output.done(as_json, f"Restored run {run_id}", {"run_id": run_id, "lifecycle_stage": "active"})


# -- scope ---------------------------------------------------------------------------------


def _scope(tracking: TrackingService, refs: list[str]) -> tuple[list[str], dict[str, str]]:
    """The experiment ids to search (named ones, else all active) and every id's name."""
    known = tracking.search_experiments(ViewType.ALL)
    names = {e.experiment_id: e.name for e in known}
    if not refs:
        return [e.experiment_id for e in known if e.lifecycle_stage == Lifecycle.ACTIVE], names
    ids = []
    for ref in refs:
        match = _match(known, ref) or resolve_experiment(tracking, ref)
        ids.append(match.experiment_id)
    return list(dict.fromkeys(ids)), names


def _match(known: list[Experiment], ref: str) -> Experiment | None:
    by_id = [e for e in known if e.experiment_id == ref]
    by_name = [e for e in known if e.name == ref]
    found = by_id or by_name
    return found[0] if found else None


# -- rendering -----------------------------------------------------------------------------


RUN_COLUMNS = (
    output.Column("Run ID", 32, fixed=True, style="cyan"),
    output.Column("Name", 8),
    output.Column("Experiment", 10, drop=3),
    output.Column("Status", 9, fixed=True),
    output.Column("Started", 19, drop=2, fixed=True),
    output.Column("Duration", 8, drop=1, fixed=True),
    output.Column("Metrics", 24),
)


def runs_table(found: list[Run], experiment_names: dict[str, str]) -> Table:
    """One row per run; on a narrow terminal Experiment, Started and Duration give way."""
    rows = []
    for run in found:
        info = run.info
        rows.append(
            {
                "Run ID": output.text(info.run_id),
                "Name": output.text(info.run_name, "bold"),
                "Experiment": output.text(experiment_names.get(info.experiment_id, "")),
                "Status": output.status_text(info.status),
                "Started": output.text(output.format_time(info.start_time)),
                "Duration": output.text(output.format_duration(info.duration_ms)),
                "Metrics": output.text(output.format_metrics(run.data.metrics)),
            }
        )
    return output.fit_table(RUN_COLUMNS, rows)


def _info_grid(run: Run, experiment: Experiment) -> Any:
    info = run.info
    rows: list[tuple[str, object]] = [
        ("Run", output.text(f"{info.run_name} ({info.run_id})", "bold")),
        ("Experiment", f"{experiment.name} ({experiment.experiment_id})"),
        ("Status", output.status_text(info.status)),
        ("Lifecycle", output.stage_text(info.lifecycle_stage)),
        ("Started", output.format_time(info.start_time)),
        ("Ended", output.format_time(info.end_time) or "-"),
        ("Duration", output.format_duration(info.duration_ms) or "-"),
        ("User", info.user_id),
        ("Source", f"{info.source_name} ({info.source_type})" if info.source_name else "-"),
        ("Git commit", info.git_commit or "-"),
        ("Parent run", info.parent_run_id or "-"),
        ("Artifacts", info.artifact_uri),
    ]
    return output.key_value_table(rows)


def _params_table(run: Run) -> Table:
    grid = output.table("Param", "Value", title=f"Params ({len(run.data.params)})")
    for key, value in sorted(run.data.params.items()):
        grid.add_row(output.text(key, "bold"), output.text(value))
    return grid


def _metrics_table(run: Run, histories: dict[str, list[float]]) -> Table:
    grid = output.table(
        "Metric", "Latest", "Points", "History", title=f"Metrics ({len(run.data.metrics)})"
    )
    for key, value in sorted(run.data.metrics.items()):
        history = histories.get(key, [])
        grid.add_row(
            output.text(key, "bold"),
            output.text(format_metric(value)),
            output.text(len(history)),
            output.text(output.sparkline(history), "green"),
        )
    return grid


def _tags_table(tags: dict[str, str]) -> Table:
    grid = output.table("Tag", "Value", title=f"Tags ({len(tags)})")
    for key, value in tags.items():
        grid.add_row(output.text(key, "bold"), output.text(value))
    return grid


def _side_by_side(per_run: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """key -> one value per run (None where a run lacks the key), keys sorted."""
    keys = sorted({key for values in per_run for key in values})
    return {key: [values.get(key) for values in per_run] for key in keys}


def _compare_table(
    found: list[Run],
    params: dict[str, list[Any]],
    metrics: dict[str, list[Any]],
    differing: set[str],
) -> Table:
    grid = output.table("", "Key", *(f"{run.info.run_name}\n{run.run_id}" for run in found))
    grid.columns[0].no_wrap = True
    for column, run in zip(grid.columns[2:], found, strict=True):
        column.min_width = len(run.run_id)  # a run id is never wrapped
    attributes = {
        "status": [str(run.info.status) for run in found],
        "started": [output.format_time(run.info.start_time) for run in found],
        "duration": [output.format_duration(run.info.duration_ms) for run in found],
    }
    for key, values in attributes.items():
        grid.add_row(output.text(""), output.text(key, "dim"), *map(output.text, values))
    grid.add_section()
    for key, values in params.items():
        style = "bold yellow" if key in differing else None
        marker = "≠" if key in differing else ""
        cells = [output.text("-" if v is None else v, style) for v in values]
        grid.add_row(output.text(marker, style), output.text(f"params.{key}", style), *cells)
    grid.add_section()
    for key, points in metrics.items():
        cells = [output.text("-" if v is None else format_metric(v)) for v in points]
        grid.add_row(output.text(""), output.text(f"metrics.{key}"), *cells)
    return grid
