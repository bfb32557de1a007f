"""``ValidationReport``: what a suite found in a table, check by check.

``to_dict()`` is the JSON stored with each validation and printed by ``--json``;
``from_dict`` reads it back. In a terminal or a notebook rich draws the report as a table
(``__rich__``): each check, pass or FAIL, its observed values, and a few offending rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = "gannet.validation/1"


@dataclass
class CheckResult:
    check: str  # the kind: not_null, between, ...
    title: str  # the kind and its column: between(age)
    passed: bool
    observed: dict[str, Any]
    detail: str
    spec: dict[str, Any]  # the check as the suite wrote it
    failing_rows: list[dict[str, Any]] = field(default_factory=list)  # a few, when it failed


@dataclass
class ValidationReport:
    source: str  # the path or dataset reference validated, or "<pandas.DataFrame>"
    rows: int
    suite_digest: str
    checks: list[CheckResult]
    duration_ms: int = 0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "passed": self.passed, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The report ``to_dict`` wrote; anything else is refused."""
        from gannet.core.errors import InvalidArgument

        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            return cls(
                source=str(data["source"]), rows=int(data["rows"]),
                suite_digest=str(data["suite_digest"]),
                checks=[CheckResult(**c) for c in data["checks"]],
                duration_ms=int(data.get("duration_ms", 0)),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(f"not a validation report ({exc})",
                                  "pass what ValidationReport.to_dict() wrote") from exc

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        return Group(checks_table(self), *failing_rows_tables(self), Text(self.summary(),
                     style="bold green" if self.passed else "bold red"))

    def summary(self) -> str:
        failed = len(self.failed)
        verdict = "passed" if self.passed else f"FAILED ({failed} of {len(self.checks)} checks)"
        return f"{self.source}: {len(self.checks)} checks on {self.rows} rows {verdict}"


def checks_table(report: ValidationReport) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    grid = Table(box=box.SIMPLE_HEAD, title_justify="left", title_style="bold",
                 title=f"Validation of {report.source}")
    grid.add_column("check", overflow="fold")
    grid.add_column("result", no_wrap=True)
    grid.add_column("observed", overflow="fold")
    for result in report.checks:
        grid.add_row(Text(result.title),
                     Text("pass", "green") if result.passed else Text("FAIL", "bold red"),
                     Text(result.detail))
    return grid


def failing_rows_tables(report: ValidationReport) -> list[Any]:
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    tables = []
    for result in report.failed:
        if not result.failing_rows:
            continue
        grid = Table(box=box.SIMPLE_HEAD)
        names = list(result.failing_rows[0])
        for name in names:
            grid.add_column(name, overflow="fold")
        for row in result.failing_rows:
            grid.add_row(*(Text("null" if row.get(n) is None else str(row.get(n)))
                           for n in names))
        title = f"Offending rows of {result.title} (first {len(result.failing_rows)}):"
        tables.append(Group(Text(title, style="red"), grid))
    return tables
