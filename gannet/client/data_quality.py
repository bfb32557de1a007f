"""The data-quality part of ``GannetClient``: profiles and validation of tables.
Every method is one ``ValidationService`` call of the same name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.data.validation.report import ValidationReport
    from gannet.data.validation.service import ValidationService
    from gannet.data.validation.types import ValidationRecord
    from gannet.stats.profile import Profile


class DataQualityMethods:
    """Mixed into ``GannetClient``, which provides ``services``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    @property
    def _validation(self) -> ValidationService:
        return self.services.validation

    def profile_data(self, table_or_path: Any) -> Profile:
        """A table's profile (Parquet file or folder, CSV, Arrow table, DataFrame)."""
        return self._validation.profile_data(table_or_path)

    def validate_data(
        self,
        table_or_path: Any,
        suite: Any,
        *,
        dataset: str | None = None,
        run_id: str | None = None,
        store: bool = True,
    ) -> ValidationReport:
        """Run ``suite`` over the table, store the report, tag ``run_id`` with the verdict."""
        return self._validation.validate_data(
            table_or_path, suite, dataset=dataset, run_id=run_id, store=store
        )

    def search_data_validations(
        self, *, dataset: str | None = None, run_id: str | None = None, max_results: int = 100
    ) -> list[ValidationRecord]:
        """Stored validations, newest first."""
        return self._validation.search_data_validations(
            dataset=dataset, run_id=run_id, max_results=max_results
        )
