"""DataFrames (pandas, polars, Arrow) turned into prepared columns for drift and quality.

``as_table`` reads a pandas or polars DataFrame, an Arrow table or record batch, or a
mapping of column -> values, into an Arrow table without copying numbers where it can;
``as_columns`` does the same lazily, one column when asked for it (a pandas column is
turned into Arrow only then, so work column by column holds one column at a time).
``prepare`` turns one Arrow column into a ``Prepared`` column: numeric ones as one sorted
float64 array without nulls (sorted once, shared by every test), categorical ones
(strings, booleans, dictionaries) as counts per category. ``in_threads`` does such work for
many columns at once, with as many columns in flight as memory allows. ``joint_counts``
puts two columns' counts over the union of their categories (a numeric column with few
distinct values is counted as categories too, as Evidently does).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gannet.core.errors import InvalidArgument

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

__all__ = ["FEW_VALUES", "Columns", "Prepared", "as_columns", "as_table", "in_threads",
           "joint_counts", "prepare"]

FEW_VALUES = 5  # a numeric column with at most this many distinct values is categorical
PARALLEL_ROWS = 50_000  # columns of at least this many values are prepared in threads
SKETCH_SIZE = 20_000  # order statistics kept of a big reference for a small window
IN_FLIGHT_BYTES = 512 * 2**20  # what the columns worked on at once may take
BYTES_PER_VALUE = 64  # a numeric value in flight: its sorted copy and the tests' temporaries
T = TypeVar("T")


@dataclass
class Prepared:
    """One column of one sample, ready for the tests."""

    name: str
    kind: str  # "numeric", "categorical" or "unsupported"
    rows: int  # all rows, nulls included
    nulls: int
    dtype: str
    values: Any = None  # numeric: sorted float64 ndarray without nulls (or infinities)
    counts: dict[Any, int] = field(default_factory=dict)  # categorical: category -> count
    distinct: int = 0  # numeric: how many distinct values (up to FEW_VALUES + 1)
    _spread: float | None = field(default=None, repr=False)
    _sketch: Any = field(default=None, repr=False)

    def sketch(self, size: int = SKETCH_SIZE) -> Any:
        """``size`` evenly spaced order statistics of a numeric column's sorted values (a
        systematic sample: the same distribution within 1/size in every quantile),
        computed once; the values themselves when there are not more of them."""
        if self.values is None or len(self.values) <= size:
            return self.values
        if self._sketch is None or len(self._sketch) != size:
            import numpy as np

            at = ((np.arange(size) + 0.5) * (len(self.values) / size)).astype(np.intp)
            self._sketch = self.values[at]
        return self._sketch

    @property
    def spread(self) -> float:
        """The standard deviation of a numeric column's values (computed once)."""
        if self._spread is None:
            import numpy as np

            self._spread = float(np.std(self.values)) if self.valid else 0.0
        return self._spread

    @property
    def valid(self) -> int:
        """Rows with a value the tests can use."""
        if self.kind == "numeric":
            return 0 if self.values is None else len(self.values)
        return sum(self.counts.values())


def in_threads(work: Callable[[str], T], names: list[str], rows: int) -> list[T]:
    """``work`` over ``names`` in threads when columns are big (``rows`` values each:
    numpy's sorts and Arrow's conversions release the GIL), results in order. As many
    columns are in flight as there are threads: one per core, up to 8, and fewer when
    their values would take more than ``IN_FLIGHT_BYTES``."""
    fit = max(IN_FLIGHT_BYTES // max(rows * BYTES_PER_VALUE, 1), 1)
    workers = min(len(names), os.cpu_count() or 1, 8, fit)
    if rows < PARALLEL_ROWS or workers < 2:
        return [work(n) for n in names]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, names))


def as_table(frame: Any, what: str = "data") -> pa.Table:
    """``frame`` as an Arrow table (pandas, polars, Arrow, or a mapping of columns)."""
    import pyarrow as pa

    if isinstance(frame, pa.Table):
        return frame
    if isinstance(frame, pa.RecordBatch):
        return pa.Table.from_batches([frame])
    module = type(frame).__module__.split(".", 1)[0]
    if module == "polars" and hasattr(frame, "to_arrow"):
        return frame.to_arrow()
    if _is_pandas(frame):
        frame = frame.copy(deep=False)
        frame.columns = [str(c) for c in frame.columns]
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(frame, dict):
        return pa.table(frame)
    raise InvalidArgument(
        f"the {what} is a {type(frame).__name__}, not a table",
        hint="pass a pandas or polars DataFrame, a pyarrow Table, or a dict of columns",
    )


class Columns(Protocol):
    """What ``as_columns`` gives (an Arrow table is one): names, rows, a column by name."""

    @property
    def column_names(self) -> list[str]: ...

    @property
    def num_rows(self) -> int: ...

    def column(self, name: str) -> Any: ...


def as_columns(frame: Any, what: str = "data") -> Columns:
    """``frame``'s columns, each read as Arrow when asked for: a pandas DataFrame's one by
    one (as ``as_table`` would turn it, without the whole table at once), any other
    table through ``as_table``."""
    return _PandasColumns(frame, what) if _is_pandas(frame) else as_table(frame, what)


def _is_pandas(frame: Any) -> bool:
    return type(frame).__module__.split(".", 1)[0] == "pandas" and hasattr(frame, "columns")


class _PandasColumns:
    def __init__(self, frame: Any, what: str) -> None:
        self._frame, self._what = frame, what
        self.column_names = [str(c) for c in frame.columns]
        self.num_rows = len(frame)

    def column(self, name: str) -> pa.Array:
        import pyarrow as pa

        at = [i for i, n in enumerate(self.column_names) if n == name]
        if len(at) != 1:
            raise InvalidArgument(f"the {self._what} has {len(at)} columns named {name!r}",
                                  hint="give each column its own name")
        # what pa.Table.from_pandas does with each column
        return pa.array(self._frame.iloc[:, at[0]], from_pandas=True)


def prepare(name: str, column: pa.ChunkedArray | pa.Array) -> Prepared:
    """``column`` prepared for the tests (see the module's docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = _kind(column.type)
    rows, nulls = len(column), column.null_count
    dtype = str(column.type)
    if kind == "numeric":
        if pa.types.is_temporal(column.type):
            column = pc.cast(column, pa.int64())
        values = _float_values(column)
        return Prepared(name, kind, rows, rows - len(values), dtype, values=values,
                        distinct=_distinct(values))
    if kind == "categorical":
        return Prepared(name, kind, rows, nulls, dtype, counts=_counts(column))
    return Prepared(name, kind, rows, nulls, dtype)


def _kind(type_: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_boolean(type_) or pa.types.is_string(type_) or \
            pa.types.is_large_string(type_) or pa.types.is_dictionary(type_):
        return "categorical"
    if pa.types.is_integer(type_) or pa.types.is_floating(type_) or \
            pa.types.is_decimal(type_) or pa.types.is_temporal(type_):
        return "numeric"
    return "unsupported"


def _float_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Sorted finite float64 values of a numeric column (nulls, NaN and infinities out)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        column = pc.drop_null(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    values = np.sort(values)  # NaN sort last
    end = len(values)
    while end and not np.isfinite(values[end - 1]):
        end -= 1  # NaN and +inf at the end
    start = int(np.searchsorted(values[:end], -np.inf, side="right"))
    return values[start:end]


def _distinct(sorted_values: np.ndarray) -> int:
    """Distinct values of a sorted array, counted up to FEW_VALUES + 1."""
    import numpy as np

    if len(sorted_values) == 0:
        return 0
    changes = np.flatnonzero(sorted_values[1:] != sorted_values[:-1])
    return min(len(changes) + 1, FEW_VALUES + 1)


def _counts(column: pa.ChunkedArray | pa.Array) -> dict[Any, int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    found = pc.value_counts(column)
    values = found.field("values").to_pylist()
    counts = found.field("counts").to_pylist()
    return {v: c for v, c in zip(values, counts, strict=True) if v is not None}


def joint_counts(reference: Prepared, current: Prepared) -> tuple[list[Any], np.ndarray,
                                                                   np.ndarray]:
    """(categories, reference counts, current counts) over the union of categories."""
    import numpy as np

    ref = reference.counts if reference.kind == "categorical" else _value_counts(reference)
    cur = current.counts if current.kind == "categorical" else _value_counts(current)
    categories = sorted(set(ref) | set(cur), key=lambda v: (str(type(v)), v))
    return (categories, np.array([ref.get(c, 0) for c in categories], dtype=np.float64),
            np.array([cur.get(c, 0) for c in categories], dtype=np.float64))


def _value_counts(column: Prepared) -> dict[Any, int]:
    import numpy as np

    values, counts = np.unique(column.values, return_counts=True)
    return {float(v): int(c) for v, c in zip(values, counts, strict=True)}
