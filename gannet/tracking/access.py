"""Who may read or change an experiment and its runs on a team server.

An experiment belongs to a project; a run to its experiment's. Reading needs the
``reader`` role there, changing ``editor`` (``gannet.core.actor.require``). A caller who
is no member of the project is told the experiment or run does not exist, in the very
words used for one that does not. Embedded use and administrators skip the lookup of
the project entirely, so they pay nothing for these checks.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from gannet.core.actor import require, restricted, visible_projects
from gannet.core.errors import NotFound
from gannet.tracking import project_repository

if TYPE_CHECKING:
    from gannet.store.metadata import MetadataStore


def experiment_not_found(experiment_id: str) -> NotFound:
    return NotFound(
        f"no experiment with id {experiment_id!r}",
        "list experiments with `gannet experiments list`",
    )


def run_not_found(run_id: str) -> NotFound:
    return NotFound(f"no run with id {run_id!r}", "find run ids with `gannet runs list`")


class ProjectAccess:
    """The checks; needs ``metadata``. A thing that does not exist passes (the use case
    then raises its own ``NotFound``)."""

    metadata: MetadataStore

    def _may_experiments(self, experiment_ids: Collection[str], role: str, what: str) -> None:
        if restricted() is None:
            return
        with self.metadata.read() as conn:
            projects = project_repository.experiment_projects(conn, experiment_ids)
        for experiment_id, project in sorted(projects.items()):
            require(project, role, f"{what} experiment {experiment_id}",
                    experiment_not_found(experiment_id))

    def _may_runs(self, run_ids: Collection[str], role: str, what: str) -> None:
        if restricted() is None:
            return
        with self.metadata.read() as conn:
            projects = project_repository.run_projects(conn, run_ids)
        for run_id, project in sorted(projects.items()):
            require(project, role, f"{what} run {run_id}", run_not_found(run_id))

    def _visible_experiments(self, experiment_ids: list[str]) -> list[str]:
        """``experiment_ids`` less those the caller may not see (a search over them finds
        nothing, as over ids that do not exist)."""
        visible = visible_projects()
        if visible is None:
            return experiment_ids
        with self.metadata.read() as conn:
            projects = project_repository.experiment_projects(conn, experiment_ids)
        return [i for i in experiment_ids if projects.get(i, "") in visible]

    def count_in_project(self, project: str) -> int:
        """How many experiments ``project`` owns (a project is deleted only when empty)."""
        with self.metadata.read() as conn:
            return project_repository.count_experiments(conn, project)
