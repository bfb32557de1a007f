"""``gannet schedule create|list|runs|delete`` and ``gannet scheduler``: pipelines on a cron.

Each command is one ``PipelineService`` call; ``gannet scheduler`` calls
``run_due_schedules`` every ``--interval`` seconds (any number of schedulers may run: each
window fires once).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from gannet.cli import output

app = typer.Typer(no_args_is_help=True, help="Run pipelines on a schedule.")


def _when(window: int) -> str:
    """A cron window (ms since the epoch), or the version that fired a dataset's schedule."""
    if window < 10**11:
        return f"version {window}"
    return datetime.fromtimestamp(window / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("create")
def create(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(
        metavar="PIPELINE", help="The pipeline's FILE[:NAME], or features.materialize (an "
        "incremental materialization; -p views=VIEW,... to name views).")],
    cron: Annotated[str | None, typer.Option("--cron", help='When, in UTC: "0 3 * * *" is '
                                             "03:00 every day.")] = None,
    dataset: Annotated[str | None, typer.Option("--on-dataset", metavar="NAME",
                                                help="Instead of --cron: run on each new "
                                                     "version of this dataset.")] = None,
    params: Annotated[list[str] | None, typer.Option(
        "--param", "-p", metavar="NAME=VALUE", help="A pipeline parameter (repeat it).")] = None,
    executor: Annotated[str, typer.Option("--executor", help="Where its steps run: local, "
                                          "processes or dask.")] = "processes",
    as_json: output.AsJson = False,
) -> None:
    """Schedule a pipeline with parameters (checked now) on a cron expression, or on each
    new version of a dataset."""
    from pathlib import Path

    from gannet.pipelines.parameters import parse_assignments
    from gannet.pipelines.scheduling import MATERIALIZE

    path, sep, name = target.rpartition(":") if not Path(target).is_file() else (target, "", "")
    absolute = target if target == MATERIALIZE else f"{Path(path).resolve()}{sep}{name}"
    schedule = ctx.obj.services.pipelines.create_schedule(
        absolute, cron, parse_assignments(params or []), executor, dataset=dataset)
    when = f"at {cron!r} (UTC)" if cron else f"on each new version of dataset {dataset}"
    output.done(as_json, f"schedule {schedule.schedule_id}: {target} {when}", schedule)


@app.command("list")
def list_schedules(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """The schedules, with their last fired window and its outcome."""
    service = ctx.obj.services.pipelines
    schedules = service.list_schedules()
    last: dict[str, Any] = {}
    for f in service.list_schedule_runs():
        last.setdefault(f.schedule_id, f)
    if as_json:
        output.print_json([{**s.__dict__, "last": last.get(s.schedule_id)} for s in schedules])
        return
    table = output.table("Schedule", "Pipeline", "Cron", "Params", "Last window", "Outcome")
    for s in schedules:
        f = last.get(s.schedule_id)
        table.add_row(*map(output.text, (
            s.schedule_id, s.target, s.cron or f"dataset {s.dataset}",
            " ".join(f"{k}={v}" for k, v in s.params.items()),
            _when(f.window_time) if f else "-", f.status if f else "-")))
    output.show(table)


@app.command("runs")
def runs(
    ctx: typer.Context,
    schedule_id: Annotated[str | None, typer.Argument(metavar="[SCHEDULE]",
                                                      help="Only this schedule's.")] = None,
    as_json: output.AsJson = False,
) -> None:
    """The recurring runs: each fired window, which scheduler fired it, its run and outcome."""
    found = ctx.obj.services.pipelines.list_schedule_runs(schedule_id)
    if as_json:
        output.print_json(found)
        return
    table = output.table("Schedule", "Window", "Fired by", "Run", "Outcome")
    for f in found:
        table.add_row(*map(output.text, (f.schedule_id, _when(f.window_time), f.holder,
                                         f.run_id or "-", f.status)))
    output.show(table)


@app.command("delete")
def delete(
    ctx: typer.Context,
    schedule_id: Annotated[str, typer.Argument(metavar="SCHEDULE")],
    as_json: output.AsJson = False,
) -> None:
    """Stop a schedule (its past runs stay)."""
    ctx.obj.services.pipelines.delete_schedule(schedule_id)
    output.done(as_json, f"deleted schedule {schedule_id}",
                {"schedule_id": schedule_id, "deleted": True})


def scheduler(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Fire what is due now, then exit.")] = False,
    interval: Annotated[float, typer.Option("--interval", metavar="SECONDS",
                                            help="How often to look for due windows.")] = 30.0,
    monitors: Annotated[bool, typer.Option("--monitors/--no-monitors",
                                           help="Run the monitors too (their new windows, "
                                                "late labels and alerts).")] = True,
    as_json: output.AsJson = False,
) -> None:
    """Fire scheduled pipelines, each window once even with several schedulers running;
    run the monitors over what the inference log gained."""
    service = ctx.obj.services.pipelines
    while True:
        fired = service.run_due_schedules()
        for f in fired:
            if as_json:
                output.print_json(f)
            else:
                output.say(f"{_when(f.window_time)} {f.schedule_id}: run {f.run_id} {f.status}")
        if monitors:
            _run_monitors(ctx, as_json)
        if once:
            return
        time.sleep(interval)


def _run_monitors(ctx: typer.Context, as_json: bool) -> None:
    summaries, errors = ctx.obj.services.monitoring.run_monitors()
    for summary in summaries:
        if as_json:
            output.print_json(summary.to_dict())
        else:
            firing = [a for a in summary.alerts if a.get("state") == "firing"]
            output.say(f"monitor {summary.monitor}: {summary.rows_read} rows, "
                       f"{len(summary.reports)} reports, {len(firing)} alerts firing")
    for name, error in errors.items():
        output.say(f"monitor {name}: {error}", style="red")
