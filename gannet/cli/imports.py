"""``gannet import``: bring another tool's history in. ``gannet import mlflow`` is one
``MlflowImportService.import_mlflow`` call, with a progress bar and a summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.interop.types import ImportReport

app = typer.Typer(help="Bring another tool's history into Gannet.", no_args_is_help=True)


@app.command("mlflow")
def mlflow(
    ctx: typer.Context,
    tracking_uri: Annotated[
        str,
        typer.Option(
            "--tracking-uri",
            metavar="URI",
            help="The MLflow store: sqlite:///mlflow.db, file:./mlruns or http://host:5000.",
        ),
    ],
    experiments: Annotated[
        list[str] | None,
        typer.Option(
            "--experiment",
            "-e",
            metavar="NAME",
            help="Only this experiment (repeat for several), and the model versions of its runs.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Change nothing; count what would be copied.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Copy an MLflow tracking store (experiments, runs with params, metric histories, tags
    and artifacts, registered models, versions, aliases) into Gannet. Run it again to copy
    only what is new."""
    services = ctx.obj.services
    with output.progress_bar("copying runs and versions", enabled=not as_json) as advance:
        report = services.interop.import_mlflow(
            tracking_uri, experiment_names=experiments or None, dry_run=dry_run, progress=advance
        )
    if as_json:
        output.print_json({**report.__dict__})
        return
    _summary(report)


def _summary(report: ImportReport) -> None:
    would = "would copy" if report.dry_run else "copied"
    output.show(
        output.key_value_table(
            [
                ("From", report.source),
                ("Experiments created", str(report.experiments_created)),
                ("Runs", f"{report.runs_copied} {would}, {report.runs_existing} already here"
                 + (f", {report.runs_recopied} half-copied copied again"
                    if report.runs_recopied else "")),
                ("Metric points", str(report.metric_points)),
                ("Params / tags", f"{report.params} / {report.tags}"),
                ("Artifact files", str(report.artifact_files)),
                ("Registered models created", str(report.registered_models_created)),
                ("Versions", f"{report.versions_copied} {would}, "
                 f"{report.versions_existing} already here"),
                ("Aliases set", str(report.aliases_set)),
            ]
        )
    )
    for line in report.skipped:
        output.note(f"skipped {line}")
    if report.dry_run:
        output.say("dry run: nothing was written", style="bold")
    elif not report.copied_anything:
        output.say("nothing new to copy", style="bold")
    else:
        output.say(f"imported from {report.source}", style="bold")
