"""``gannet data validate`` and ``gannet data profile``: each one ``ValidationService``
call. ``validate`` exits with status 1 (``ExitCode.ERROR``, as a failed promotion gate
does) when a check fails, so CI can gate on it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import output
from gannet.core.errors import ExitCode, InvalidArgument, NotFound

if TYPE_CHECKING:
    from gannet.stats.profile import ColumnProfile, Profile

RefOrPath = Annotated[
    str,
    typer.Argument(metavar="REF_OR_PATH",
                   help="A Parquet file or folder of Parquet files, a CSV file, a dataset "
                   "version (churn@3) or a feature view's rows (feature_view:NAME)."),
]


def _table_source(ctx: typer.Context, ref_or_path: str) -> str:
    """The local path of the table ``ref_or_path`` names: a file or folder, else a dataset
    version (``churn``, ``churn@3``, ``churn@prod``) from the verified local cache."""
    path = Path(ref_or_path).expanduser()
    from gannet.features.sources import feature_view_named

    if path.exists() or feature_view_named(ref_or_path) is not None:
        return str(path) if path.exists() else ref_or_path
    try:
        return str(ctx.obj.services.data.local_path(ref_or_path))
    except (NotFound, InvalidArgument):
        raise NotFound(
            f"no file or folder at {ref_or_path}, and no dataset version {ref_or_path!r}",
            "give the path of a Parquet file, a folder of Parquet files or a CSV file, or "
            "a dataset version (gannet data list)",
        ) from None


def validate(
    ctx: typer.Context,
    ref_or_path: RefOrPath,
    suite: Annotated[
        Path,
        typer.Option("--suite", "-s", metavar="FILE",
                     help="The suite: YAML (checks: [...]) or a Great Expectations JSON suite."),
    ],
    run_id: Annotated[
        str | None,
        typer.Option("--run", metavar="RUN_ID",
                     help="Tag this run gannet.validation=passed|failed (promotion gates "
                     "read it)."),
    ] = None,
    as_json: output.AsJson = False,
) -> None:
    """Run a suite of checks over a table, print each check's verdict with a few offending
    rows, store the result; exit with status 1 when a check failed."""
    source = _table_source(ctx, ref_or_path)
    report = ctx.obj.services.validation.validate_data(
        source, suite, dataset=ref_or_path, run_id=run_id
    )
    if as_json:
        output.print_json(report.to_dict())
    else:
        output.show(report)
    if not report.passed:
        raise typer.Exit(int(ExitCode.ERROR))


def profile(ctx: typer.Context, ref_or_path: RefOrPath, as_json: output.AsJson = False) -> None:
    """Profile a table: schema, row count, and per column nulls, distinct values, range,
    mean, spread, quantiles, histogram and most frequent values."""
    result = ctx.obj.services.validation.profile_data(_table_source(ctx, ref_or_path))
    if as_json:
        output.print_json(result.to_dict())
        return
    _show_profile(result)


def _show_profile(result: Profile) -> None:
    grid = output.table("column", "type", "nulls", "distinct", "min", "max", "mean", "std",
                        "median", "histogram / top values",
                        title=f"{result.source}: {result.rows} rows, {len(result.columns)} columns")
    for column in result.columns:
        grid.add_row(*(output.text(cell) for cell in _profile_row(column)))
    output.show(grid)
    if any(c.approximate for c in result.columns):
        output.note("distinct counts and quantiles are estimates (a large table)")


def _profile_row(c: ColumnProfile) -> list[str]:
    if c.histogram is not None:
        shape = output.sparkline([float(n) for n in c.histogram.counts])
    else:
        shape = ", ".join(f"{t.value} ({t.count})" for t in c.top[:3])
    distinct = "" if c.distinct is None else f"{'~' if c.approximate else ''}{c.distinct}"
    return [c.name, c.type, f"{c.nulls} ({c.null_fraction:.1%})", distinct, _short(c.min),
            _short(c.max), _short(c.mean), _short(c.std), _short(c.quantiles.get("0.5")), shape]


def _short(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
