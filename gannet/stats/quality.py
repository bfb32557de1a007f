"""Data quality of a window against its reference: ``quality(reference, current)``.

Per column: the share of nulls (flagged when it rises more than ``null_tolerance`` over
the reference's), the share of numeric values outside the reference's [min, max] (flagged
above ``range_tolerance``), categories the reference never had (flagged when any), and
schema violations: a column missing from the window, one whose kind changed (numbers
become text), one that is all null while the reference had values. Columns the window has
and the reference lacks are listed as new. A window of fewer than ``min_rows`` rows is
``insufficient``: counted, never judged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from gannet.stats.columns import Prepared, as_table, prepare

__all__ = ["ColumnQuality", "QualityReport", "assess", "quality"]

NULL_TOLERANCE = 0.05
RANGE_TOLERANCE = 0.01
MAX_EXAMPLES = 10


@dataclass
class ColumnQuality:
    column: str
    status: str  # "ok", "issues", "missing"
    null_share_reference: float | None
    null_share: float | None
    out_of_range_share: float | None = None
    unseen_categories: list[Any] = field(default_factory=list)
    unseen_share: float | None = None
    issues: list[str] = field(default_factory=list)


@dataclass
class QualityReport:
    rows: int
    status: str  # "ok", "issues", "insufficient"
    columns: dict[str, ColumnQuality]
    missing_columns: list[str]
    new_columns: list[str]

    @property
    def issues(self) -> list[str]:
        return [f"{c.column}: {issue}" for c in self.columns.values() for issue in c.issues]

    def metrics(self) -> dict[str, float]:
        """Summary numbers: the worst null share, out-of-range share and unseen share."""
        found = [c for c in self.columns.values() if c.status != "missing"]
        return {
            "null_share": max((c.null_share or 0.0 for c in found), default=0.0),
            "out_of_range_share": max((c.out_of_range_share or 0.0 for c in found), default=0.0),
            "unseen_share": max((c.unseen_share or 0.0 for c in found), default=0.0),
            "missing_columns": float(len(self.missing_columns)),
            "issues": float(len(self.issues)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "status": self.status, "issues": self.issues,
                "missing_columns": self.missing_columns, "new_columns": self.new_columns,
                "metrics": self.metrics(),
                "columns": {n: asdict(c) for n, c in self.columns.items()}}


def quality(reference: Any, current: Any, *, columns: Sequence[str] | None = None,
            min_rows: int = 30, null_tolerance: float = NULL_TOLERANCE,
            range_tolerance: float = RANGE_TOLERANCE) -> QualityReport:
    """The quality of ``current`` against ``reference`` (see the module's docstring)."""
    ref, cur = as_table(reference, "reference"), as_table(current, "current data")
    names = list(columns) if columns is not None else list(ref.column_names)
    pairs = {n: (prepare(n, ref.column(n)),
                 prepare(n, cur.column(n)) if n in cur.column_names else None)
             for n in names}
    new = [n for n in cur.column_names if n not in ref.column_names]
    return assess(pairs, cur.num_rows, new_columns=new, min_rows=min_rows,
                  null_tolerance=null_tolerance, range_tolerance=range_tolerance)


def assess(pairs: Mapping[str, tuple[Prepared, Prepared | None]], rows: int, *,
           new_columns: Sequence[str] = (), min_rows: int = 30,
           null_tolerance: float = NULL_TOLERANCE,
           range_tolerance: float = RANGE_TOLERANCE) -> QualityReport:
    """``quality`` over prepared columns (a None current column is missing)."""
    columns = {name: _column(ref, cur, null_tolerance, range_tolerance)
               for name, (ref, cur) in pairs.items()}
    missing = [n for n, (_, cur) in pairs.items() if cur is None]
    if rows < min_rows:
        status = "insufficient"
    elif any(c.issues for c in columns.values()):
        status = "issues"
    else:
        status = "ok"
    return QualityReport(rows, status, columns, missing, list(new_columns))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _column(ref: Prepared, cur: Prepared | None, null_tolerance: float,
            range_tolerance: float) -> ColumnQuality:
    ref_nulls = _share(ref.nulls, ref.rows)
    if cur is None:
        return ColumnQuality(ref.name, "missing", ref_nulls, None,
                             issues=["missing from the current data"])
    found = ColumnQuality(ref.name, "ok", ref_nulls, _share(cur.nulls, cur.rows))
    if cur.rows and cur.nulls == cur.rows and ref.valid:
        found.issues.append("every value is null")
    elif (found.null_share or 0.0) > (ref_nulls or 0.0) + null_tolerance:
        found.issues.append(f"nulls rose from {ref_nulls or 0.0:.1%} to {found.null_share:.1%}")
    if ref.kind != cur.kind and "unsupported" not in (ref.kind, cur.kind) and cur.valid:
        found.issues.append(f"type changed from {ref.dtype} to {cur.dtype}")
    elif ref.kind == "numeric" and ref.valid and cur.valid:
        _out_of_range(ref, cur, found, range_tolerance)
    elif ref.kind == "categorical" and cur.valid:
        _unseen(ref, cur, found)
    found.status = "issues" if found.issues else "ok"
    return found


def _out_of_range(ref: Prepared, cur: Prepared, found: ColumnQuality, tolerance: float) -> None:
    import numpy as np

    low, high = ref.values[0], ref.values[-1]
    below = int(np.searchsorted(cur.values, low, side="left"))
    above = len(cur.values) - int(np.searchsorted(cur.values, high, side="right"))
    found.out_of_range_share = (below + above) / len(cur.values)
    if found.out_of_range_share > tolerance:
        found.issues.append(f"{found.out_of_range_share:.1%} of values outside the "
                            f"reference's range [{low:.6g}, {high:.6g}]")


def _unseen(ref: Prepared, cur: Prepared, found: ColumnQuality) -> None:
    unseen = {value: n for value, n in cur.counts.items() if value not in ref.counts}
    found.unseen_share = sum(unseen.values()) / cur.valid
    found.unseen_categories = sorted(unseen, key=lambda v: -unseen[v])[:MAX_EXAMPLES]
    if unseen:
        shown = ", ".join(repr(v) for v in found.unseen_categories)
        found.issues.append(f"{len(unseen)} categories the reference never had "
                            f"({found.unseen_share:.1%} of values): {shown}")
