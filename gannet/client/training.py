"""The continuous-training half of ``GannetClient``: policies and the controller's tick.
Every method is one ``TrainingService`` call of the same name, embedded or through a team
server (whose own controller advances the loops: ``tick`` is refused there, and a
policy's paths are the server's)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.training.service import TrainingService
    from gannet.training.types import Decision, PolicyStatus, TickReport


class TrainingMethods:
    """Mixed into ``GannetClient``, which provides ``services``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    @property
    def _training(self) -> TrainingService:
        return self.services.training

    def apply_policy(self, policy: str | os.PathLike[str]) -> PolicyStatus:
        """Apply a policy from a YAML file (its pipeline path is relative to the file's
        folder) or from YAML text (relative to the working directory)."""
        text = str(policy)
        if isinstance(policy, os.PathLike) or ("\n" not in text and Path(text).is_file()):
            path = Path(policy)
            return self._training.apply_policy(path.read_text(), folder=path.parent,
                                               where=str(path))
        return self._training.apply_policy(text)

    def get_policy_status(self, name: str) -> PolicyStatus:
        return self._training.get_policy_status(name)

    def list_policies(self) -> list[PolicyStatus]:
        return self._training.list_policies()

    def list_decisions(self, policy: str | None = None, limit: int = 100) -> list[Decision]:
        """The decisions, newest first."""
        return self._training.list_decisions(policy, limit)

    def delete_policy(self, name: str) -> None:
        """Delete a policy (its decisions stay in the history)."""
        self._training.delete_policy(name)

    def pause_policy(self, name: str) -> PolicyStatus:
        return self._training.pause_policy(name)

    def resume_policy(self, name: str) -> PolicyStatus:
        return self._training.resume_policy(name)

    def approve_policy(self, name: str, comment: str = "") -> Decision:
        return self._training.approve_policy(name, comment)

    def dry_run_policy(self, text: str, folder: str | None = None) -> dict[str, Any]:
        return self._training.dry_run_policy(text, folder=folder)

    def tick(self) -> TickReport:
        """Advance every active policy once (as a controller would, under its lease)."""
        return self._training.tick()
