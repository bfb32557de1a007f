"""Logged models (MLflow 3's): a model logged in an experiment before any registration.

An MLflow 3 client's ``log_model`` creates one (``PENDING``), uploads the MLflow model
folder to it, and finalizes it (``READY``, or ``FAILED`` when the upload failed);
registering it makes a Gannet model version of that folder. Its files live in the blob
store like a run's artifacts, indexed per model, and garbage collection keeps them while
the model exists. ``TrackingService`` inherits these use cases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.actor import EDITOR, READER, current_actor, require, restricted
from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.ids import new_id
from gannet.tracking import logged_model_repository as repository
from gannet.tracking import project_repository, validation
from gannet.tracking.artifacts import NEVER_COMPLETED, listing
from gannet.tracking.filter_match import Fields, select
from gannet.tracking.filter_parser import parse_filter, parse_order_by
from gannet.tracking.grammars import LOGGED_MODELS
from gannet.tracking.names import run_name
from gannet.tracking.tables import logged_model_params, logged_model_tags
from gannet.tracking.types import FileInfo, LoggedModel, LoggedModelStatus, Run

if TYPE_CHECKING:
    import sqlalchemy as sa

    from gannet.core.settings import Settings
    from gannet.store.blobs import BlobRef, BlobStore
    from gannet.store.gc import BlobLeases
    from gannet.store.metadata import MetadataStore

MODEL_ID_PREFIX = "m-"  # as MLflow's: a client tells "models:/m-..." from "models:/name/3"


class LoggedModelUseCases:
    """Logged models; needs ``metadata``, ``blobs``, ``leases``, ``settings`` and the
    experiment and run checks."""

    metadata: MetadataStore
    blobs: BlobStore
    leases: BlobLeases
    settings: Settings

    def get_run(self, run_id: str) -> Run:
        raise NotImplementedError

    def _store_stream(self, stream: BinaryIO, *, check: Callable[[], None],
                     index: Callable[[sa.Connection, BlobRef], None]) -> BlobRef:
        raise NotImplementedError

    @staticmethod
    def _require_active_experiment(conn: sa.Connection, experiment_id: str) -> None:
        raise NotImplementedError

    @staticmethod
    def clean_tags(values: Mapping[str, object] | None) -> dict[str, str]:
        raise NotImplementedError

    @staticmethod
    def clean_params(values: Mapping[str, object] | None) -> dict[str, str]:
        raise NotImplementedError

    def _may_experiments(self, experiment_ids: Collection[str], role: str, what: str) -> None:
        raise NotImplementedError

    def _visible_experiments(self, experiment_ids: list[str]) -> list[str]:
        raise NotImplementedError

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """A new ``PENDING`` logged model in the (active) experiment, of the run
        ``source_run_id`` when given (which must exist)."""
        name = validation.check_run_name(name) if name else run_name()
        tag_values, param_values = self.clean_tags(tags), self.clean_params(params)
        self._may_experiments([str(experiment_id)], EDITOR, "log a model to")
        if source_run_id:
            self.get_run(source_run_id)
        now = now_ms()
        actor = current_actor()
        model_id = MODEL_ID_PREFIX + new_id()
        row = {
            "model_id": model_id, "experiment_id": str(experiment_id), "name": name,
            "source_run_id": source_run_id or None,
            "model_type": validation.check_text(model_type, "model type") if model_type
            else None,
            "status": LoggedModelStatus.PENDING.value, "status_message": None,
            "user_id": actor.user if actor is not None else self.settings.user,
            "creation_time": now, "last_update_time": now,
        }
        with self.metadata.write() as conn:
            self._require_active_experiment(conn, str(experiment_id))
            repository.insert_model(conn, row)
            repository.set_values(conn, logged_model_tags, model_id, tag_values)
            repository.set_values(conn, logged_model_params, model_id, param_values)
        return self.get_logged_model(model_id)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        self._may_logged_model(model_id, READER, "read")
        with self.metadata.read() as conn:
            found = repository.models(conn, model_id=str(model_id))
        if not found:
            raise logged_model_not_found(model_id)
        return found[0]

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str, message: str | None = None
    ) -> LoggedModel:
        """Mark the model's upload as done (``READY``) or failed (``FAILED``)."""
        try:
            final = LoggedModelStatus(str(status).upper())
        except ValueError:
            final = None
        if final not in (LoggedModelStatus.READY, LoggedModelStatus.FAILED):
            raise InvalidArgument(f"a logged model is finalized as READY or FAILED, not "
                                  f"{status!r}", "pass READY once its files are uploaded")
        self._may_logged_model(model_id, EDITOR, "finalize")
        self._update(model_id, status=final.value, status_message=message)
        return self.get_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[LoggedModel]:
        """The experiments' logged models, newest first. ``filter_string`` and ``order_by``:
        attributes ``name``, ``model_id``, ``source_run_id``, ``model_type``, ``status``,
        ``creation_time``, ``last_update_time``; ``tags.<key>``, ``params.<key>``."""
        comparisons = parse_filter(filter_string, grammar=LOGGED_MODELS)
        order = parse_order_by(order_by, grammar=LOGGED_MODELS)
        run_ids = {str(c.value) for c in comparisons
                   if (c.entity, c.key, c.op) == ("attribute", "source_run_id", "=")}
        visible = self._visible_experiments([str(e) for e in experiment_ids])
        with self.metadata.read() as conn:
            found = repository.models(conn, experiment_ids=visible,
                                      source_run_id=next(iter(run_ids)) if run_ids else None)
        return select(found, comparisons, order, _fields)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        values = self.clean_tags(tags)
        self._may_logged_model(model_id, EDITOR, "tag")
        with self.metadata.write() as conn:
            self._touch(conn, model_id)
            repository.set_values(conn, logged_model_tags, model_id, values)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._may_logged_model(model_id, EDITOR, "untag")
        with self.metadata.write() as conn:
            self._touch(conn, model_id)
            if not repository.delete_tag(conn, model_id, key):
                raise NotFound(f"logged model {model_id} has no tag {key!r}")

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        values = self.clean_params(params)
        self._may_logged_model(model_id, EDITOR, "log params to")
        with self.metadata.write() as conn:
            self._touch(conn, model_id)
            repository.set_values(conn, logged_model_params, model_id, values)

    def delete_logged_model(self, model_id: str) -> None:
        """Remove the model and its files' index (the bytes wait for ``gannet gc``); model
        versions registered from it keep their own copy."""
        self._may_logged_model(model_id, EDITOR, "delete")
        self.get_logged_model(model_id)
        with self.metadata.write() as conn:
            repository.delete_model(conn, model_id)

    # -- files --------------------------------------------------------------------------

    def log_logged_model_stream(
        self, model_id: str, stream: BinaryIO, artifact_file: str
    ) -> FileInfo:
        """Store what ``stream`` holds (read in chunks) as the model's file ``artifact_file``."""
        path = validation.artifact_path(artifact_file)
        if not path:
            raise InvalidArgument("a logged model's file needs a path", "e.g. 'MLmodel'")
        self._may_logged_model(model_id, EDITOR, "upload files to")

        def index(conn: sa.Connection, ref: BlobRef) -> None:
            self._touch(conn, model_id)
            repository.index_files(conn, model_id, [(path, ref.digest, ref.size)])

        def check() -> None:
            self.get_logged_model(model_id)

        ref = self._store_stream(stream, check=check, index=index)
        return FileInfo(path, False, ref.size, ref.digest)

    def logged_model_files(self, model_id: str, prefix: str = "") -> list[tuple[str, str, int]]:
        """(path, digest, size) of the model's files at or below ``prefix``."""
        clean = validation.artifact_path(prefix)
        self.get_logged_model(model_id)
        with self.metadata.read() as conn:
            return repository.file_rows(conn, model_id, clean)

    def list_logged_model_artifacts(self, model_id: str, path: str | None = None
                                    ) -> list[FileInfo]:
        """The files and folders directly under ``path`` of the model's files."""
        clean = validation.artifact_path(path)
        return listing(self.logged_model_files(model_id, clean), clean)

    def download_logged_model(self, model_id: str, dst_path: str | os.PathLike) -> Path:
        """Copy every file of the model into the folder ``dst_path``; returns it."""
        rows = self.logged_model_files(model_id)
        if not rows:
            raise NotFound(f"logged model {model_id} has no files{NEVER_COMPLETED}",
                           "log the model's files (log_model uploads them) before using it")
        dest = Path(dst_path)
        dest.mkdir(parents=True, exist_ok=True)
        self.blobs.get_files([(digest, dest / p) for p, digest, _ in rows], within=dest)
        return dest

    def open_logged_model_artifact(self, model_id: str, path: str) -> tuple[BinaryIO, int]:
        clean = validation.artifact_path(path)
        rows = self.logged_model_files(model_id, clean)
        if len(rows) != 1 or rows[0][0] != clean:
            raise NotFound(f"logged model {model_id} has no file {path!r}{NEVER_COMPLETED}")
        return self.blobs.open_blob(rows[0][1]), rows[0][2]

    def delete_logged_model_artifacts(self, model_id: str, path: str) -> int:
        clean = validation.artifact_path(path)
        self._may_logged_model(model_id, EDITOR, "delete files of")
        with self.metadata.write() as conn:
            self._touch(conn, model_id)
            return repository.delete_files(conn, model_id, clean)

    # -- helpers --------------------------------------------------------------------------

    def _may_logged_model(self, model_id: str, role: str, what: str) -> None:
        """The caller's ``role`` in the project of the model's experiment (embedded use and
        administrators: nothing to look up). A model of a project the caller is no member
        of does not exist for them."""
        if restricted() is None:
            return
        with self.metadata.read() as conn:
            experiment_id = repository.experiment_of(conn, model_id)
            projects = project_repository.experiment_projects(
                conn, [experiment_id] if experiment_id else [])
        for project in projects.values():
            require(project, role, f"{what} logged model {model_id}",
                    logged_model_not_found(model_id))

    def _update(self, model_id: str, **values: object) -> None:
        with self.metadata.write() as conn:
            if not repository.update_model(conn, model_id, last_update_time=now_ms(), **values):
                raise logged_model_not_found(model_id)

    @staticmethod
    def _touch(conn: sa.Connection, model_id: str) -> None:
        """The model changes now (refused, NotFound, when there is no such model)."""
        if not repository.update_model(conn, model_id, last_update_time=now_ms()):
            raise logged_model_not_found(model_id)


def logged_model_not_found(model_id: str) -> NotFound:
    return NotFound(f"no logged model with id {model_id!r}",
                    "a logged model's id is what log_model returned (m-...)")


def _fields(model: LoggedModel) -> Fields:
    return Fields(
        {
            "model_id": model.model_id, "name": model.name,
            "source_run_id": model.source_run_id, "model_type": model.model_type,
            "status": model.status.value, "creation_time": model.creation_time,
            "last_update_time": model.last_update_time,
        },
        tags=model.tags,
        params=model.params,
    )
