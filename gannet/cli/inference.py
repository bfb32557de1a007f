"""``gannet predict`` and ``gannet logs``: batch inference and the inference log (being built)."""

import typer

logs = typer.Typer(help="The inference log (Parquet, read with DuckDB).", no_args_is_help=True)
