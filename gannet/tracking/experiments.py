"""Experiment use cases: create (atomic, so concurrent creators agree), read, rename, delete
and restore experiments, their tags, and the Default experiment every store has.

``TrackingService`` inherits them (as it does the artifact use cases).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gannet.core.actor import (
    DEFAULT_PROJECT,
    EDITOR,
    READER,
    choose_project,
    require,
    restricted,
    visible_projects,
)
from gannet.core.clock import now_ms
from gannet.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from gannet.core.ids import new_id
from gannet.tracking import repository, validation
from gannet.tracking.access import ProjectAccess, experiment_not_found
from gannet.tracking.types import Experiment, Lifecycle, ViewType

if TYPE_CHECKING:
    import sqlalchemy as sa

    from gannet.core.settings import Settings
    from gannet.store.metadata import MetadataStore

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class ExperimentUseCases(ProjectAccess):
    """Experiments over the metadata store; needs ``metadata``, ``settings`` and
    ``_default_checked``."""

    metadata: MetadataStore
    settings: Settings
    _default_checked: bool

    def create_experiment(
        self, name: str, tags: Mapping[str, str] | None = None, *,
        experiment_id: str | None = None, project: str | None = None,
    ) -> str:
        """A new experiment in ``project`` (else the ``project`` setting, else
        ``default``; needs the editor role there); ``AlreadyExists`` when the name (or
        id) is taken, also by a process creating it at the same moment (the insert is
        atomic)."""
        name = validation.check_experiment_name(name)
        owner = choose_project(project, self.settings.project)
        require(owner, EDITOR, f"create an experiment in project {owner!r}",
                NotFound(f"no project named {owner!r}", "list yours: gannet projects list"))
        return self._insert_experiment(name, tags, experiment_id or new_id(), owner)

    def _insert_experiment(self, name: str, tags: Mapping[str, str] | None, eid: str,
                           project: str) -> str:
        tag_values = self.clean_tags(tags)

        def insert(conn: sa.Connection) -> None:
            if not repository.insert_experiment(conn, eid, name, now_ms(), project):
                raise _experiment_exists(name, repository.experiment_by_name(conn, name), eid)
            repository.set_experiment_tags(conn, eid, tag_values)

        self.metadata.transaction(insert)
        return eid

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._experiment(experiment_id, READER, "read")

    def _experiment(self, experiment_id: str, role: str, what: str) -> Experiment:
        """The experiment, when the caller may ``what`` it with ``role``."""
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            self.ensure_default_experiment()
        with self.metadata.read() as conn:
            found = repository.experiment_rows(conn, experiment_id=str(experiment_id))
        if not found:
            raise experiment_not_found(experiment_id)
        require(found[0].project, role, f"{what} experiment {experiment_id}",
                experiment_not_found(experiment_id))
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment called ``name``, None when there is none (text no store can hold
        is refused, as ``create_experiment`` refuses it, on every backend)."""
        if name == DEFAULT_EXPERIMENT_NAME:
            self.ensure_default_experiment()
        validation.check_text(str(name), f"experiment name {name!r}")
        with self.metadata.read() as conn:
            found = repository.experiment_rows(conn, name=name, projects=visible_projects())
        return found[0] if found else None

    def search_experiments(self, view: ViewType = ViewType.ACTIVE) -> list[Experiment]:
        """The experiments the caller may see (all, embedded)."""
        self.ensure_default_experiment()
        lifecycle = None if view == ViewType.ALL else str(view)
        with self.metadata.read() as conn:
            return repository.experiment_rows(
                conn, lifecycle=lifecycle, projects=visible_projects())

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        new_name = validation.check_experiment_name(new_name)
        self._experiment(experiment_id, EDITOR, "rename")
        with self.metadata.write() as conn:
            clash = repository.experiment_by_name(conn, new_name)
            if clash is not None and clash[0] != experiment_id:
                raise AlreadyExists(
                    f"cannot rename: experiment {new_name!r} already exists (id {clash[0]})",
                    "choose another name",
                )
            repository.update_experiment(
                conn, experiment_id, name=new_name, last_update_time=now_ms()
            )

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: its runs stay, hidden from listings, until restored."""
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            raise InvalidArgument(
                "the Default experiment (id 0) cannot be deleted",
                "delete its runs instead, or put new runs in another experiment",
            )
        self._set_experiment_lifecycle(experiment_id, Lifecycle.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_lifecycle(experiment_id, Lifecycle.ACTIVE)

    def _set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> None:
        self._experiment(experiment_id, EDITOR,
                         "delete" if stage == Lifecycle.DELETED else "restore")
        with self.metadata.write() as conn:
            repository.update_experiment(
                conn, experiment_id, lifecycle_stage=str(stage), last_update_time=now_ms()
            )

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._experiment(experiment_id, EDITOR, "tag")
        with self.metadata.write() as conn:
            repository.set_experiment_tags(conn, experiment_id, self.clean_tags({key: value}))

    def ensure_default_experiment(self) -> None:
        """Experiment "0", "Default", exists in every store (as MLflow clients expect)."""
        if self._default_checked:
            return
        with self.metadata.read() as conn:
            present = repository.experiment_state(conn, DEFAULT_EXPERIMENT_ID)
        if present is None:
            try:  # whoever asks first makes it (it is no one's to create)
                self._insert_experiment(DEFAULT_EXPERIMENT_NAME, None, DEFAULT_EXPERIMENT_ID,
                                        DEFAULT_PROJECT)
            except AlreadyExists:
                pass  # another process made it first
        self._default_checked = True

    @staticmethod
    def _require_active_experiment(conn: sa.Connection, experiment_id: str) -> None:
        found = repository.experiment_state(conn, experiment_id)
        if found is None:
            raise NotFound(
                f"no experiment with id {experiment_id!r}",
                "list experiments with `gannet experiments list`",
            )
        if found[1] != Lifecycle.ACTIVE:
            raise InvalidState(
                f"experiment {found[0]!r} is deleted",
                f"restore it (`gannet experiments restore {experiment_id}`) or use another",
            )

    @staticmethod
    def clean_tags(values: Mapping[str, object] | None) -> dict[str, str]:
        return {
            validation.check_key(k, "tag"): validation.tag_text(k, v)
            for k, v in (values or {}).items()
        }


def _experiment_exists(name: str, holder: tuple[str, str] | None, eid: str) -> AlreadyExists:
    """The error for an experiment that could not be inserted: its name is ``holder``'s
    (id, lifecycle stage), or (``holder`` None) its id ``eid`` is taken."""
    if holder is None:
        return AlreadyExists(
            f"an experiment with id {eid} already exists", "let Gannet choose the id"
        )
    if restricted() is not None:  # it may be another project's: tell no more than the name
        return AlreadyExists(f"the experiment name {name!r} is taken", "choose another name")
    state = " (deleted)" if holder[1] == Lifecycle.DELETED else ""
    return AlreadyExists(
        f"experiment {name!r} already exists{state} with id {holder[0]}",
        "use it with set_experiment, restore it, or choose another name",
    )
