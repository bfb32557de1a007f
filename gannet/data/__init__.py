"""data: profiles and validation of tables (dataset versions come with their own part).

- ``validation/``  suites of checks (YAML or Python), the engine that runs them in one
                   DuckDB pass, reports, stored results (``ValidationService``)
- ``profile(table_or_path)``   a table's profile (``gannet.stats.profile``)
- ``validate(table_or_path, suite)``   a ``ValidationReport`` (nothing stored)

Both take a Parquet file or folder, a CSV file, an Arrow table or a pandas or polars
DataFrame, and load their heavy libraries (pyarrow, DuckDB) on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.data.validation.report import ValidationReport
    from gannet.stats.profile import Profile

__all__ = ["profile", "validate"]


def profile(table_or_path: Any) -> Profile:
    """Schema, row count and per-column statistics of a table (see ``gannet.stats.profile``)."""
    from gannet.stats.profile import profile as compute

    return compute(table_or_path)


def validate(table_or_path: Any, suite: Any) -> ValidationReport:
    """Run ``suite`` (a path, YAML text, a list of check mappings or ``Check`` objects) over
    a table; the report says which checks failed and shows a few offending rows."""
    from gannet.data.validation.engine import validate as run

    return run(table_or_path, suite)
