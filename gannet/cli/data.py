"""``gannet data``: datasets' profiles and validation (``data_quality``)."""

from __future__ import annotations

import typer

from gannet.cli import data_quality

app = typer.Typer(help="Datasets: profile and validate tables.", no_args_is_help=True)
app.command("validate")(data_quality.validate)
app.command("profile")(data_quality.profile)
