"""The checks a suite is made of, each a small dataclass that knows its SQL.

A check gives the engine the aggregate expressions it needs (``aggregates``: all the
checks of a suite share ONE pass over the table), judges their values (``judge``: passed,
the observed values, a sentence), and, when it failed, the predicate that picks its
offending rows (``offending``), which the engine fetches a few of.

Null values are ignored by every column check except ``not_null`` (as Great Expectations
does): a predicate over a null is null, which neither ``FILTER`` nor ``WHERE`` counts, so
no ``IS NOT NULL`` guard is written (it would cost a third of some scans).

Checks are written as mappings (``{check: between, column: age, min: 0}``); ``parse_check``
turns one into its class, refusing unknown names and arguments of the wrong type with an
error that says which.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from gannet.core.durations import parse_duration
from gannet.core.errors import InvalidArgument
from gannet.data.validation.types import Verdict, type_matches
from gannet.stats.table_repository import VIEW, TableSource, plain_value, quote_literal

Scalar = (int, float, str)


@dataclass(frozen=True)
class Check:
    """Base of every check; ``kind`` is the name a suite writes after ``check:``."""

    kind: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()
    types: ClassVar[dict[str, tuple[type, ...]]] = {}

    def title(self) -> str:
        column = getattr(self, "column", None)
        return f"{self.kind}({column})" if column else self.kind

    def to_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"check": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default and not (f.name == "values" and not value):
                spec[f.name] = list(value) if isinstance(value, tuple) else value
        return spec

    def prepare(self, source: TableSource) -> None:
        """Refuse a table this check cannot run on (a column it does not have)."""
        column = getattr(self, "column", None)
        if column is not None:
            source.quoted(column)

    def aggregates(self, source: TableSource) -> dict[str, str]:
        return {}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        raise NotImplementedError

    def offending(self, source: TableSource) -> str | None:
        """A predicate over ``data`` selecting rows that break this check, or None."""
        return None

    def check_arguments(self) -> None:
        """Rules between arguments (types are checked by ``parse_check``)."""


@dataclass(frozen=True)
class NotNull(Check):
    kind: ClassVar[str] = "not_null"
    needs: ClassVar[tuple[str, ...]] = ("column",)
    types: ClassVar[dict[str, tuple[type, ...]]] = {"column": (str,)}
    column: str = ""

    def aggregates(self, source: TableSource) -> dict[str, str]:
        return {"nulls": f"count(*) - count({source.quoted(self.column)})"}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        nulls = int(got["nulls"])
        return Verdict(nulls == 0, {"nulls": nulls}, f"{nulls} of {rows} values are null")

    def offending(self, source: TableSource) -> str | None:
        return f"{source.quoted(self.column)} IS NULL"


@dataclass(frozen=True)
class Unique(Check):
    kind: ClassVar[str] = "unique"
    needs: ClassVar[tuple[str, ...]] = ("column",)
    types: ClassVar[dict[str, tuple[type, ...]]] = {"column": (str,)}
    column: str = ""

    def aggregates(self, source: TableSource) -> dict[str, str]:
        col = source.quoted(self.column)
        return {"duplicates": f"count({col}) - count(DISTINCT {col})"}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        dup = int(got["duplicates"])
        return Verdict(dup == 0, {"duplicates": dup},
                       f"{dup} values repeat one seen before" if dup else "all values distinct")

    def offending(self, source: TableSource) -> str | None:
        col = source.quoted(self.column)
        return (f"{col} IN (SELECT {col} FROM {VIEW} WHERE {col} IS NOT NULL "
                f"GROUP BY {col} HAVING count(*) > 1)")


@dataclass(frozen=True)
class Between(Check):
    kind: ClassVar[str] = "between"
    needs: ClassVar[tuple[str, ...]] = ("column",)
    types: ClassVar[dict[str, tuple[type, ...]]] = {
        "column": (str,), "min": Scalar, "max": Scalar,
        "strict_min": (bool,), "strict_max": (bool,),
    }
    column: str = ""
    min: Any = None
    max: Any = None
    strict_min: bool = False
    strict_max: bool = False

    def check_arguments(self) -> None:
        if self.min is None and self.max is None:
            raise InvalidArgument(
                f"check between({self.column}) needs min, max or both",
                "e.g. {check: between, column: age, min: 0, max: 120}",
            )

    def prepare(self, source: TableSource) -> None:
        super().prepare(source)
        import pyarrow.types as t

        actual = source.schema.field(self.column).type
        numeric = t.is_integer(actual) or t.is_floating(actual) or t.is_decimal(actual)
        for key in ("min", "max"):
            bound = getattr(self, key)
            if numeric and isinstance(bound, str):
                raise InvalidArgument(
                    f"check between({self.column}): {key} {bound!r} is a text but "
                    f"{self.column!r} is {actual}",
                    "write the bound as a number without quotes",
                )

    def _inside(self, col: str) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{col} {'>' if self.strict_min else '>='} {_literal(self.min)}")
        if self.max is not None:
            parts.append(f"{col} {'<' if self.strict_max else '<='} {_literal(self.max)}")
        return " AND ".join(parts)

    def aggregates(self, source: TableSource) -> dict[str, str]:
        col = source.quoted(self.column)
        return {
            "outside": f"count(*) FILTER (WHERE NOT ({self._inside(col)}))",
            "min": f"min({col})",
            "max": f"max({col})",
        }

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        outside = int(got["outside"])
        observed = {"outside": outside, "min": plain_value(got["min"]),
                    "max": plain_value(got["max"])}
        seen = f"{_shown(observed['min'], 'none')} .. {_shown(observed['max'], 'none')}"
        low = "(" if self.strict_min else "["
        high = ")" if self.strict_max else "]"
        bounds = f"{low}{_shown(self.min, '-inf')}, {_shown(self.max, 'inf')}{high}"
        return Verdict(outside == 0, observed,
                       f"{outside} of {rows} values outside {bounds} "
                       f"(seen {seen})")

    def offending(self, source: TableSource) -> str | None:
        return f"NOT ({self._inside(source.quoted(self.column))})"


@dataclass(frozen=True)
class InSet(Check):
    kind: ClassVar[str] = "in_set"
    needs: ClassVar[tuple[str, ...]] = ("column", "values")
    types: ClassVar[dict[str, tuple[type, ...]]] = {"column": (str,), "values": (list,)}
    column: str = ""
    values: tuple[Any, ...] = field(default_factory=tuple)

    def check_arguments(self) -> None:
        for value in self.values:
            if not isinstance(value, (*Scalar, bool)):
                raise InvalidArgument(
                    f"check in_set({self.column}): {value!r} is not a number or a text",
                    "list plain values: values: [a, b, c]",
                )

    def _outside(self, col: str) -> str:
        if not self.values:
            return f"{col} IS NOT NULL"
        listed = ", ".join(_literal(v) for v in self.values)
        return f"{col} NOT IN ({listed})"

    def aggregates(self, source: TableSource) -> dict[str, str]:
        return {"outside": f"count(*) FILTER (WHERE {self._outside(source.quoted(self.column))})"}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        outside = int(got["outside"])
        return Verdict(outside == 0, {"outside": outside},
                       f"{outside} of {rows} values not in the {len(self.values)} allowed")

    def offending(self, source: TableSource) -> str | None:
        return self._outside(source.quoted(self.column))


@dataclass(frozen=True)
class Regex(Check):
    kind: ClassVar[str] = "regex"
    needs: ClassVar[tuple[str, ...]] = ("column", "pattern")
    types: ClassVar[dict[str, tuple[type, ...]]] = {"column": (str,), "pattern": (str,)}
    column: str = ""
    pattern: str = ""

    def check_arguments(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise InvalidArgument(
                f"check regex({self.column}): {self.pattern!r} is not a regular expression: {exc}",
                "write a pattern such as '^[A-Z]{2}[0-9]+$' (searched anywhere in the value)",
            ) from exc

    def _misses(self, source: TableSource) -> str:
        col = source.quoted(self.column)
        text = col if type_matches("string", source.schema.field(self.column).type) else (
            f"{col}::VARCHAR")
        return f"NOT regexp_matches({text}, {quote_literal(self.pattern)})"

    def aggregates(self, source: TableSource) -> dict[str, str]:
        return {"mismatches": f"count(*) FILTER (WHERE {self._misses(source)})"}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        misses = int(got["mismatches"])
        return Verdict(misses == 0, {"mismatches": misses},
                       f"{misses} of {rows} values do not match {self.pattern!r}")

    def offending(self, source: TableSource) -> str | None:
        return self._misses(source)


@dataclass(frozen=True)
class RowCount(Check):
    kind: ClassVar[str] = "row_count"
    types: ClassVar[dict[str, tuple[type, ...]]] = {"min": (int,), "max": (int,)}
    min: int | None = None
    max: int | None = None

    def check_arguments(self) -> None:
        if self.min is None and self.max is None:
            raise InvalidArgument("check row_count needs min, max or both",
                                  "e.g. {check: row_count, min: 1000}")

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        ok = (self.min is None or rows >= self.min) and (self.max is None or rows <= self.max)
        return Verdict(ok, {"rows": rows},
                       f"{rows} rows, needs [{_shown(self.min, 0)}, {_shown(self.max, 'inf')}]")


@dataclass(frozen=True)
class Freshness(Check):
    """The newest timestamp of ``column`` is at most ``max_age`` old (``1d``, ``6h``)."""

    kind: ClassVar[str] = "freshness"
    needs: ClassVar[tuple[str, ...]] = ("column", "max_age")
    types: ClassVar[dict[str, tuple[type, ...]]] = {"column": (str,), "max_age": (str, int, float)}
    column: str = ""
    max_age: Any = None

    def check_arguments(self) -> None:
        parse_duration(self.max_age)

    def prepare(self, source: TableSource) -> None:
        super().prepare(source)
        actual = source.schema.field(self.column).type
        if not (type_matches("timestamp", actual) or type_matches("date", actual)):
            raise InvalidArgument(
                f"check freshness({self.column}) needs a timestamp or date column; "
                f"{self.column!r} is {actual}",
                "name a column of times (cast it when the table is written)",
            )

    def aggregates(self, source: TableSource) -> dict[str, str]:
        return {"latest": f"max({source.quoted(self.column)})"}

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        latest = got["latest"]
        limit = parse_duration(self.max_age)
        if latest is None:
            return Verdict(False, {"latest": None}, "no timestamps (the column is empty)")
        if not isinstance(latest, dt.datetime):  # a date: its midnight, UTC
            latest = dt.datetime(latest.year, latest.month, latest.day)
        if latest.tzinfo is None:  # times without a zone are taken as UTC
            latest = latest.replace(tzinfo=dt.UTC)
        age = (dt.datetime.now(dt.UTC) - latest).total_seconds()
        return Verdict(age <= limit, {"latest": latest.isoformat(), "age_seconds": round(age, 3)},
                       f"newest {latest.isoformat()} is {age:.0f}s old, allowed {limit:.0f}s")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(str(value))


def _shown(value: Any, default: object) -> object:
    if isinstance(value, float):
        return f"{value:.6g}"
    return default if value is None else value


def known_checks() -> dict[str, type[Check]]:
    from gannet.data.validation.table_checks import CustomSql, Schema

    return {c.kind: c for c in (NotNull, Unique, Between, InSet, Regex, RowCount, Freshness,
                                Schema, CustomSql)}


def parse_check(spec: object, where: str) -> Check:
    """The check written as ``spec`` (``where`` says which item of the suite it is)."""
    if isinstance(spec, Check):  # held to the same rules as the mapping it stands for
        spec = spec.to_dict()
    if not isinstance(spec, dict) or "check" not in spec:
        raise InvalidArgument(f"{where} is not a check: {spec!r}",
                              "write each check as {check: NAME, ...}, e.g. "
                              "{check: not_null, column: age}")
    known = known_checks()
    name = spec["check"]
    if name not in known:
        close = difflib.get_close_matches(str(name), known, n=1)
        maybe = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidArgument(f"unknown check {name!r} ({where})",
                              f"{maybe}the checks are: {', '.join(known)}")
    cls = known[name]
    for key, value in spec.items():
        if key != "check":
            _check_argument(cls, key, value, where)
    values = {k: v for k, v in spec.items() if k != "check" and v is not None}  # null: unset
    for key in cls.needs:
        if key not in values:
            raise InvalidArgument(f"check {name} ({where}) needs {key!r}",
                                  f"it takes: {', '.join(cls.types)}")
    if "values" in values:
        values["values"] = tuple(values["values"])
    check = cls(**values)
    check.check_arguments()
    return check


def _check_argument(cls: type[Check], key: str, value: object, where: str) -> None:
    expected = cls.types.get(key)
    if expected is None:
        raise InvalidArgument(f"check {cls.kind} ({where}) does not take {key!r}",
                              f"it takes: {', '.join(cls.types)}")
    number_expected = int in expected or float in expected
    names = [_TYPE_NAMES[t] for t in expected if not (t is int and float in expected)]
    if value is None:
        return
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        raise InvalidArgument(
            f"check {cls.kind} ({where}): {key!r} must be {' or '.join(names)}, got {value!r}",
            "write a number without quotes" if number_expected and isinstance(value, str)
            else f"see the {cls.kind} check in docs/data-validation.md",
        )


_TYPE_NAMES = {str: "a text", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping"}
