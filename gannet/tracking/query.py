"""Run search: a parsed filter and order_by become one SQL SELECT of run ids.

``filter_parser`` turns the user's text into plain ``Comparison`` and ``OrderKey`` values;
this module turns those into SQLAlchemy Core with bound parameters only — no user text is
ever formatted into SQL. The statement starts from ``runs``, shaped so that both SQLite
and PostgreSQL answer a page from an index at any size:

- a metric, param or tag the search sorts on is joined, one aliased row per key, on
  ``(run_id, key)`` — the primary key, so a run never appears twice. A key that is
  compared must exist, so its join is INNER (for a metric that lets the planner start from
  ``ix_latest_metrics_key_value``, a range scan over one key); a key that is only sorted
  on, or tested with ``IS NULL``, is a LEFT OUTER join;
- a key that is only filtered on is an ``EXISTS`` subquery, so the planner can walk the
  runs in the order of ``ix_runs_experiment_id_lifecycle_stage_start_time_run_id`` (the
  default order, newest first) and probe each run's row by primary key, stopping after
  one page; a filter known to match few rows (the ``driver``, see
  ``repository.search_statement``) is ``run_id IN (...)`` instead, read from the
  ``(key, value, run_id)`` index and sorted;
- a search of several experiments, or of active and deleted runs, in start-time order
  merges one index walk per (experiment, lifecycle stage), each cut at the page's end
  (``_merged``), instead of sorting every run;
- NaN metrics are stored as ``value NULL`` (``is_nan`` true), so no comparison matches them;
- rows missing a sort key go last in both directions (then NaN metrics just before them,
  as MLflow does), through an explicit rank term rather than ``NULLS LAST``, which older
  SQLite builds (< 3.30) lack. A key the filter already requires cannot be missing, so
  it is sorted on plainly — which lets the planner read it in index order. Sorting on a
  key without filtering on it sorts every run of the experiments (no index holds "missing
  last");
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
from gannet.tracking.tables import INDEXED_VALUE_BYTES, latest_metrics, params, runs, tags

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
    # a condition in itself: without this SQLite gets "(x GLOB ?) = 1", which no index serves
    _is_implicitly_boolean = True


@compiles(case_sensitive_like)
def _compile_like(element: case_sensitive_like, compiler: Any, **kw: Any) -> str:
    column, pattern, _glob = element.clauses
    return (f"({compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)} "
            "ESCAPE '\\')")


@compiles(case_sensitive_like, "sqlite")
def _compile_like_sqlite(element: case_sensitive_like, compiler: Any, **kw: Any) -> str:
    column, _pattern, glob = element.clauses
    return f"({compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)})"


class indexed_value(FunctionElement[bool]):
    """True for a param or tag value short enough to be in its ``(key, value, run_id)``
    index: on PostgreSQL that index holds values up to ``INDEXED_VALUE_BYTES`` only, and
    the planner uses it only when the query says so. Always true on SQLite."""

    name = "indexed_value"
    type = sa.Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True


@compiles(indexed_value)
def _compile_indexed_value(element: indexed_value, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"(octet_length({compiler.process(column, **kw)}) <= {INDEXED_VALUE_BYTES})"


@compiles(indexed_value, "sqlite")
def _compile_indexed_value_sqlite(element: indexed_value, compiler: Any, **kw: Any) -> str:
    return "1"


class long_value(FunctionElement[bool]):
    """The negation of ``indexed_value`` (PostgreSQL only): what the long-value index holds."""

    name = "long_value"
    type = sa.Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True


@compiles(long_value)
def _compile_long_value(element: long_value, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"(octet_length({compiler.process(column, **kw)}) > {INDEXED_VALUE_BYTES})"


def _equals_short_text(op: str, value: Any) -> bool:
    """An ``=`` or ``IN`` whose every text is indexable: a row equal to one is short too."""
    texts = [value] if op == "=" else list(value) if op == "IN" else []
    return bool(texts) and all(
        isinstance(t, str) and len(t.encode()) <= INDEXED_VALUE_BYTES for t in texts
    )


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
    """The aliased metric/param/tag rows a search joins (one per distinct sorted key) and
    every distinct (entity, key) it uses, joined or not (for the runaway-query limit)."""

    def __init__(self) -> None:
        self.aliases: dict[tuple[str, str], FromClause] = {}
        self.required: set[tuple[str, str]] = set()
        self.used: set[tuple[str, str]] = set()

    def note(self, entity: str, key: str) -> int:
        """Count ``entity.key`` as used; its number among the used keys."""
        if (entity, key) not in self.used:
            if len(self.used) >= MAX_JOINED_KEYS:
                raise InvalidArgument(
                    f"this search uses more than {MAX_JOINED_KEYS} distinct metric, param "
                    "and tag keys", "filter and sort on fewer keys at once")
            self.used.add((entity, key))
        return len(self.used) - 1

    def get(self, entity: str, key: str, *, required: bool) -> FromClause:
        """The alias for ``entity.key``; ``required`` makes it an inner join."""
        name = (entity, key)
        if name not in self.aliases:
            self.aliases[name] = _TABLES[entity].alias(f"{entity}_{self.note(entity, key)}")
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


def _condition(
    comparison: Comparison, joins: _Joins, sorted_keys: set[tuple[str, str]],
    driver: Comparison | None, split_long: bool,
) -> ColumnElement[bool]:
    """The WHERE term for one comparison (joining what it needs).

    A key the search also sorts on is compared on its joined row. Any other key is a
    subquery on its own table: ``EXISTS`` (probed per run, while the runs are read in the
    order of an index), or, for the ``driver``, ``run_id IN (...)`` (its few matching runs,
    read from the ``(key, value, run_id)`` index first). With ``split_long`` (PostgreSQL,
    whose value index holds short values only) a param or tag LIKE that drives is
    ``run_id IN`` its short and its long matches, each read from its own index.
    """
    entity, key, op, value = (comparison.entity, comparison.key, comparison.op,
                              comparison.value)
    if entity == "attribute":
        return _compare(_attribute_column(key), op, value)
    if (entity, key) in sorted_keys:
        alias = joins.get(entity, key, required=op != "IS NULL")
        # IS [NOT] NULL asks whether the param or tag row exists at all
        column = alias.c.run_id if op in ("IS NULL", "IS NOT NULL") else alias.c.value
        return _compare(column, op, value)
    row = _TABLES[entity].alias(f"{entity}_{joins.note(entity, key)}")
    match = [row.c.key == key]
    if op not in ("IS NULL", "IS NOT NULL"):
        match.append(_compare(row.c.value, op, value))
    if entity != "metric" and _equals_short_text(op, value):
        match.append(indexed_value(row.c.value))
    if comparison == driver and split_long and entity != "metric" and op == "LIKE":
        longer = _TABLES[entity].alias(f"{row.name}_long")
        return runs.c.run_id.in_(sa.union_all(
            sa.select(row.c.run_id).where(*match, indexed_value(row.c.value)),
            sa.select(longer.c.run_id).where(
                longer.c.key == key, _compare(longer.c.value, op, value),
                long_value(longer.c.value)),
        ))
    if comparison == driver:
        return runs.c.run_id.in_(sa.select(row.c.run_id).where(*match))
    exists = sa.exists().where(row.c.run_id == runs.c.run_id, *match)
    return ~exists if op == "IS NULL" else exists


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
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


def matching_rows(comparison: Comparison, cap: int) -> sa.Select[Any]:
    """How many rows of its table match ``comparison`` (a metric, param or tag), counting
    no further than ``cap``: an index range scan of ``(key, value)`` when it has a range."""
    table = _TABLES[comparison.entity]
    match = [table.c.key == comparison.key,
             _compare(table.c.value, comparison.op, comparison.value)]
    if comparison.entity != "metric":  # PostgreSQL's index: short values (nearly all)
        match.append(indexed_value(table.c.value))
    rows = sa.select(sa.literal(1)).where(*match).limit(cap)
    return sa.select(sa.func.count()).select_from(rows.subquery())


def can_drive(comparison: Comparison, sorted_keys: set[tuple[str, str]]) -> bool:
    """Whether the rows matching ``comparison`` could be read first: a metric, param or
    tag filter that is a range of its ``(key, value)`` index (=, IN, <, >, LIKE 'prefix...');
    counting or reading the matches of anything else would read every row of the key."""
    op, value = comparison.op, comparison.value
    return (
        comparison.entity != "attribute"
        and (comparison.entity, comparison.key) not in sorted_keys
        and (op in ("=", "IN", "<", "<=", ">", ">=")
             or (op == "LIKE" and isinstance(value, str) and not value.startswith(("%", "_"))))
    )


def sorts_on_unfiltered_key(order: Sequence[OrderKey], comparisons: Sequence[Comparison]) -> bool:
    """Whether the first order key is a metric, param or tag that no comparison requires:
    then runs missing it (or NaN) sort last, and the runs that have a value come first."""
    if not order or order[0].entity == "attribute":
        return False
    first = (order[0].entity, order[0].key)
    return not any(
        (c.entity, c.key) == first and c.op != "IS NULL" for c in comparisons
    )


def sorted_keys_of(order: Sequence[OrderKey]) -> set[tuple[str, str]]:
    return {(k.entity, k.key) for k in order if k.entity != "attribute"}


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


def _stages(lifecycle: str) -> list[str]:
    if lifecycle not in _LIFECYCLES:
        raise InvalidArgument(f"unknown lifecycle {lifecycle!r}",
                              "use 'active', 'deleted' or 'all'")
    stage = _LIFECYCLES[lifecycle]
    return ["active", "deleted"] if stage is None else [stage]


def search_statement(
    experiment_ids: Sequence[str],
    comparisons: Sequence[Comparison],
    order: Sequence[OrderKey],
    lifecycle: str,
    limit: int,
    offset: int,
    *,
    driver: Comparison | None = None,
    valued: bool = False,
    split_long: bool = False,
) -> sa.Select[Any]:
    """SELECT runs.run_id of the runs in ``experiment_ids`` that match, sorted and paged.

    ``lifecycle`` is "active", "deleted" or "all". Sorting ends with ``start_time DESC,
    run_id DESC`` so equal keys page stably. ``driver`` is a comparison known to match
    few rows (see ``matching_rows``): its runs are read first instead of walking the runs
    in order and probing each. ``valued`` keeps only the runs that have a value (not
    missing, not NaN) for the first order key: the head of the full order, which an index
    of that key can give in order (see ``sorts_on_unfiltered_key``). ``split_long``: see
    ``_condition`` (PostgreSQL).
    """
    for name, number in (("limit", limit), ("offset", offset)):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise InvalidArgument(f"{name} must be a whole number >= 0, not {number!r}",
                                  f"pass e.g. {name}=100")
    joins = _Joins()
    sorted_keys = sorted_keys_of(order)
    where = [_condition(c, joins, sorted_keys, driver, split_long) for c in comparisons]
    if valued and sorts_on_unfiltered_key(order, comparisons):
        first = order[0]
        where.append(joins.get(first.entity, first.key, required=True).c.value.is_not(None))
    order_by = [term for key in order for term in _order_terms(key, joins)]
    order_by += [runs.c.start_time.desc(), runs.c.run_id.desc()]
    scopes = [(e, stage) for e in dict.fromkeys(experiment_ids) for stage in _stages(lifecycle)]
    if len(scopes) > 1 and len(scopes) <= MAX_MERGED and _by_start_time(order):
        return _merged(scopes, joins, where, order, limit, offset)
    scope: list[sa.ColumnElement[bool]] = [runs.c.experiment_id.in_(list(experiment_ids))]
    if lifecycle != "all":
        scope.append(runs.c.lifecycle_stage == _stages(lifecycle)[0])
    return (
        sa.select(runs.c.run_id)
        .select_from(joins.from_clause())
        .where(*scope, *where)
        .order_by(*order_by)
        .limit(limit)
        .offset(offset)
    )


# A search of more (experiment, lifecycle) pairs than this sorts them all instead.
MAX_MERGED = 64


def _by_start_time(order: Sequence[OrderKey]) -> bool:
    return all(k.entity == "attribute" and k.key == "start_time" for k in order)


def _merged(
    scopes: Sequence[tuple[str, str]], joins: _Joins, where: Sequence[ColumnElement[bool]],
    order: Sequence[OrderKey], limit: int, offset: int,
) -> sa.Select[Any]:
    """The first ``limit + offset`` runs of each (experiment, lifecycle) pair, each read
    in the order of ``ix_runs_experiment_id_lifecycle_stage_start_time_run_id``, merged
    and paged: a search over several experiments (or active and deleted runs) stays an
    index walk instead of sorting every run."""
    def terms(columns: Any) -> list[Any]:
        first = [columns.start_time.asc() if k.ascending else columns.start_time.desc()
                 for k in order]
        return [*first, columns.start_time.desc(), columns.run_id.desc()]

    arms = [
        sa.select(runs.c.run_id, runs.c.start_time)
        .select_from(joins.from_clause())
        .where(runs.c.experiment_id == experiment, runs.c.lifecycle_stage == stage, *where)
        .order_by(*terms(runs.c))
        .limit(limit + offset)
        .subquery()
        .select()
        for experiment, stage in scopes
    ]
    merged = sa.union_all(*arms).subquery("merged")
    return (
        sa.select(merged.c.run_id)
        .order_by(*terms(merged.c))
        .limit(limit)
        .offset(offset)
    )
