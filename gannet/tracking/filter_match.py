"""A parsed filter and order_by applied to plain values, for the searches of small
collections (experiments, logged models, registered models, model versions).

Runs are searched in SQL (``query``): there can be millions. The other things MLflow's
search languages name are few per store (hundreds of experiments, thousands of model
versions), are read whole by their services anyway, and are matched here with the same
meaning as the SQL: LIKE case-sensitive with ``%`` and ``_`` (a backslash escapes the next
character), ILIKE not; a thing lacking a compared key never matches (IS NULL excepted);
things lacking a sort key sort last in either direction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from gannet.tracking.types import Comparison, OrderKey

__all__ = ["Fields", "matches", "ordered", "select"]

T = TypeVar("T")


@dataclass(frozen=True)
class Fields:
    """What a filter may name of one thing: its attributes, tags, params and metrics."""

    attributes: Mapping[str, Any]
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)

    def get(self, entity: str, key: str) -> Any:
        source = {"attribute": self.attributes, "tag": self.tags, "param": self.params,
                  "metric": self.metrics}[entity]
        return source.get(key)


def select(
    items: Sequence[T],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderKey],
    fields_of: Callable[[T], Fields],
) -> list[T]:
    """The items matching every comparison, sorted by ``order`` (kept in their given order
    where it says nothing)."""
    found = [item for item in items if matches(comparisons, fields_of(item))]
    return ordered(found, order, fields_of)


def matches(comparisons: Sequence[Comparison], fields: Fields) -> bool:
    return all(_holds(c, fields.get(c.entity, c.key)) for c in comparisons)


def ordered(items: list[T], order: Sequence[OrderKey], fields_of: Callable[[T], Fields]) -> list[T]:
    """``items`` sorted by the keys of ``order`` (the first one first); missing values last."""
    result = list(items)
    for key in reversed(order):
        values = [(fields_of(i).get(key.entity, key.key), i) for i in result]
        present = [(v, i) for v, i in values if v is not None]
        present.sort(key=lambda pair: _sortable(pair[0]), reverse=not key.ascending)
        result = [i for _, i in present] + [i for v, i in values if v is None]
    return result


def _sortable(value: Any) -> Any:
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))


def _holds(comparison: Comparison, value: Any) -> bool:
    op, wanted = comparison.op, comparison.value
    if op == "IS NULL":
        return value is None
    if op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    if op in ("IN", "NOT IN"):
        assert isinstance(wanted, tuple)
        return (str(value) in wanted) == (op == "IN")
    if op == "LIKE":
        return _pattern(str(wanted), False).fullmatch(str(value)) is not None
    if op == "ILIKE":
        return _pattern(str(wanted), True).fullmatch(str(value)) is not None
    if isinstance(wanted, float):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return _compare(op, number, wanted) if number == number else False  # NaN never
    return _compare(op, str(value), str(wanted))


def _compare(op: str, left: Any, right: Any) -> bool:
    return {"=": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}[op]


@cache
def _pattern(like: str, ignore_case: bool) -> re.Pattern[str]:
    """A LIKE pattern as a regular expression: % any text, _ one character, \\x a literal x."""
    parts: list[str] = []
    chars = iter(like)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
