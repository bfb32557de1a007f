"""validation: suites of checks run over tables, their reports, and the stored results.

- ``checks``        column checks (not_null, unique, between, in_set, regex, row_count,
                    freshness): the SQL each contributes to one aggregate pass
- ``table_checks``  whole-table checks: schema, and custom SQL (``sql``) over ``data``
- ``suite``         ``Suite`` and ``load_suite`` (a path, YAML text, a list of checks)
- ``expectations``  Great Expectations suites (JSON) translated into checks
- ``engine``        ``validate``: one pass for every check, then a few offending rows
- ``report``        ``ValidationReport`` and ``CheckResult`` (JSON, rich rendering)
- ``types``         ``Verdict``, ``ValidationRecord``, how type names match Arrow types
- ``tables``, ``repository``, ``service``: stored results and ``ValidationService``

``gannet.data.validate(table_or_path, suite)`` runs a suite (nothing stored);
``ValidationService.validate_data`` also stores the report and tags a run.
"""

from gannet.data.validation.checks import Check, parse_check
from gannet.data.validation.engine import validate
from gannet.data.validation.report import CheckResult, ValidationReport
from gannet.data.validation.suite import Suite, load_suite

__all__ = [
    "Check",
    "CheckResult",
    "Suite",
    "ValidationReport",
    "load_suite",
    "parse_check",
    "validate",
]
