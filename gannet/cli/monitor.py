"""``gannet monitor``: create, run, show, list, delete, metrics, grafana - each a thin face
over one ``MonitorService`` call (``create_monitor`` is ``create``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.monitoring.service import MonitorService
    from gannet.monitoring.types import Monitor, MonitorReport

app = typer.Typer(help="Monitors: drift, data quality and live performance of deployments.",
                  no_args_is_help=True)

JsonOption = output.AsJson
NameArg = Annotated[str, typer.Argument(help="The monitor's name.", show_default=False)]


def _service(ctx: typer.Context) -> MonitorService:
    return ctx.obj.services.monitoring


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@app.command("create")
def create(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment to watch.",
                                              show_default=False)],
    reference: Annotated[str, typer.Option(
        "--reference", metavar="SOURCE",
        help="What normal looks like: a Parquet or CSV file, or a window of the log "
             "(log:first:1000, log:2026-11-01/2026-11-08).", show_default=False)],
    name: Annotated[str | None, typer.Option("--name", help="The monitor's name (default: "
                                             "the deployment's).")] = None,
    window: Annotated[str, typer.Option("--window", help="hour, day, or rows:N (the last N "
                                        "rows at each run).")] = "hour",
    features: Annotated[str | None, typer.Option(
        "--features", help="Comma-separated features to watch (default: every column of "
        "the reference but the prediction).")] = None,
    slices: Annotated[str | None, typer.Option(
        "--slices", help="Comma-separated features to split performance by.")] = None,
    method: Annotated[str, typer.Option(
        "--method", help="auto (Evidently's defaults), or ks, wasserstein, chisquare, psi, "
        "jensenshannon for every feature.")] = "auto",
    threshold: Annotated[float | None, typer.Option(
        "--threshold", help="Overrides the test's threshold (p-value or distance).")] = None,
    correction: Annotated[str | None, typer.Option(
        "--correction", help="bh: Benjamini-Hochberg over the features' p-values.")] = None,
    min_rows: Annotated[int, typer.Option("--min-rows", help="Fewer values than this in a "
                                          "window: insufficient, never drift.")] = 30,
    task: Annotated[str, typer.Option("--task", help="classification, regression or auto "
                                      "(from the labels).")] = "auto",
    sample_rows: Annotated[int, typer.Option(
        "--sample-rows", help="A window of more rows is tested on a uniform sample of this "
        "many (0: every row); rows are still counted exactly.")] = 100_000,
    label_horizon: Annotated[str, typer.Option(
        "--label-horizon", help="How long labels may arrive late: windows this recent are "
        "scored again at each run.")] = "7d",
    as_json: JsonOption = False,
) -> None:
    """Watch DEPLOYMENT's inference log against a reference."""
    monitor = _service(ctx).create_monitor(
        deployment, reference, name=name, window=window, features=_csv(features),
        slices=_csv(slices), method=method, threshold=threshold, correction=correction,
        min_rows=min_rows, task=task, label_horizon=label_horizon, sample_rows=sample_rows)
    output.done(as_json, f"Created monitor {monitor.name} of {deployment} (window {window}, "
                f"reference {monitor.reference_source})", monitor.to_dict())


@app.command("run")
def run(
    ctx: typer.Context,
    name: NameArg,
    every: Annotated[str | None, typer.Option(
        "--every", metavar="DURATION", help="Run again every DURATION (1h, 15m) until "
        "interrupted.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Read the log rows that arrived since the last run and report their windows."""
    from gannet.core.durations import parse_duration

    pause = parse_duration(every) if every else None
    service = _service(ctx)
    while True:
        summary = service.run_monitor(name)
        if service.alerts is not None:
            service.alerts.wait_for_deliveries(30.0)
        if as_json:
            output.print_json(summary.to_dict())
        else:
            output.say(f"{name}: read {summary.rows_read} rows, "
                       f"{len(summary.reports)} reports written, {len(summary.alerts)} alerts")
            for report in summary.reports:
                _report_line(report)
        if pause is None:
            return
        time.sleep(pause)


def _report_line(report: MonitorReport) -> None:
    metrics = report.metrics
    drifted = report.body["drift"]["drifted_columns"]
    perf = ", ".join(f"{k.split('.', 1)[1]} {v:.3g}" for k, v in metrics.items()
                     if k.startswith("performance."))
    output.say(f"  {output.format_time(report.window_start)} {report.rows} rows "
               f"{report.status}{' (open)' if report.partial else ''}: drift share "
               f"{metrics.get('drift.share', 0):.2g}"
               + (f" [{', '.join(drifted)}]" if drifted else "") + (f"; {perf}" if perf else ""))


@app.command("show")
def show(
    ctx: typer.Context,
    name: NameArg,
    limit: Annotated[int, typer.Option("--limit", help="How many windows, newest first.")] = 24,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Write the reports as a self-contained HTML page with plots.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A monitor and its latest reports."""
    service = _service(ctx)
    monitor = service.get_monitor(name)
    reports = service.list_monitor_reports(name, limit=limit)
    if html is not None:
        from gannet.monitoring.page import render_page

        html.write_text(render_page(monitor, reports), encoding="utf-8")
        if not as_json:
            output.note(f"wrote {html}")
    if as_json:
        output.print_json({**monitor.to_dict(), "reports": [r.to_dict() for r in reports]})
        return
    _describe(monitor)
    for report in reports:
        _report_line(report)


def _describe(monitor: Monitor) -> None:
    output.show(output.key_value_table([
        ("Monitor", monitor.name), ("Deployment", monitor.deployment),
        ("Reference", monitor.reference_source), ("Window", monitor.options.window),
        ("Last run", output.format_time(monitor.last_run_time)),
    ]))


@app.command("list")
def list_(
    ctx: typer.Context,
    deployment: Annotated[str | None, typer.Argument(help="Only this deployment's.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The monitors (of one deployment)."""
    monitors = _service(ctx).list_monitors(deployment)
    if as_json:
        output.print_json([m.to_dict() for m in monitors])
        return
    grid = output.table("name", "deployment", "window", "last run", "reference")
    for m in monitors:
        grid.add_row(output.text(m.name), output.text(m.deployment),
                     output.text(m.options.window), output.text(output.format_time(
                         m.last_run_time)), output.text(m.reference_source))
    output.show(grid)


@app.command("delete")
def delete(ctx: typer.Context, name: NameArg, as_json: JsonOption = False) -> None:
    """Delete a monitor and its reports."""
    _service(ctx).delete_monitor(name)
    output.done(as_json, f"Deleted monitor {name}", {"deleted": name})


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file "
                                             "(for a textfile collector).")] = None,
) -> None:
    """The latest monitor outputs as Prometheus text."""
    from gannet.monitoring.prometheus import exposition

    text = exposition(_service(ctx))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)


@app.command("grafana")
def grafana(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="The deployment.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file "
                                             "(default: stdout).")] = None,
) -> None:
    """A Grafana dashboard (JSON) of DEPLOYMENT's serving and monitor metrics."""
    from gannet.core.errors import NotFound
    from gannet.monitoring.grafana import dashboard

    try:
        model = ctx.obj.services.deployments.get_deployment(deployment).state.model
    except NotFound:  # served as a model reference (gannet serve churn@champion)
        model = deployment
    text = json.dumps(dashboard(deployment, model), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text)
        output.note(f"wrote {out}")
