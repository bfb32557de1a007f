"""``gannet deployments``: deployments and their traffic (being built)."""

import typer

app = typer.Typer(
    help="Deployments: versions, traffic weights, shadows, rollback.", no_args_is_help=True
)
