"""What an import did, as plain values the faces print (a table, or ``--json``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# progress(done, total): called as runs and model versions are copied
Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """Counts of what was copied (or, with ``dry_run``, would be) and what was already here.

    ``skipped`` names what cannot be imported and why (a model flavor Gannet does not
    import, a version MLflow has not finished registering); the rest of the import goes on.
    """

    source: str
    dry_run: bool = False
    experiments_created: int = 0
    runs_copied: int = 0
    runs_existing: int = 0
    runs_recopied: int = 0  # left half-copied by an import that stopped, copied again
    metric_points: int = 0
    params: int = 0
    tags: int = 0
    artifact_files: int = 0
    registered_models_created: int = 0
    versions_copied: int = 0
    versions_existing: int = 0
    aliases_set: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def copied_anything(self) -> bool:
        return bool(self.experiments_created or self.runs_copied or self.versions_copied
                    or self.registered_models_created or self.aliases_set)
