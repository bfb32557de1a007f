"""Batch inference: a model over a Parquet or CSV file, chunk by chunk, into a Parquet, CSV
or JSON lines file (chosen by the output's extension: ``.parquet``, ``.csv``, ``.jsonl``).

Memory stays flat whatever the file's size: the input is streamed in chunks of
``chunk_rows`` rows (Parquet by ``ParquetFile.iter_batches``, CSV by pyarrow's streaming
reader), each chunk is predicted in one vectorised call and appended to the output. The
output has the input's columns, then ``prediction`` and, when
the model gives probabilities, ``proba.<i>`` — the names the inference log uses.

The output appears atomically: it is written under a hidden temporary name beside
``dest`` and renamed at the end, so an error (a wrong column, which the model's signature
names before anything is written; a bad value in the millionth row) leaves no partial
file behind, and an existing ``dest`` is replaced only by a complete one. A model that
raises is ``ModelFailed`` naming the chunk; input its signature refuses, ``InvalidInput``.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from gannet.core.clock import now_ms
from gannet.core.errors import GannetError, InvalidArgument, InvalidInput, ModelFailed, NotFound
from gannet.core.ids import new_id
from gannet.serving.log.rows import output_arrays
from gannet.serving.log.schema import check_deployment_name
from gannet.serving.log.types import LoggedPrediction, PredictionLog

if TYPE_CHECKING:
    from gannet.models.package import LoadedModel

__all__ = ["OUTPUT_FORMATS", "BatchResult", "output_format", "predict_file"]

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".csv.zstd")
_OUTPUT_NAMES = ("prediction",)
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "jsonl",
                  ".ndjson": "jsonl"}


def output_format(dest: str | os.PathLike) -> str:
    """The format ``dest``'s extension asks for; an unknown one is refused before any work."""
    suffix = Path(dest).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise InvalidArgument(
            f"cannot write {os.fspath(dest)!r}: {suffix or 'no extension'} is not an output "
            "format Gannet writes",
            hint="name the output *.parquet, *.csv or *.jsonl (JSON lines; also *.ndjson)",
        )
    return OUTPUT_FORMATS[suffix]


@dataclass(frozen=True)
class BatchResult:
    rows: int
    seconds: float
    dest: Path
    chunks: int = 0
    batch_id: str = ""  # chunk k was logged with request id "<batch_id>-<k>"

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def predict_file(
    model: LoadedModel,
    source: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    chunk_rows: int = 50_000,
    passthrough: Sequence[str] = (),
    log: PredictionLog | None = None,
    deployment: str | None = None,
    model_name: str = "",
    version: int = 0,
    progress: bool = True,
) -> BatchResult:
    """Predict every row of ``source`` (Parquet or CSV) and write ``dest`` (its extension
    says the format: ``output_format``).

    ``passthrough`` columns are copied to the output but not given to the model (ids,
    keys). With ``log``, each chunk is also logged as one request of ``deployment``
    (``model_name``, ``version``) with request id ``"<batch id>-<chunk index>"``.
    """
    if chunk_rows < 1:
        raise InvalidArgument(f"chunk_rows must be at least 1, got {chunk_rows}")
    if log is not None:
        if not deployment:
            raise InvalidArgument("logging batch predictions needs a deployment name",
                                  hint="pass deployment= (gannet predict --log-deployment NAME)")
        check_deployment_name(deployment)
    source, dest = Path(source), Path(dest)
    fmt = output_format(dest)
    batches, total = _open(source, model, chunk_rows)
    run = _Run(model, source, passthrough, log, deployment, model_name, version)
    run.check_columns(batches.schema.names)  # before any work
    temp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
    started = time.perf_counter()
    with _progress_bar(progress, total, source.name) as advance:
        try:
            with _Output(temp, fmt) as out:
                for table in batches:
                    out.write(run.predict(table))
                    advance(table.num_rows)
                out.finish(run.empty_output(batches))
            os.replace(temp, dest)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        finally:
            flush = getattr(log, "flush", None)
            if callable(flush):
                flush()
    seconds = time.perf_counter() - started
    return BatchResult(run.rows, seconds, dest, run.chunks, run.batch_id)


class _Run:
    """One batch: predicts chunk after chunk and logs each."""

    def __init__(
        self, model: LoadedModel, source: Path, passthrough: Sequence[str],
        log: PredictionLog | None, deployment: str | None, model_name: str, version: int,
    ) -> None:
        self.model = model
        self.source = source
        self.passthrough = list(passthrough)
        self.log = log
        self.deployment = deployment or ""
        self.model_name = model_name
        self.version = version
        self.batch_id = new_id()
        self.rows = 0
        self.chunks = 0

    def check_columns(self, names: list[str]) -> None:
        missing = [c for c in self.passthrough if c not in names]
        if missing:
            raise InvalidArgument(f"{self.source} has no column {', '.join(map(repr, missing))} "
                                  f"to pass through (it has: {', '.join(names)})")
        clashes = [c for c in names if c in _OUTPUT_NAMES or c.startswith(("prediction.",
                                                                             "proba."))]
        if clashes:
            raise InvalidArgument(
                f"{self.source} already has column {', '.join(map(repr, clashes))}, which the "
                "output would overwrite",
                hint="drop or rename it (a scored file: pass through only its feature columns)",
            )
        self._check_extra(names)

    def _check_extra(self, names: list[str]) -> None:
        """Columns the model's signature does not take, named with the way out."""
        signature = self.model.meta.signature
        if signature is None or signature.inputs.kind != "dataframe":
            return
        known = set(signature.inputs.names)
        extra = [c for c in names if c not in known and c not in self.passthrough]
        if extra and known <= set(names):  # a missing column: the signature says which
            quoted = ", ".join(map(repr, extra))
            flags = " ".join(f"--passthrough {c}" for c in extra)
            raise InvalidInput(
                f"{self.source} has column(s) {quoted} that the model does not take "
                f"(it takes: {', '.join(signature.inputs.names)})",
                hint=f"copy them to the output untouched with {flags} (passthrough= in "
                "predict_file), or drop them from the input",
            )

    def predict(self, table: pa.Table) -> pa.Table:
        frame = table.drop_columns(self.passthrough).to_pandas()
        started = time.perf_counter()
        outputs, proba = self._predict(frame)
        latency_ms = (time.perf_counter() - started) * 1000
        arrays = output_arrays(outputs, proba)
        for name, values in arrays.items():
            if len(values) != table.num_rows:
                raise ModelFailed(f"{self._label()} gave {len(values)} values of {name} for "
                                  f"{table.num_rows} rows")
            table = table.append_column(name, values)
        if self.log is not None:
            flush = getattr(self.log, "flush", None)
            if callable(flush):  # wait for the previous chunk, so memory stays flat
                flush()
            self.log.log(LoggedPrediction(
                deployment=self.deployment, model=self.model_name, version=self.version,
                request_id=f"{self.batch_id}-{self.chunks}", timestamp_ms=now_ms(),
                inputs=frame, outputs=outputs, latency_ms=latency_ms, probabilities=proba,
            ))
        self.rows += table.num_rows
        self.chunks += 1
        return table

    def _predict(self, frame: Any) -> tuple[Any, Any]:
        """The chunk's predictions and probabilities; what the model raises is ModelFailed
        (input its signature refuses stays InvalidInput)."""
        try:
            outputs = self.model.predict(frame)  # checks the signature first
            proba = self.model.predict_proba(frame) if self.model.has_predict_proba else None
        except GannetError:
            raise
        except Exception as exc:
            raise ModelFailed(f"{self._label()} failed on chunk {self.chunks} of {self.source}: "
                              f"{type(exc).__name__}: {exc}") from exc
        return outputs, proba

    def _label(self) -> str:
        return f"model {self.model_name}/{self.version}" if self.model_name else "the model"

    def empty_output(self, batches: _Chunks) -> pa.Table:
        """The output of a file without rows: its columns and an empty ``prediction``."""
        return batches.schema.empty_table().append_column("prediction", pa.array([], pa.null()))


class _Output:
    """A writer of ``fmt`` opened on the first chunk; later chunks are cast to its schema."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.writer: Any = None
        self.schema: pa.Schema | None = None

    def __enter__(self) -> _Output:
        return self

    def _open(self, schema: pa.Schema) -> Any:
        import pyarrow.csv as csv
        import pyarrow.parquet as pq

        if self.fmt == "parquet":
            return pq.ParquetWriter(self.path, schema, compression="zstd")
        if self.fmt == "csv":
            return csv.CSVWriter(self.path, schema)
        return _JsonLines(self.path)

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.writer, self.schema = self._open(table.schema), table.schema
        elif table.schema != self.schema:
            try:
                table = table.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                raise InvalidArgument(
                    f"a chunk's columns do not match the first chunk's: {exc}",
                    hint="give the file one type per column",
                ) from exc
        self.writer.write_table(table)

    def finish(self, empty: pa.Table) -> None:
        if self.writer is None:
            self.write(empty)

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()


class _JsonLines:
    """One JSON object per row and line (times in ISO 8601, missing values null)."""

    def __init__(self, path: Path) -> None:
        self.stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write_table(self, table: pa.Table) -> None:
        if table.num_rows:
            text = table.to_pandas().to_json(orient="records", lines=True, date_format="iso")
            self.stream.write(text if text.endswith("\n") else text + "\n")

    def close(self) -> None:
        self.stream.close()


# -- reading -------------------------------------------------------------------------------


class _Chunks:
    """A file's record batches regrouped into tables of ``rows`` rows (the last may be
    shorter); reading errors become InvalidArgument naming the file."""

    def __init__(self, source: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch],
                 rows: int) -> None:
        self.source = source
        self.schema = schema
        self.batches = batches
        self.rows = rows

    def __iter__(self) -> Iterator[pa.Table]:
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in self._read():
            if batch.num_rows == 0:
                continue
            pending.append(batch)
            count += batch.num_rows
            while count >= self.rows:
                table = pa.Table.from_batches(pending, self.schema)
                yield table.slice(0, self.rows)
                rest = table.slice(self.rows)
                pending, count = rest.to_batches(), rest.num_rows
        if count:
            yield pa.Table.from_batches(pending, self.schema)

    def _read(self) -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = next(self.batches)
            except StopIteration:
                return
            except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
                raise InvalidArgument(f"cannot read {self.source}: {exc}") from exc
            yield batch


def _open(source: Path, model: LoadedModel, rows: int) -> tuple[_Chunks, int | None]:
    """The chunks of ``source`` and its row count (None for CSV, known only at the end)."""
    if not source.is_file():
        raise NotFound(f"no input file {source}")
    kind = _format(source)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            file = pq.ParquetFile(source)
            batches = file.iter_batches(batch_size=rows)
            return _Chunks(source, file.schema_arrow, batches, rows), file.metadata.num_rows
        import pyarrow.csv as csv

        reader = csv.open_csv(
            pa.input_stream(str(source), compression="detect"),
            read_options=csv.ReadOptions(block_size=1 << 22),
            convert_options=csv.ConvertOptions(column_types=_csv_types(model)),
        )
        return _Chunks(source, reader.schema, iter(reader), rows), None
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise InvalidArgument(f"cannot read {source} as {kind}: {exc}") from exc


def _format(source: Path) -> str:
    name = source.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    with open(source, "rb") as stream:
        if stream.read(4) == b"PAR1":
            return "parquet"
    raise InvalidArgument(f"cannot tell the format of {source}",
                          hint="name it *.parquet or *.csv (optionally .csv.gz)")


def _csv_types(model: LoadedModel) -> dict[str, pa.DataType]:
    """CSV column types from the model's signature, so a column is read the same in every
    block (type inference looks at the first block only)."""
    import numpy as np

    signature = model.meta.signature
    if signature is None or signature.inputs.kind != "dataframe":
        return {}
    types: dict[str, pa.DataType] = {}
    for column in signature.inputs.columns:
        if column.dtype in ("string", "str"):
            types[str(column.name)] = pa.string()
            continue
        with contextlib.suppress(TypeError, pa.ArrowNotImplementedError):
            dtype = np.dtype(column.dtype)
            if dtype.kind in "biuf":
                types[str(column.name)] = pa.from_numpy_dtype(dtype)
    return types


# -- progress ------------------------------------------------------------------------------


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int | None, label: str) -> Iterator[Any]:
    """A rich progress bar on stderr (rows done / total when known); yields ``advance(n)``."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("rows"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    )
    task = bar.add_task(f"predicting {label}", total=total)
    with bar:
        yield lambda n: bar.advance(task, n)

