"""``RemoteValidation``: ``ValidationService``'s calls against a team server.

Tables are profiled and validated here, next to the data (nothing of the table is sent);
the report goes to ``/api/v1/data/validations``, where the server stores it and tags the
run, under the caller's roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gannet.core.settings import Settings
from gannet.data.validation.report import ValidationReport
from gannet.data.validation.types import ValidationRecord
from gannet.features.sources import table_of
from gannet.remote.transport import Transport
from gannet.stats.profile import Profile

__all__ = ["RemoteValidation"]

BASE = "/api/v1/data/validations"


class RemoteValidation:
    def __init__(self, transport: Transport, settings: Settings,
                 read_feature_view: Callable[[str], Any] | None = None) -> None:
        self.transport = transport
        self.settings = settings
        self.read_feature_view = read_feature_view  # a view's rows come from the server

    def profile_data(self, table_or_path: Any) -> Profile:
        """A table's profile, computed here."""
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
        """Run ``suite`` here; the server stores the report and tags ``run_id``."""
        from gannet.data.validation.engine import validate

        table = table_of(table_or_path, self.read_feature_view)
        label = dataset or (table_or_path if isinstance(table_or_path, str) else None)
        report = validate(table, suite, label=label)
        if store or run_id is not None:
            self.record_data_validation(report, run_id=run_id)
        return report

    def record_data_validation(self, report: ValidationReport, *, run_id: str | None = None) -> int:
        """Store ``report`` on the server and tag ``run_id`` with its verdict."""
        done = self.transport.call("POST", BASE, json={"report": report.to_dict(),
                                                       "run_id": run_id})
        return int(done["id"])

    def search_data_validations(
        self,
        *,
        dataset: str | None = None,
        run_id: str | None = None,
        max_results: int = 100,
    ) -> list[ValidationRecord]:
        """Stored validations, newest first."""
        params = {k: v for k, v in (("dataset", dataset), ("run_id", run_id)) if v is not None}
        found = self.transport.call("GET", BASE, params={**params, "max_results": max_results})
        return [
            ValidationRecord(**{**r, "report": ValidationReport.from_dict(r["report"])})
            for r in found["validations"]
        ]
