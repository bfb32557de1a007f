"""Run search: a parsed filter and order_by become one SQL SELECT of run ids.

``filter_parser`` turns the user's text into plain ``Comparison`` and ``OrderKey`` values;
this module turns those into SQLAlchemy Core with bound parameters only — no user text is
ever formatted into SQL. The statement starts from ``runs`` and joins one aliased row of
``latest_metrics``, ``params`` or ``tags`` per distinct key it filters or sorts on, on
``(run_id, key)`` — the primary key, so a run never appears twice:

- a key that is compared must exist, so its join is INNER (for a metric that lets the
  planner start from ``ix_latest_metrics_key_value``, a range scan over one key); a key
  that is only sorted on, or tested with ``IS NULL``, is a LEFT OUTER join;
- NaN metrics are stored as ``value NULL`` (``is_nan`` true), so no comparison matches them;
- rows missing a sort key go last in both directions (then NaN metrics just before them,
  as MLflow does), through an explicit rank term rather than ``NULLS LAST``, which older
  SQLite builds (< 3.30) lack. A key the filter already requires cannot be missing, so
  it is sorted on plainly — which lets the planner read it in index order;
- every order ends with ``start_time DESC, run_id DESC``, so pages are stable.

LIKE must be case-sensitive on both backends, and SQLite's LIKE is not (for ASCII). So
``LIKE`` compiles through ``case_sensitive_like``: plain ``LIKE ... ESCAPE '\\'`` on
PostgreSQL (case-sensitive there), and on SQLite ``GLOB`` with the pattern translated
(``%`` → ``*``, ``_`` → ``?``, GLOB's own ``* ? [`` bracketed). Both translations are
bound parameters of the one construct, so a cached compiled statement stays right for
any pattern. ``ILIKE`` is SQLAlchemy's (``ILIKE`` on PostgreSQL, ``lower() LIKE lower()``
on SQLite). In both, a backslash escapes the next character, PostgreSQL's default.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.sql.selectable import FromClause

from gannet.core.errors import InvalidArgument
from gannet.tracking.filter_parser import (
    ATTRIBUTES,
    Comparison,
    OrderKey,
    parse_filter,
    parse_order_by,
)
from gannet.tracking.tables import latest_metrics, params, runs, tags

__all__ = [
    "Comparison",
    "OrderKey",
    "like_to_glob",
    "parse_filter",
    "parse_order_by",
    "search_statement",
]

# More joins than this would be a runaway query (SQLite also caps a join at 64 tables).
MAX_JOINED_KEYS = 32

_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}
_ATTRIBUTE_COLUMNS = {"run_name": "name"}  # every other attribute is its column's name
_LIFECYCLES = {"active": "active", "deleted": "deleted", "all": None}
_NUMERIC: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


class case_sensitive_like(FunctionElement[bool]):
    """``column LIKE pattern``, case-sensitive on every backend (see the module docstring).

    Arguments: the column, the LIKE pattern and the same pattern as a GLOB.
    """

    name = "case_sensitive_like"
    type = sa.Boolean()
    inherit_cache = True


@compiles(case_sensitive_like)
def _compile_like(element: case_sensitive_like, compiler: Any, **kw: Any) -> str:
    column, pattern, _glob = element.clauses
    return (f"({compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)} "
            "ESCAPE '\\')")


@compiles(case_sensitive_like, "sqlite")
def _compile_like_sqlite(element: case_sensitive_like, compiler: Any, **kw: Any) -> str:
    column, _pattern, glob = element.clauses
    return f"({compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)})"


def like_to_glob(pattern: str) -> str:
    """The GLOB pattern matching exactly what LIKE ``pattern`` (escape ``\\``) matches."""
    literal = {"*": "[*]", "?": "[?]", "[": "[[]"}
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(literal.get(pattern[i], pattern[i]))
        elif char in ("%", "_"):
            out.append("*" if char == "%" else "?")
        else:
            out.append(literal.get(char, char))
        i += 1
    return "".join(out)


class _Joins:
    """The aliased metric/param/tag rows a search needs: one per distinct (entity, key)."""

    def __init__(self) -> None:
        self.aliases: dict[tuple[str, str], FromClause] = {}
        self.required: set[tuple[str, str]] = set()

    def get(self, entity: str, key: str, *, required: bool) -> FromClause:
        """The alias for ``entity.key``; ``required`` makes it an inner join."""
        name = (entity, key)
        if name not in self.aliases:
            if len(self.aliases) >= MAX_JOINED_KEYS:
                raise InvalidArgument(
                    f"this search uses more than {MAX_JOINED_KEYS} distinct metric, param "
                    "and tag keys", "filter and sort on fewer keys at once")
            self.aliases[name] = _TABLES[entity].alias(f"{entity}_{len(self.aliases)}")
        if required:
            self.required.add(name)
        return self.aliases[name]

    def from_clause(self) -> FromClause:
        joined: FromClause = runs
        for name, alias in self.aliases.items():
            on = sa.and_(alias.c.run_id == runs.c.run_id, alias.c.key == name[1])
            joined = joined.join(alias, on, isouter=name not in self.required)
        return joined


def _attribute_column(key: str) -> sa.Column[Any]:
    return runs.c[_ATTRIBUTE_COLUMNS.get(key, key)]


def _number(column: Any, value: float) -> Any:
    """Integer columns compare to an int (index-friendly); fractions stay floating point."""
    if isinstance(column.type, sa.Integer) and float(value).is_integer():
        return int(value)
    return sa.literal(value, sa.Double())


def _condition(comparison: Comparison, joins: _Joins) -> ColumnElement[bool]:
    """The WHERE term for one comparison (joining what it needs)."""
    entity, key, op, value = (comparison.entity, comparison.key, comparison.op,
                              comparison.value)
    if entity == "attribute":
        column: Any = _attribute_column(key)
    else:
        alias = joins.get(entity, key, required=op != "IS NULL")
        # IS [NOT] NULL asks whether the param or tag row exists at all
        column = alias.c.run_id if op in ("IS NULL", "IS NOT NULL") else alias.c.value
    if op in _NUMERIC:
        operand = _number(column, value) if isinstance(value, float) else value
        return _NUMERIC[op](column, operand)
    return _string_condition(column, op, value)


def _string_condition(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "LIKE":
        return case_sensitive_like(column, value, like_to_glob(value))
    if op == "ILIKE":
        return column.ilike(value, escape="\\")
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    raise InvalidArgument(f"unknown comparator {op!r}", "see the filter grammar")


def _order_terms(key: OrderKey, joins: _Joins) -> list[Any]:
    """ORDER BY terms for one key: a missing-last rank when it can be missing, then the value."""
    def direction(expr: Any) -> Any:
        return expr.asc() if key.ascending else expr.desc()

    if key.entity == "attribute":
        column = _attribute_column(key.key)
        if not ATTRIBUTES[key.key].nullable:
            return [direction(column)]
        return [sa.case((column.is_(None), 1), else_=0), direction(column)]
    if (key.entity, key.key) in joins.required:  # the filter already needs a value here
        return [direction(joins.get(key.entity, key.key, required=True).c.value)]
    alias = joins.get(key.entity, key.key, required=False)
    # missing row: 2; a NaN metric (value NULL, row present): 1; a value: 0.
    rank = sa.case((alias.c.run_id.is_(None), 2), (alias.c.value.is_(None), 1), else_=0)
    return [rank, direction(alias.c.value)]


def _lifecycle(lifecycle: str) -> list[ColumnElement[bool]]:
    if lifecycle not in _LIFECYCLES:
        raise InvalidArgument(f"unknown lifecycle {lifecycle!r}",
                              "use 'active', 'deleted' or 'all'")
    stage = _LIFECYCLES[lifecycle]
    return [] if stage is None else [runs.c.lifecycle_stage == stage]


def search_statement(
    experiment_ids: Sequence[str],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderKey],
    lifecycle: str,
    limit: int,
    offset: int,
) -> sa.Select[Any]:
    """SELECT runs.run_id of the runs in ``experiment_ids`` that match, sorted and paged.

    ``lifecycle`` is "active", "deleted" or "all". Sorting ends with ``start_time DESC,
    run_id DESC`` so equal keys page stably.
    """
    for name, number in (("limit", limit), ("offset", offset)):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise InvalidArgument(f"{name} must be a whole number >= 0, not {number!r}",
                                  f"pass e.g. {name}=100")
    joins = _Joins()
    where = [runs.c.experiment_id.in_(list(experiment_ids)), *_lifecycle(lifecycle)]
    where += [_condition(comparison, joins) for comparison in comparisons]
    order_by = [term for key in order for term in _order_terms(key, joins)]
    order_by += [runs.c.start_time.desc(), runs.c.run_id.desc()]
    return (
        sa.select(runs.c.run_id)
        .select_from(joins.from_clause())
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
        .offset(offset)
    )
