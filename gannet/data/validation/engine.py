"""Running a suite over a table in as few passes as DuckDB allows.

1. The schema is read (no data): every check is prepared (a column it names must exist).
2. ONE aggregate query computes what every column and row-count check needs.
3. For each check that failed, a few offending rows (``SAMPLE``) are fetched with a
   ``LIMIT`` query; custom SQL checks run their own query.
"""

from __future__ import annotations

import time
from typing import Any

from gannet.data.validation.checks import Check
from gannet.data.validation.report import CheckResult, ValidationReport
from gannet.data.validation.suite import Suite, load_suite
from gannet.data.validation.table_checks import CustomSql, plain_rows
from gannet.data.validation.types import Verdict
from gannet.stats.table_repository import VIEW, TableSource, open_table

SAMPLE = 5  # offending rows kept per failed check


def validate(table_or_path: Any, suite: Any, *, label: str | None = None) -> ValidationReport:
    """Run ``suite`` (a path, YAML text, a list of checks, a ``Suite``) over a table (a
    Parquet file or folder, a CSV file, an Arrow table, a pandas or polars DataFrame)."""
    loaded = load_suite(suite)
    with open_table(table_or_path) as source:
        if label:
            source.label = label
        return run_suite(source, loaded)


def run_suite(source: TableSource, suite: Suite) -> ValidationReport:
    started = time.perf_counter()
    for check in suite.checks:
        check.prepare(source)
    exprs = ["count(*) AS __rows"]
    for i, check in enumerate(suite.checks):
        exprs += [f"{sql} AS k{i}__{key}" for key, sql in check.aggregates(source).items()]
    first = source.fetch_arrow(f"SELECT {', '.join(exprs)} FROM {VIEW}")
    values = {name: first.column(name)[0].as_py() for name in first.column_names}
    rows = int(values["__rows"])
    results = [_result(source, i, check, values, rows) for i, check in enumerate(suite.checks)]
    return ValidationReport(
        source=source.label, rows=rows, suite_digest=suite.digest, checks=results,
        duration_ms=round((time.perf_counter() - started) * 1000),
    )


def _result(
    source: TableSource, i: int, check: Check, values: dict[str, Any], rows: int
) -> CheckResult:
    failing: list[dict[str, Any]] = []
    if isinstance(check, CustomSql):
        verdict, failing = check.evaluate(source, SAMPLE)
    else:
        prefix = f"k{i}__"
        got = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
        verdict = check.judge(got, rows, source)
        failing = _offending_rows(source, check, verdict)
    return CheckResult(
        check=check.kind, title=check.title(), passed=verdict.passed,
        observed=verdict.observed, detail=verdict.detail, spec=check.to_dict(),
        failing_rows=failing,
    )


def _offending_rows(source: TableSource, check: Check, verdict: Verdict) -> list[dict[str, Any]]:
    if verdict.passed:
        return []
    predicate = check.offending(source)
    if predicate is None:
        return []
    return plain_rows(source.fetch_arrow(f"SELECT * FROM {VIEW} WHERE {predicate} LIMIT {SAMPLE}"))
