"""How the command line shows things: rich tables, ``--json`` documents, errors.

Tables are built from ``rich.text.Text`` cells, never from markup strings, so a metric
named ``[red]`` prints as itself. They fit the terminal; when stdout is not a terminal
(a pipe, a file) they are laid out ``PIPE_WIDTH`` columns wide (``COLUMNS`` overrides),
so ids are never cut. ``--json`` output is plain (no colour) JSON on stdout, written by
orjson; NaN and the infinities, which JSON lacks, become the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (as MLflow's REST API writes them). A model version is
text in every ``--json`` document, as in the inference server's answers and MLflow's REST
API: ``"version": "3"`` - also ``latest_version``, ``previous_version``, ``model_version``,
each of ``versions``, and the versions that ``aliases`` and a deployment's ``resolved``
refs point at.

Errors go to stderr as ``Error: <message>`` and, on the next line, ``  hint: <hint>``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from gannet.core.errors import GannetError

PIPE_WIDTH = 200
UNCUT_MAX = 10_000  # the widest ``show_uncut`` lays anything out
SPARK_BARS = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 24
STATUS_STYLES = {
    "RUNNING": "yellow",
    "SCHEDULED": "blue",
    "FINISHED": "green",
    "FAILED": "red",
    "KILLED": "magenta",
}


# the one --json flag of every command that prints
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


# -- consoles --------------------------------------------------------------------------


def console(*, stderr: bool = False) -> Console:
    """A console for this moment's stdout or stderr (made per call, so tests can redirect)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None
    if "COLUMNS" not in os.environ and not _is_terminal(stream):
        width = PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def say(message: str, *, style: str | None = None) -> None:
    """One line for people on stdout (confirmations such as "Deleted run ...")."""
    console().print(text(message, style), soft_wrap=True)


def done(as_json: bool, message: str, data: Any) -> None:
    """What a command did: the sentence for people, or ``data`` as one JSON document."""
    if as_json:
        print_json(data)
    else:
        say(message)


def note(message: str) -> None:
    """A dim remark on stderr, so stdout stays clean for pipes."""
    console(stderr=True).print(text(message, "dim"), soft_wrap=True)


def print_error(error: GannetError) -> None:
    """``Error: <message>`` in red, then ``  hint: <hint>`` dimmed, on stderr."""
    from rich.text import Text

    err = console(stderr=True)
    err.print(Text.assemble(("Error: ", "bold red"), (error.message, "red")), soft_wrap=True)
    if error.hint:
        err.print(text(f"  hint: {error.hint}", "dim"), soft_wrap=True)


# -- tables ----------------------------------------------------------------------------


def text(value: object, style: str | None = None) -> Text:
    """A cell that shows ``value`` literally (no markup), with an optional style."""
    from rich.text import Text

    return Text("" if value is None else str(value), style=style or "")


def table(*columns: str, title: str | None = None) -> Table:
    """A table whose columns fold long values (for short listings; see ``fit_table``)."""
    from rich import box
    from rich.table import Table

    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", title_style="bold")
    for name in columns:
        grid.add_column(name, overflow="fold")
    return grid


@dataclass(frozen=True)
class Column:
    """A column of a ``fit_table``.

    ``min_width`` is what it needs to be readable; ``fixed`` columns (ids, times, sizes)
    never wrap, the others fold. On a narrow console the columns with ``drop`` > 0 give
    way, highest ``drop`` first, until the minimum widths fit.
    """

    name: str
    min_width: int = 6
    drop: int = 0
    fixed: bool = False
    style: str | None = None


COLUMN_OVERHEAD = 3  # padding on both sides and the separator


def fit_table(
    columns: Sequence[Column], rows: Iterable[Mapping[str, Text]], *, title: str | None = None
) -> Table:
    """A table of the ``columns`` that fit the console; ``rows`` map column names to cells."""
    kept = list(columns)
    width = console().width
    droppable = sorted((c for c in kept if c.drop), key=lambda c: -c.drop)
    while droppable and sum(c.min_width + COLUMN_OVERHEAD for c in kept) > width:
        kept.remove(droppable.pop(0))
    grid = table(title=title)
    for spec in kept:
        grid.add_column(
            spec.name,
            min_width=spec.min_width,
            no_wrap=spec.fixed,
            overflow="ellipsis" if spec.fixed else "fold",
            style=spec.style or "",
        )
    for row in rows:
        grid.add_row(*(row.get(c.name, text("")) for c in kept))
    return grid


def key_value_table(rows: Iterable[tuple[object, object]]) -> Table:
    """Two columns without a header: a name and its value (a ``Text`` keeps its style)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in rows:
        grid.add_row(text(name), value if isinstance(value, Text) else text(value))
    return grid


def lines(rows: Iterable[Text]) -> None:
    """One line per row, never wrapped: what does not fit the width ends in an ellipsis."""
    out = console()
    for row in rows:
        out.print(row, no_wrap=True, overflow="ellipsis", crop=True)


def show(*renderables: Any) -> None:
    out = console()
    for item in renderables:
        out.print(item)


def show_uncut(item: Any) -> None:
    """Print ``item`` wider than the terminal when its columns' minimum widths (run ids)
    do not fit: the terminal wraps the lines, but no id is cut."""
    from rich.measure import Measurement

    out = console()
    need = Measurement.get(out, out.options.update_width(UNCUT_MAX), item).minimum
    (_with_width(out, need) if need > out.width else out).print(item)


def _with_width(out: Console, width: int) -> Console:
    from rich.console import Console

    return Console(file=out.file, width=width, highlight=False, soft_wrap=False,
                   no_color=out.no_color)


def stage_text(stage: str) -> Text:
    """A lifecycle stage; "deleted" in red."""
    return text(stage, "red" if stage == "deleted" else None)


def status_text(status: object) -> Text:
    name = str(status)
    return text(name, STATUS_STYLES.get(name))


# -- values ----------------------------------------------------------------------------


def format_time(ms: int | None) -> str:
    """Milliseconds since the epoch as local ``YYYY-MM-DD HH:MM:SS`` ("" for None)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(ms: int | None) -> str:
    """A duration as people say it: ``850ms``, ``3.2s``, ``4m12s``, ``2h05m``, ``3d4h``."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms}ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # unreachable


def format_metrics(metrics: Mapping[str, float]) -> str:
    from gannet.tracking.types import format_metric  # only where runs are shown

    return "  ".join(f"{key}={format_metric(value)}" for key, value in sorted(metrics.items()))


def sparkline(values: Sequence[float], width: int = SPARK_POINTS) -> str:
    """A one-line picture of a series; NaN and infinities show as ``·``."""
    if not values:
        return ""
    if len(values) > width:  # sample evenly, always keeping the first and the last point
        last = len(values) - 1
        values = [values[round(i * last / (width - 1))] for i in range(width)]
    finite = [v for v in values if math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    span = high - low
    bars = []
    for value in values:
        if not math.isfinite(value):
            bars.append("·")
        elif span == 0:
            bars.append(SPARK_BARS[len(SPARK_BARS) // 2])
        else:
            bars.append(SPARK_BARS[round((value - low) / span * (len(SPARK_BARS) - 1))])
    return "".join(bars)


# -- JSON ------------------------------------------------------------------------------


_VERSION_KEYS = frozenset({"version", "model_version", "latest_version", "previous_version"})
_VERSION_LISTS = frozenset({"versions"})
_VERSION_MAPS = frozenset({"aliases", "resolved"})  # (alias or ref -> version)


def jsonable(value: Any) -> Any:
    """Plain JSON data: dataclasses as dicts, enums as values, non-finite floats as strings,
    model versions as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _field(f.name, getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return {str(k): _field(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _field(name: str, value: Any) -> Any:
    """``jsonable`` of the field ``name``: a model version (an int) as text."""
    if name in _VERSION_KEYS:
        return _version_text(value)
    if name in _VERSION_LISTS and isinstance(value, (list, tuple)):
        return [_version_text(v) for v in value]
    if name in _VERSION_MAPS and isinstance(value, Mapping):
        return {str(k): _version_text(v) for k, v in value.items()}
    return jsonable(value)


def _version_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return jsonable(value)


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout, nothing else."""
    data = orjson.dumps(jsonable(value), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    typer.echo(data.decode("utf-8"), nl=False)


# -- progress ------------------------------------------------------------------------------


@contextlib.contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; the block gets ``advance(done, total)`` to move it."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
