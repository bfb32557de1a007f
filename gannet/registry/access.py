"""Who may read or change a registered model and its versions on a team server.

A registered model belongs to a project: reading it (its versions, aliases, card, gates)
needs the ``reader`` role there; registering versions, editing, moving aliases,
promoting, approving and archiving ``editor``; deleting a model or a version ``owner``
(``gannet.core.actor.require``). Someone who is no member is told the model does not
exist, in the very words used for one that does not. Embedded use and administrators
skip the lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gannet.core.actor import require, restricted
from gannet.core.errors import NotFound
from gannet.registry import project_repository

if TYPE_CHECKING:
    from gannet.store.metadata import MetadataStore


def model_not_found(name: str) -> NotFound:
    return NotFound(f"no registered model named {name!r}", "list them: gannet models list")


class ModelAccess:
    """The checks; needs ``metadata``. A model that does not exist passes (the use case
    then raises its own ``NotFound``)."""

    metadata: MetadataStore

    def _may_model(self, name: str, role: str, what: str) -> None:
        if restricted() is None:
            return
        with self.metadata.read() as conn:
            project = project_repository.model_project(conn, name)
        if project is not None:
            require(project, role, f"{what} model {name!r}", model_not_found(name))

    def count_in_project(self, project: str) -> int:
        """How many registered models ``project`` owns."""
        with self.metadata.read() as conn:
            return project_repository.count_models(conn, project)
