"""A monitor's reference: what "normal" looks like, kept as one Parquet blob.

``load_reference`` reads it from a DataFrame (pandas, polars, Arrow), a Parquet or CSV file,
or a window of the deployment's own log (``log:FROM/TO`` with ISO dates or times, UTC;
``log:first:N`` for its first N rows) - feature columns by name (the log's ``input.``
prefix is dropped) and ``prediction``. ``dataset_reference`` is where a dataset version
(``dataset:NAME@VERSION``) becomes a reference once the data capability lands.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument, NotFound, NotSupported
from gannet.monitoring import log_repository
from gannet.stats.columns import as_table

if TYPE_CHECKING:
    import pyarrow as pa

    from gannet.serving.log.reader import InferenceLog

__all__ = ["dataset_reference", "from_log_table", "load_reference", "parquet_bytes"]

INPUT = "input."


def load_reference(source: Any, *, log: InferenceLog, deployment: str,
                   read_dataset: Callable[[str], pa.Table] | None = None,
                   ) -> tuple[pa.Table, str]:
    """(the reference table, a description of where it came from)."""
    if source is None:
        raise InvalidArgument("a monitor needs a reference",
                              hint="pass --reference with a Parquet or CSV file, or a "
                                   "window of the log such as log:first:1000")
    if not isinstance(source, str | Path):
        table = as_table(source, "reference")
        return table, f"a table of {table.num_rows} rows"
    text = str(source)
    if text.startswith("log:"):
        return _from_log(text[4:], log, deployment), text
    if text.startswith("dataset:"):
        return dataset_reference(text[len("dataset:"):], read_dataset), text
    return _from_file(Path(text)), str(Path(text).resolve())


def dataset_reference(ref: str, read: Callable[[str], pa.Table] | None) -> pa.Table:
    """A dataset version (``churn@3``) as a reference, read by the data capability (its
    table files as one table)."""
    if read is None:
        raise NotSupported(f"dataset references ({ref!r}) need the data capability's "
                           "stores", hint="export the dataset to Parquet and pass the file")
    return read(ref)


def _from_file(path: Path) -> pa.Table:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise NotFound(f"reference file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pq.read_table(path)
    if suffix in (".csv", ".txt"):
        return pcsv.read_csv(path)
    raise InvalidArgument(f"cannot read a reference from {path.name} (not .parquet or .csv)",
                          hint="write the reference as Parquet or CSV")


def _from_log(spec: str, log: InferenceLog, deployment: str) -> pa.Table:
    conn = log.connect(deployment)
    try:
        available = log_repository.columns(conn)
        wanted = [c for c in available if c.startswith(INPUT) or c == "prediction"]
        if spec.startswith("first:"):
            count = _count(spec[len("first:"):])
            table = log_repository.rows_between(conn, wanted, available, None)
            table = table.slice(0, count)
        else:
            start, _, end = spec.partition("/")
            table = log_repository.rows_between(conn, wanted, available, _ms(start),
                                                _ms(end) if end else None)
    finally:
        conn.close()
    if table.num_rows == 0:
        raise InvalidArgument(f"the log window log:{spec} of {deployment!r} has no rows",
                              hint="choose a window with logged predictions")
    return from_log_table(table.drop_columns(["ts"]))


def from_log_table(table: pa.Table) -> pa.Table:
    """Log columns renamed as features: ``input.age`` -> ``age``."""
    return table.rename_columns([c[len(INPUT):] if c.startswith(INPUT) else c
                                 for c in table.column_names])


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InvalidArgument(f"{text!r} is not a number of rows", hint="e.g. log:first:1000")
    return int(text)


def _ms(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(f"{text!r} is not a date or time",
                              hint="write log:2026-11-01/2026-11-08 (ISO dates, UTC)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()
