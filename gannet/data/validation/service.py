"""``ValidationService``: profile a table, validate it against a suite, keep the result.

A stored validation is one row (the dataset reference or path, the suite's digest, the
verdict, the report's JSON, when, and the run it was for). With a run, the run's tag
``gannet.validation`` is set to ``passed`` or ``failed``: the registry's
``data_validation`` promotion gate reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument
from gannet.core.settings import Settings
from gannet.data.validation import repository
from gannet.data.validation.report import ValidationReport
from gannet.data.validation.types import ValidationRecord
from gannet.features.sources import table_of
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from gannet.stats.profile import Profile
    from gannet.tracking.service import TrackingService

RUN_TAG = "gannet.validation"
MAX_RESULTS = 1000


class ValidationService:
    def __init__(
        self, metadata: MetadataStore, tracking: TrackingService, settings: Settings,
        read_feature_view: Callable[[str], Any] | None = None,
    ) -> None:
        self.metadata = metadata
        self.tracking = tracking
        self.settings = settings
        self.read_feature_view = read_feature_view  # feature_view:NAME -> its rows (Arrow)

    def profile_data(self, table_or_path: Any) -> Profile:
        """The profile of a table (Parquet file or folder, CSV, Arrow table, DataFrame, or
        ``feature_view:NAME``: a feature view's rows)."""
        from gannet.stats.profile import profile

        return profile(table_of(table_or_path, self.read_feature_view))

    def validate_data(
        self,
        table_or_path: Any,
        suite: Any,
        *,
        dataset: str | None = None,
        run_id: str | None = None,
        store: bool = True,
    ) -> ValidationReport:
        """Run ``suite`` over the table; keep the report (unless ``store`` is False) under
        ``dataset`` (default: the path) and, with ``run_id``, tag that run with the verdict."""
        from gannet.data.validation.engine import validate

        if run_id is not None:
            self.tracking.check_run_active(run_id)  # before the work, not after it
        table = table_of(table_or_path, self.read_feature_view)
        report = validate(table, suite, label=dataset or _label(table_or_path))
        if store:
            self._store(report, run_id)
        if run_id is not None:
            self._tag(report, run_id)
        return report

    def record_data_validation(self, report: ValidationReport, *, run_id: str | None = None) -> int:
        """Store a report computed elsewhere (by a remote client, next to its data) and tag
        ``run_id`` with its verdict; the stored validation's id."""
        if run_id is not None:
            self.tracking.check_run_active(run_id)
        validation_id = self._store(report, run_id)
        if run_id is not None:
            self._tag(report, run_id)
        return validation_id

    def _store(self, report: ValidationReport, run_id: str | None) -> int:
        with self.metadata.write() as conn:
            return repository.insert_validation(
                conn, dataset=report.source, suite_digest=report.suite_digest,
                passed=report.passed, report=orjson.dumps(report.to_dict()).decode(),
                created_time=now_ms(), run_id=run_id,
            )

    def _tag(self, report: ValidationReport, run_id: str) -> None:
        self.tracking.log_batch(run_id, tags={RUN_TAG: "passed" if report.passed else "failed"})

    def search_data_validations(
        self,
        *,
        dataset: str | None = None,
        run_id: str | None = None,
        max_results: int = 100,
    ) -> list[ValidationRecord]:
        """Stored validations, newest first, of one dataset or path and/or one run."""
        if not 1 <= max_results <= MAX_RESULTS:
            raise InvalidArgument(f"max_results must be 1..{MAX_RESULTS}, got {max_results}",
                                  "ask for fewer results")
        with self.metadata.read() as conn:
            rows = repository.validation_rows(conn, dataset=dataset, run_id=run_id,
                                              limit=max_results)
        return [
            ValidationRecord(
                id=int(r["validation_id"]), dataset=r["dataset"],
                suite_digest=r["suite_digest"], passed=bool(r["passed"]),
                report=ValidationReport.from_dict(orjson.loads(r["report"])),
                created_time=int(r["created_time"]), run_id=r["run_id"],
            )
            for r in rows
        ]


def _label(table_or_path: Any) -> str | None:
    return table_or_path if isinstance(table_or_path, str) else None
