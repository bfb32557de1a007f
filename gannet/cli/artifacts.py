"""``gannet artifacts``: list a run's artifact tree and download from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gannet.cli import output
from gannet.cli.experiments import tracking_of

app = typer.Typer(help="Artifacts: the files a run logged.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="The run's id.")]
ArtifactPath = Annotated[
    str, typer.Argument(help="A file or folder inside the run's artifacts (default: all).")
]


@app.command("list")
def list_artifacts(
    ctx: typer.Context,
    run_id: RunId,
    path: ArtifactPath = "",
    as_json: output.AsJson = False,
) -> None:
    """The files and folders directly under PATH of a run's artifacts."""
    entries = tracking_of(ctx).list_artifacts(run_id, path or None)
    if as_json:
        output.print_json(entries)
        return
    if not entries:
        output.note(f"run {run_id} has no artifacts" + (f" under {path!r}" if path else ""))
        return
    where = f"{run_id}/{path}" if path else run_id
    columns = (
        output.Column("Path", 16),
        output.Column("Size", 9, fixed=True),
        output.Column("Digest", 19, drop=1, fixed=True, style="cyan"),
    )
    rows = [
        {
            "Path": output.text(f"{e.path}/", "bold blue") if e.is_dir else output.text(e.path),
            "Size": output.text(output.format_size(e.size)),
            "Digest": output.text(_short(e.digest)),
        }
        for e in entries
    ]
    output.show(output.fit_table(columns, rows, title=f"Artifacts of run {where}"))


@app.command("download")
def download(
    ctx: typer.Context,
    run_id: RunId,
    path: ArtifactPath = "",
    out: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Download into this folder (default: a new temporary folder).",
        ),
    ] = None,
    as_json: output.AsJson = False,
    old_out: Annotated[  # the name --output had before 0.4; kept so scripts keep working
        Path | None, typer.Option("--out", metavar="DIR", hidden=True, help="Deprecated: --output.")
    ] = None,
) -> None:
    """Download a run's artifact (a file or a folder) and print where it landed."""
    local = tracking_of(ctx).download_artifacts(run_id, path or None, out or old_out)
    if as_json:
        output.print_json({"run_id": run_id, "path": path, "local_path": local})
    else:
        typer.echo(str(local))


def _short(digest: str | None) -> str:
    """``blake3:0123456789ab`` — enough of a digest to recognise it."""
    if not digest:
        return ""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}:{hexdigest[:12]}" if hexdigest else digest[:19]
