"""The interoperability part of ``GannetClient``: another tool's history brought in.
Every method is one ``MlflowImportService`` call of the same name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.interop.service import MlflowImportService
    from gannet.interop.types import ImportReport, Progress


class InteropMethods:
    """Mixed into ``GannetClient``, which provides ``services`` and ``flush``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    def flush(self, *, wait_for_environment: bool = True) -> None:
        raise NotImplementedError

    @property
    def _interop(self) -> MlflowImportService:
        return self.services.interop

    def import_mlflow(
        self,
        tracking_uri: str,
        *,
        experiment_names: Sequence[str] | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Copy an MLflow store's experiments, runs, registered models, versions and aliases
        (only what is not here yet: a rerun copies what is new); ``dry_run`` only counts."""
        self.flush()
        return self._interop.import_mlflow(
            tracking_uri, experiment_names=experiment_names, dry_run=dry_run, progress=progress
        )
