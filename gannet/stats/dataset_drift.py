"""Drift of every column between two tables: ``drift(reference, current)`` -> ``DriftReport``.

Each column gets the test its type calls for (``choose_test``): with ``method="auto"``,
Evidently's defaults - up to 1000 reference values, KS (p < 0.05) for numeric columns
and chi-square (p < 0.05) for categorical ones; above that, the normed Wasserstein distance
(> 0.1) and the Jensen-Shannon distance (> 0.1). A numeric column with at most 5 distinct
values counts as categorical. The dataset drifts when the share of drifted columns reaches
``drift_share`` (0.5). ``correction="bh"`` adjusts the p-values of p-value tests for the
number of columns tested (Benjamini-Hochberg). A column with fewer than ``min_rows``
values on either side is ``insufficient``, never drift.

``drift`` prepares and judges one column at a time (a few in threads), so it holds only
the columns in flight, never every column's prepared values at once; ``compare`` judges
columns prepared already (a monitor's reference, prepared once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gannet.core.errors import InvalidArgument
from gannet.stats import drift as tests
from gannet.stats.columns import (
    FEW_VALUES,
    Prepared,
    as_columns,
    in_threads,
    joint_counts,
    prepare,
)

__all__ = ["ColumnDrift", "DriftReport", "choose_test", "compare", "drift"]

SMALL = 1000  # up to this many reference values: a statistical test, else a distance
DRIFT_SHARE = 0.5
MIN_ROWS = 30
SKETCH_RATIO = 4  # a reference this many times bigger than the window is sketched


@dataclass
class ColumnDrift:
    """One column's verdict. ``score`` is what ``threshold`` judges: the (adjusted) p-value
    of a test, or the distance."""

    column: str
    kind: str
    test: str | None
    statistic: float | None
    p_value: float | None
    score: float | None
    threshold: float | None
    drifted: bool
    status: str  # "drift", "ok", "insufficient", "unsupported"
    reference_rows: int
    current_rows: int
    reason: str | None = None


@dataclass
class DriftReport:
    columns: dict[str, ColumnDrift]
    drift_share: float = DRIFT_SHARE
    correction: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        return [name for name, c in self.columns.items() if c.drifted]

    @property
    def tested(self) -> int:
        return sum(1 for c in self.columns.values() if c.status in ("drift", "ok"))

    @property
    def share(self) -> float:
        """Drifted columns over the columns tested (0 when none could be tested)."""
        return len(self.drifted_columns) / self.tested if self.tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        return self.tested > 0 and self.share >= self.drift_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset_drift": self.dataset_drift, "share": self.share,
            "drift_share": self.drift_share, "drifted_columns": self.drifted_columns,
            "tested": self.tested, "correction": self.correction,
            "columns": {name: asdict(c) for name, c in self.columns.items()},
        }

    def _repr_html_(self) -> str:
        from gannet.stats.html import drift_table

        return drift_table(self)

    def __repr__(self) -> str:
        return (f"DriftReport(share={self.share:.3g}, dataset_drift={self.dataset_drift}, "
                f"drifted_columns={self.drifted_columns})")


def drift(reference: Any, current: Any, *, columns: Sequence[str] | None = None,
          method: str | Mapping[str, str] = "auto",
          threshold: float | Mapping[str, float] | None = None,
          drift_share: float = DRIFT_SHARE, correction: str | None = None,
          min_rows: int = MIN_ROWS) -> DriftReport:
    """Per column drift between two tables (see the module's docstring). ``method``: "auto",
    a test name for every column, or a mapping from column name or kind ("numeric",
    "categorical") to a test name; ``threshold`` likewise overrides the test's default."""
    _check_correction(correction)
    ref, cur = as_columns(reference, "reference"), as_columns(current, "current data")
    names = list(columns) if columns is not None else list(ref.column_names)
    missing = [n for n in names if n not in ref.column_names or n not in cur.column_names]
    if missing:
        side = "reference" if missing[0] not in ref.column_names else "current data"
        raise InvalidArgument(f"columns missing from the {side}: {', '.join(missing)}",
                              hint="pass columns=[...] naming columns both tables have")

    def judge(name: str) -> ColumnDrift:
        # one column at a time: its prepared values are released once it is judged
        return _judge(name, prepare(name, ref.column(name)), prepare(name, cur.column(name)),
                      method, threshold, min_rows)

    results = in_threads(judge, names, ref.num_rows + cur.num_rows)
    return _report(dict(zip(names, results, strict=True)), drift_share, correction)


def compare(pairs: Mapping[str, tuple[Prepared, Prepared]], *,
            method: str | Mapping[str, str] = "auto",
            threshold: float | Mapping[str, float] | None = None,
            drift_share: float = DRIFT_SHARE, correction: str | None = None,
            min_rows: int = MIN_ROWS) -> DriftReport:
    """``drift`` over columns already prepared (reference, current) by name."""
    _check_correction(correction)

    def judge(name: str) -> ColumnDrift:
        ref, cur = pairs[name]
        return _judge(name, ref, cur, method, threshold, min_rows)

    names = list(pairs)
    size = sum(ref.valid + cur.valid for ref, cur in pairs.values()) // max(len(names), 1)
    results = dict(zip(names, in_threads(judge, names, size), strict=True))
    return _report(results, drift_share, correction)


def _check_correction(correction: str | None) -> None:
    if correction not in (None, "bh"):
        raise InvalidArgument(f"unknown correction {correction!r}",
                              hint="use correction='bh' (Benjamini-Hochberg) or None")


def _judge(name: str, ref: Prepared, cur: Prepared, method: str | Mapping[str, str],
           threshold: float | Mapping[str, float] | None, min_rows: int) -> ColumnDrift:
    return _column(ref, cur, _pick(method, name, ref, cur),
                   _pick_threshold(threshold, name, ref), min_rows)


def _report(results: dict[str, ColumnDrift], drift_share: float,
            correction: str | None) -> DriftReport:
    if correction == "bh":
        _adjust(results)
    return DriftReport(results, drift_share=drift_share, correction=correction)


def choose_test(reference: Prepared, current: Prepared) -> str:
    """Evidently's default test for a column (see the module's docstring)."""
    categorical = _as_categorical(reference, current)
    small = reference.valid <= SMALL
    if categorical:
        return "chisquare" if small else "jensenshannon"
    return "ks" if small else "wasserstein"


def _as_categorical(reference: Prepared, current: Prepared) -> bool:
    if reference.kind == "categorical":
        return True
    if reference.distinct > FEW_VALUES or current.distinct > FEW_VALUES:
        return False
    both = set(reference.values[_firsts(reference.values)].tolist()) | \
        set(current.values[_firsts(current.values)].tolist())
    return len(both) <= FEW_VALUES


def _firsts(values: Any) -> Any:
    import numpy as np

    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    return np.concatenate([[True], values[1:] != values[:-1]])


def _pick(method: str | Mapping[str, str], name: str, ref: Prepared, cur: Prepared) -> str:
    chosen = method if isinstance(method, str) else (
        method.get(name) or method.get(ref.kind) or "auto")
    if chosen == "auto":
        return choose_test(ref, cur) if ref.kind != "unsupported" else "auto"
    if chosen not in tests.TESTS:
        raise InvalidArgument(f"unknown drift test {chosen!r} for column {name!r}",
                              hint=f"use auto or one of {', '.join(tests.TESTS)}")
    return chosen


def _pick_threshold(threshold: float | Mapping[str, float] | None, name: str,
                    ref: Prepared) -> float | None:
    if threshold is None or isinstance(threshold, int | float):
        return threshold
    return threshold.get(name, threshold.get(ref.kind))


def _column(ref: Prepared, cur: Prepared, test: str, threshold: float | None,
            min_rows: int) -> ColumnDrift:
    def verdict(status: str, reason: str | None = None, **found: Any) -> ColumnDrift:
        return ColumnDrift(ref.name, ref.kind, found.get("test"), found.get("statistic"),
                           found.get("p_value"), found.get("score"), found.get("threshold"),
                           status == "drift", status, ref.valid, cur.valid, reason)

    if ref.kind == "unsupported" or test == "auto":
        return verdict("unsupported", f"cannot test a column of type {ref.dtype}")
    if ref.kind != cur.kind:
        return verdict("unsupported", f"the reference is {ref.kind} ({ref.dtype}), the current "
                       f"data {cur.kind} ({cur.dtype})")
    if min(ref.valid, cur.valid) < max(min_rows, 1):
        return verdict("insufficient", f"{ref.valid} reference and {cur.valid} current values; "
                       f"a test needs {max(min_rows, 1)} on each side")
    spec = tests.TESTS[test]
    limit = spec.threshold if threshold is None else float(threshold)
    statistic, p_value, score = _run(test, ref, cur)
    status = "drift" if spec.drifted(score, limit) else "ok"
    return verdict(status, test=test, statistic=statistic, p_value=p_value, score=score,
                   threshold=limit)


def _run(test: str, ref: Prepared, cur: Prepared) -> tuple[float, float | None, float]:
    """(statistic, p-value or None, score) of ``test`` on one column."""
    if test == "ks":
        if ref.kind != "numeric":
            raise InvalidArgument(f"the KS test needs a numeric column; {ref.name!r} is "
                                  "categorical", hint="use chisquare, psi or jensenshannon")
        d, p = tests.ks(ref.values, cur.values)
        return d, p, p
    if test == "wasserstein":
        if ref.kind != "numeric":
            raise InvalidArgument(f"the Wasserstein distance needs a numeric column; "
                                  f"{ref.name!r} is categorical",
                                  hint="use chisquare, psi or jensenshannon")
        # a reference far bigger than the window: its sketch (order statistics) instead,
        # which moves the distance by far less than the window's own sampling noise
        values = ref.sketch() if len(ref.values) > SKETCH_RATIO * len(cur.values) else ref.values
        _, normed = tests.wasserstein(values, cur.values, ref.spread)
        return normed, None, normed
    counts_ref, counts_cur = _binned(test, ref, cur)
    if test == "chisquare":
        statistic, p = tests.chisquare(counts_ref, counts_cur)
        return statistic, p, p
    distance = tests.psi(counts_ref, counts_cur) if test == "psi" else \
        tests.jensenshannon(counts_ref, counts_cur)
    return distance, None, distance


def _binned(test: str, ref: Prepared, cur: Prepared) -> tuple[Any, Any]:
    if ref.kind == "numeric" and (test != "chisquare" and not _as_categorical(ref, cur)):
        return tests.numeric_bins(ref.values, cur.values)
    _, counts_ref, counts_cur = joint_counts(ref, cur)
    return counts_ref, counts_cur


def _adjust(results: dict[str, ColumnDrift]) -> None:
    tested = [c for c in results.values() if c.p_value is not None and c.threshold is not None]
    adjusted = tests.benjamini_hochberg([c.p_value for c in tested])  # type: ignore[misc]
    for column, p in zip(tested, adjusted, strict=True):
        column.score = p
        column.drifted = p < (column.threshold or 0.0)
        column.status = "drift" if column.drifted else "ok"
