"""``gannet predict`` (batch inference over a file) and ``gannet logs`` (the inference log:
query it with SQL, show the latest predictions, record feedback).

The log lives where ``inference_log_url`` says (``<home>/inference-log``, or a shared
object store, read through a cache under ``<home>/cache``); these commands read it
directly and open no metadata store, except ``predict``, which loads the model from the
registry. With the ``uri`` setting (GANNET_URI) ``query``, ``show`` and ``feedback`` ask
the team server instead (its log, its rules).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import output

if TYPE_CHECKING:
    import pandas as pd

    from gannet.serving.log.reader import InferenceLog

logs = typer.Typer(help="The inference log (Parquet, read with DuckDB).", no_args_is_help=True)

JsonOption = output.AsJson
DeploymentArg = Annotated[
    str, typer.Argument(metavar="DEPLOYMENT", help="The deployment whose log to use.")
]


def _log(ctx: typer.Context) -> InferenceLog:
    """The log itself, or with the ``uri`` setting (GANNET_URI) the team server's."""
    from gannet.serving.log.reader import InferenceLog
    from gannet.serving.log.schema import default_root

    settings = ctx.obj.settings
    if settings.uri:
        return ctx.obj.services.inference_log
    return InferenceLog(default_root(settings), cache=settings.home / "cache" / "inference-log")


def retention_days(settings: Any) -> float | None:
    """The ``inference_log_retention`` setting in days (None: keep forever)."""
    from gannet.core.durations import parse_duration

    text = settings.inference_log_retention
    return parse_duration(text) / 86400 if text else None


def predict(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="The model: churn@champion, churn/3, ...")
    ],
    source: Annotated[Path, typer.Argument(metavar="INPUT", help="A Parquet or CSV file.")],
    dest: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="FILE", show_default=False,
            help="The file to write; its extension says the format: .parquet, .csv or .jsonl.",
        ),
    ],
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows read and predicted at a time.")
    ] = 50_000,
    passthrough: Annotated[
        list[str] | None,
        typer.Option("--passthrough", metavar="COLUMN",
                     help="Copy COLUMN to the output without giving it to the model (repeat it)."),
    ] = None,
    log_deployment: Annotated[
        str | None,
        typer.Option("--log-deployment", metavar="NAME",
                     help="Also write every chunk to the inference log of deployment NAME."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Predict every row of INPUT with a registered model; write them with the predictions."""
    from gannet.serving.batch import output_format, predict_file
    from gannet.serving.log.schema import default_root
    from gannet.serving.log.writer import InferenceLogWriter

    output_format(dest)  # an output Gannet cannot write is refused before any work
    state, registry = ctx.obj, ctx.obj.services.registry
    version = registry.resolve_model_version(ref)
    model = registry.load_model(f"{version.name}/{version.version}")
    writer = InferenceLogWriter(default_root(state.settings)) if log_deployment else None
    try:
        result = predict_file(
            model, source, dest, chunk_rows=chunk_rows, passthrough=passthrough or (),
            log=writer, deployment=log_deployment, model_name=version.name,
            version=version.version, progress=state.settings.progress and not as_json,
        )
    finally:
        if writer is not None:
            writer.close()
    if as_json:
        output.print_json({
            "model": version.name, "version": version.version, "rows": result.rows,
            "chunks": result.chunks, "seconds": result.seconds, "output": str(result.dest),
            "batch_id": result.batch_id if writer else None,
        })
        return
    output.say(
        f"predicted {result.rows:,} rows of {source} with {version.name}/{version.version} "
        f"in {result.seconds:.1f}s ({result.rows_per_second:,.0f} rows/s) -> {result.dest}"
    )
    if writer is not None:
        _say_logged(writer, result, log_deployment)


def _say_logged(writer: Any, result: Any, deployment: str | None) -> None:
    """Where batch predictions went in the inference log, and what it missed."""
    requests = f"request {result.batch_id}-0" if result.chunks <= 1 else (
        f"requests {result.batch_id}-0 .. {result.batch_id}-{result.chunks - 1}")
    output.note(f"logged to deployment {deployment} as {requests}")
    if writer.failed or writer.dropped:
        output.note(f"the inference log missed {writer.failed + writer.dropped} chunk(s): "
                    f"{writer.last_error or 'its queue was full'}")


@logs.command("query")
def query(
    ctx: typer.Context,
    deployment: DeploymentArg,
    sql: Annotated[
        str,
        typer.Argument(metavar="SQL",
                       help="DuckDB SQL over the views predictions, feedback and joined."),
    ],
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many result rows.")
    ] = 100,
    as_json: JsonOption = False,
) -> None:
    """Run SQL over a deployment's inference log (the view joined adds each row's label)."""
    frame = _log(ctx).query(deployment, sql, limit=limit + 1)
    more = len(frame) > limit
    frame = frame.head(limit)
    if as_json:
        output.print_json(_records(frame))
    elif frame.empty:
        output.note("the query returned no rows")
    else:
        grid = output.table(*map(str, frame.columns))
        for row in frame.itertuples(index=False):
            grid.add_row(*(output.text(_cell(v)) for v in row))
        output.show(grid)
    if more:
        output.note(f"showing the first {limit} rows; raise --limit for more")


@logs.command("show")
def show(
    ctx: typer.Context,
    deployment: DeploymentArg,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many rows, newest first.")
    ] = 20,
    as_json: JsonOption = False,
    old_last: Annotated[  # the name --limit had before 0.4; kept so scripts keep working
        int | None, typer.Option("--last", min=1, hidden=True, help="Deprecated: --limit.")
    ] = None,
) -> None:
    """The latest logged predictions of a deployment, one line each."""
    frame = _log(ctx).show(deployment, old_last or limit)
    if as_json:
        output.print_json(_records(frame))
        return
    if frame.empty:
        output.note(f"no predictions logged for {deployment} yet")
        return
    inputs = [c for c in frame.columns if c.startswith("input.")]
    outputs = [c for c in frame.columns if c == "prediction" or c.startswith("prediction.")]
    output.lines(_show_line(record, inputs, outputs) for record in frame.to_dict("records"))


def _show_line(record: dict[str, Any], inputs: list[str], outputs: list[str]) -> output.Text:
    """``time  vN  request/row  prediction  latency  inputs``: one line, cut at the edge."""
    from rich.text import Text

    shown = ", ".join(_cell(record[c]) for c in outputs)
    features = " ".join(
        f"{c.removeprefix('input.')}={_cell(record[c])}" for c in inputs if _cell(record[c]) != ""
    )
    return Text.assemble(
        (_cell(record["timestamp"]), "dim"), "  ",
        (f"v{record.get('version')}", "cyan"), "  ",
        f"{record['request_id']}/{record['row']}", "  ",
        (f"{shown} (shadow)" if record["shadow"] else shown,
         "dim" if record["shadow"] else "bold"), "  ",
        f"{record['latency_ms']:.1f}ms", "  ",
        (features, "dim"),
    )


@logs.command("compact")
def compact(
    ctx: typer.Context,
    deployment: Annotated[
        str | None, typer.Argument(metavar="[DEPLOYMENT]", help="Only this deployment's log.")
    ] = None,
    retention: Annotated[
        str | None,
        typer.Option("--retention", metavar="DURATION",
                     help="Delete dates older than this (30d, 12h); default: the "
                          "inference_log_retention setting, else keep everything."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Merge each finished hour's small files into one, and apply the retention.

    Servers do this in the background every 10 minutes; run it from cron for a log that no
    server is writing. Readers never see a row twice or miss one while it runs."""
    from gannet.core.durations import parse_duration

    settings = ctx.obj.settings
    days = parse_duration(retention) / 86400 if retention else retention_days(settings)
    report = _log(ctx).compact(deployment, retention_days=days)
    if as_json:
        output.print_json(report.to_dict())
        return
    output.say(f"{report.files_before:,} files in {report.folders:,} folders -> "
               f"{report.files_after:,}: merged {report.merged:,} hours ({report.rows:,} rows), "
               f"deleted {report.deleted:,} merged files and {report.expired:,} past retention")
    for reason in report.skipped:
        output.note(f"skipped: {reason}")


@logs.command("feedback")
def feedback(
    ctx: typer.Context,
    deployment: DeploymentArg,
    request_id: Annotated[
        str, typer.Argument(metavar="REQUEST_ID", help="The request the label is for.")
    ],
    label: Annotated[
        str,
        typer.Argument(metavar="LABEL", help="The true outcome (a number when it reads as one)."),
    ],
    row: Annotated[
        int | None,
        typer.Option("--row", min=0, help="Only this row of the request (default: every row)."),
    ] = None,
    as_text: Annotated[bool, typer.Option("--text", help="Keep LABEL as text, never a number.")]
    = False,
    as_json: JsonOption = False,
) -> None:
    """Record the true LABEL of a logged request (ground truth, joined by request id)."""
    value = label if as_text else _number_or_text(label)
    _log(ctx).feedback(deployment, request_id, value, row=row)
    which = f"row {row} of request" if row is not None else "request"
    output.done(
        as_json,
        f"recorded label {value!r} for {which} {request_id} of {deployment}",
        {"deployment": deployment, "request_id": request_id, "row": row, "label": value},
    )


def _number_or_text(label: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(label)
        except ValueError:
            pass
    return label


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="ms"))


def _cell(value: Any) -> str:
    """A value as a table shows it: missing as "", floats compact, times to the millisecond."""
    import pandas as pd

    if value is None or (not hasattr(value, "__len__") and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):  # shown in UTC, as the log stores it
        utc = value.tz_convert(None) if value.tzinfo else value
        return utc.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
