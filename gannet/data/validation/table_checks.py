"""Checks over the whole table rather than one column's values: ``schema`` (columns,
types, which are required, nothing else, in this order) and ``sql`` (a custom DuckDB
query over the view ``data`` whose rows are the offending ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gannet.core.errors import InvalidArgument
from gannet.data.validation.checks import Check
from gannet.data.validation.types import TYPE_NAMES, Verdict, type_matches
from gannet.stats.table_repository import TableSource, plain_value


@dataclass(frozen=True)
class Schema(Check):
    """``columns``: a mapping of column to type (``int``, ``float``, ``string``, ``bool``,
    ``timestamp``, ``date``, or an Arrow name such as ``int32``) or a list of names, all
    required; ``required``: more names that must be there; ``exact``: no other columns;
    ``ordered``: the table's columns are ``columns``, in that order."""

    kind: ClassVar[str] = "schema"
    types: ClassVar[dict[str, tuple[type, ...]]] = {
        "columns": (dict, list), "required": (list,), "exact": (bool,), "ordered": (bool,),
    }
    columns: Any = None
    required: Any = None
    exact: bool = False
    ordered: bool = False

    def check_arguments(self) -> None:
        if self.columns is None and self.required is None:
            raise InvalidArgument("check schema needs columns, required or both",
                                  "e.g. {check: schema, columns: {id: int, age: float}}")
        for name, kind in self._typed().items():
            if not isinstance(name, str) or not (kind is None or isinstance(kind, str)):
                raise InvalidArgument(
                    f"check schema: column {name!r}: {kind!r} is not a type name",
                    f"write a type such as {', '.join(TYPE_NAMES)} (or an Arrow name, int32)",
                )
        if self.ordered and not isinstance(self.columns, list | dict):
            raise InvalidArgument("check schema: ordered needs columns",
                                  "list the columns in their order")

    def _typed(self) -> dict[Any, Any]:
        listed = self.columns if isinstance(self.columns, dict) else dict.fromkeys(
            self.columns or [])
        return {**listed, **{name: listed.get(name) for name in self.required or []}}

    def prepare(self, source: TableSource) -> None:
        """A schema check runs on any table: a missing column is its finding, not an error."""

    def judge(self, got: dict[str, Any], rows: int, source: TableSource) -> Verdict:
        actual = {f.name: f.type for f in source.schema}
        wanted = self._typed()
        missing = [name for name in wanted if name not in actual]
        wrong = {name: str(actual[name]) for name, kind in wanted.items()
                 if kind is not None and name in actual and not type_matches(kind, actual[name])}
        unexpected = ([name for name in actual if name not in wanted]
                      if self.exact or self.ordered else [])
        order_ok = not self.ordered or list(actual) == list(self.columns)
        passed = not missing and not wrong and not unexpected and order_ok
        observed: dict[str, Any] = {"missing": missing, "wrong_types": wrong,
                                    "unexpected": unexpected}
        if not passed:
            observed["columns"] = {name: str(kind) for name, kind in actual.items()}
        problems = [
            f"missing {', '.join(missing)}" if missing else "",
            "wrong types: " + ", ".join(
                f"{n} is {t}, expected {wanted[n]}" for n, t in wrong.items()) if wrong else "",
            f"unexpected {', '.join(unexpected)}" if unexpected else "",
            "" if order_ok else f"columns in the order {', '.join(actual)}",
        ]
        detail = "; ".join(p for p in problems if p) or f"{len(wanted)} columns as expected"
        return Verdict(passed, observed, detail)


@dataclass(frozen=True)
class CustomSql(Check):
    """A DuckDB query over the table ``data``; the rows it returns are offending ones and
    the check passes when there are at most ``max_rows`` of them (default 0)."""

    kind: ClassVar[str] = "sql"
    needs: ClassVar[tuple[str, ...]] = ("query",)
    types: ClassVar[dict[str, tuple[type, ...]]] = {
        "query": (str,), "description": (str,), "max_rows": (int,),
    }
    query: str = ""
    description: str = ""
    max_rows: int = 0

    def title(self) -> str:
        return f"sql({self.description})" if self.description else "sql"

    def check_arguments(self) -> None:
        if not self.query.strip():
            raise InvalidArgument("check sql needs a query",
                                  "e.g. {check: sql, query: 'SELECT * FROM data WHERE a > b'}")

    def evaluate(self, source: TableSource, sample: int) -> tuple[Verdict, list[dict[str, Any]]]:
        body = self.query.strip().rstrip(";")
        try:
            count = source.fetch_arrow(f"SELECT count(*) AS n FROM ({body}) AS q")
        except InvalidArgument as exc:
            raise InvalidArgument(f"the query of check {self.title()} failed: {exc.message}",
                                  "write a DuckDB SELECT over the table named data") from exc
        found = int(count.column(0)[0].as_py())
        rows: list[dict[str, Any]] = []
        if found > self.max_rows and sample:
            rows = plain_rows(source.fetch_arrow(f"SELECT * FROM ({body}) AS q LIMIT {sample}"))
        return Verdict(found <= self.max_rows, {"rows": found},
                       f"the query returned {found} rows, allowed {self.max_rows}"), rows


def plain_rows(table: Any) -> list[dict[str, Any]]:
    """An Arrow table's rows as JSON-ready mappings."""
    return [{k: plain_value(v) for k, v in row.items()} for row in table.to_pylist()]
