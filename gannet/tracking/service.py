"""Tracking use cases: experiments, runs, params, metrics, tags, artifacts, search.

``TrackingService`` is the one place these behaviours and their validation live; the
SDK, CLI and REST server are thin faces over it.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from gannet.core.actor import EDITOR, READER, current_actor
from gannet.core.clock import now_ms
from gannet.core.digests import digest_bytes
from gannet.core.errors import AlreadyExists, InvalidArgument, InvalidState, NotFound
from gannet.core.ids import is_id, new_id
from gannet.core.pagination import decode_token, encode_token, query_fingerprint
from gannet.core.settings import Settings
from gannet.store.blobs import BlobStore
from gannet.store.gc import BlobLeases
from gannet.store.metadata import MetadataStore
from gannet.tracking import (
    artifact_repository,
    batch_repository,
    batches,
    query,
    repository,
    validation,
)
from gannet.tracking.artifacts import ArtifactUseCases
from gannet.tracking.environment import Environment
from gannet.tracking.experiments import (
    DEFAULT_EXPERIMENT_ID,
    DEFAULT_EXPERIMENT_NAME,
    ExperimentUseCases,
)
from gannet.tracking.logged_models import LoggedModelUseCases
from gannet.tracking.names import run_name as make_run_name
from gannet.tracking.types import (
    Lifecycle,
    Metric,
    Page,
    Pending,
    Point,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
    WriteReport,
)
from gannet.tracking.validation import valid_keys as _valid_keys

__all__ = ["DEFAULT_EXPERIMENT_ID", "DEFAULT_EXPERIMENT_NAME", "TrackingService"]

MAX_SEARCH_RESULTS = 50_000


class TrackingService(ExperimentUseCases, ArtifactUseCases, LoggedModelUseCases):
    """Experiments and runs over a metadata store (rows) and a blob store (artifact bytes);
    experiments come from ``ExperimentUseCases``, artifacts and their garbage collection
    from ``ArtifactUseCases``, MLflow 3's logged models from ``LoggedModelUseCases``."""

    def __init__(self, metadata: MetadataStore, blobs: BlobStore, settings: Settings) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.settings = settings
        self.leases = BlobLeases(metadata)
        self._default_checked = False
        self._environment_refs: dict[tuple[str, int], list[tuple[str, str, int]]] = {}

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
        source_name: str = "",
        source_type: str = "LOCAL",
        git_commit: str | None = None,
        environment: Environment | None = None,
        run_id: str | None = None,
    ) -> Run:
        """A new RUNNING run; ``environment`` adds its tags and files in the same transaction.
        ``run_id``: chosen by a client that may send it again (a second create raises)."""
        if experiment_id == DEFAULT_EXPERIMENT_ID:
            self.ensure_default_experiment()
        self._may_experiments([str(experiment_id)], EDITOR, "start a run in")
        tag_values = self.clean_tags(tags)
        files: list[tuple[str, str, int]] = []
        if environment is not None:
            tag_values.update(environment.tags())
            git_commit = git_commit or (environment.git.commit if environment.git else None)
        run_id = _chosen_run_id(run_id) if run_id is not None else new_id()
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(experiment_id),
            run_name=validation.check_run_name(run_name) if run_name else make_run_name(),
            status=RunStatus.RUNNING,
            start_time=validation.check_timestamp(start_time, "run start")
            if start_time
            else now_ms(),
            end_time=None,
            parent_run_id=parent_run_id,
            user_id=_acting_user() or user_id or self.settings.user,
            source_name=source_name,
            source_type=source_type,
            git_commit=git_commit,
            lifecycle_stage=Lifecycle.ACTIVE,
            artifact_uri=f"gannet:/runs/{run_id}/artifacts",
        )
        values = {**dataclasses.asdict(info), "deleted_time": None}
        values["name"] = values.pop("run_name")
        with self.metadata.write() as conn:
            if environment is not None:
                files = self._environment_files(conn, environment)
            self._require_active_experiment(conn, str(experiment_id))
            if parent_run_id is not None:
                self._require_active(conn, parent_run_id)
            if repository.run_stage(conn, run_id) is not None:
                raise AlreadyExists(f"a run with id {run_id} already exists",
                                    "let Gannet choose the id (a retried create finds its run)")
            repository.insert_run(conn, values)
            repository.set_tags(conn, [(run_id, k, v) for k, v in tag_values.items()])
            artifact_repository.index_artifacts(conn, run_id, files)
        return Run(info, RunData(tags=tag_values))

    def _environment_files(
        self, conn: sa.Connection, environment: Environment
    ) -> list[tuple[str, str, int]]:
        """Store the environment's files once per process (every run of a process has the
        same packages and, usually, the same diff), inside the write transaction that
        references them: it keeps garbage collection out until it commits (the files are
        small), and a cached blob that a collection removed since is stored again."""
        if digest_bytes(environment.packages.encode()) != environment.packages_digest:
            raise InvalidArgument(  # only an environment made elsewhere can be inconsistent
                "the environment's packages_digest is not the digest of its packages",
                "send the environment as gannet.tracking.environment.capture() made it",
            )
        self.leases.guard(conn)
        key = (environment.packages_digest, hash(environment.git.diff) if environment.git else 0)
        cached = self._environment_refs.get(key)
        if cached is None or not all(self.blobs.exists(digest) for _, digest, _ in cached):
            cached = self._environment_refs[key] = [
                (path, ref.digest, ref.size)
                for path, ref in (
                    (path, self.blobs.put_bytes(data)) for path, data in environment.files().items()
                )
            ]
        return cached

    def get_run(self, run_id: str) -> Run:
        self._may_runs([str(run_id)], READER, "read")
        with self.metadata.read() as conn:
            found = repository.load_runs(conn, [str(run_id)])
        if not found:
            raise NotFound(f"no run with id {run_id!r}", "find run ids with `gannet runs list`")
        return found[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> None:
        """Change a run's status (a terminal one sets its end time), end time or name."""
        self._may_runs([str(run_id)], EDITOR, "update")
        values: dict[str, object] = {}
        if status is not None:
            try:
                status = RunStatus(str(status).upper())
            except ValueError:
                raise InvalidArgument(
                    f"unknown run status {status!r}",
                    f"use one of {', '.join(s.value for s in RunStatus)}",
                ) from None
            values["status"] = status
            values["end_time"] = (end_time or now_ms()) if status.is_terminal else None
        elif end_time is not None:
            values["end_time"] = end_time
        if values.get("end_time") is not None:
            values["end_time"] = validation.check_timestamp(values["end_time"], "run end")
        if run_name:
            values["name"] = validation.check_run_name(run_name)
        if values:
            with self.metadata.write() as conn:
                if not repository.update_run(conn, run_id, **values):
                    raise NotFound(
                        f"no run with id {run_id!r}", "find run ids with `gannet runs list`"
                    )
        else:
            self.get_run(run_id)  # nothing to change, but an unknown run is still refused

    def delete_run(self, run_id: str) -> None:
        """Soft delete: hidden from searches, nothing can be logged to it, restorable until
        ``gannet gc`` removes it for good (``older_than`` after the deletion)."""
        self._may_runs([str(run_id)], EDITOR, "delete")
        self.get_run(run_id)
        with self.metadata.write() as conn:
            repository.update_run(
                conn, run_id, lifecycle_stage=Lifecycle.DELETED, deleted_time=now_ms()
            )

    def restore_run(self, run_id: str) -> None:
        self._may_runs([str(run_id)], EDITOR, "restore")
        self.get_run(run_id)
        with self.metadata.write() as conn:
            repository.update_run(conn, run_id, lifecycle_stage=Lifecycle.ACTIVE, deleted_time=None)

    # -- params, tags, metrics -----------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, object] | None = None,
        tags: Mapping[str, object] | None = None,
        skip_logged_points: bool = False,
        batch_id: str | None = None,
    ) -> None:
        """Params, tags and metrics of one run, all stored or (on any error) none.

        ``skip_logged_points``: a metric point equal to one the run holds (key, value, time
        and step) is not stored again: MLflow's clients log a run's points once more to
        link them to a model, and MLflow's own store keeps such a point once.
        ``batch_id`` (a remote client's): a batch of that id stored before is not stored
        again (a retry whose first answer was lost)."""
        if batch_id is not None:
            batch_id = batches.check_batch_id(batch_id)
        if skip_logged_points and metrics:
            self._may_runs([run_id], EDITOR, "log to")  # before reading what it holds
            metrics = self._not_logged(run_id, metrics)
        pending = Pending(
            points=[self.point(run_id, m.key, m.value, m.timestamp, m.step) for m in metrics],
            params=[(run_id, k, v) for k, v in self.clean_params(params).items()],
            tags=[(run_id, k, v) for k, v in self.clean_tags(tags).items()],
        )
        self._may_runs([run_id], EDITOR, "log to")
        with self.metadata.write() as conn:
            self._require_active(conn, run_id)
            if batch_id is not None and self._seen(conn, batch_id) is not None:
                return
            conflicts = self._write(conn, pending)
            if conflicts:
                raise validation.params_are_immutable(conflicts, "batch")

    def _not_logged(self, run_id: str, metrics: Sequence[Metric]) -> list[Metric]:
        with self.metadata.read() as conn:
            held = {
                (m.key, "nan" if m.value != m.value else m.value, m.timestamp, m.step)
                for key in {m.key for m in metrics}
                for m in repository.metric_history(conn, run_id, key)
            }
        return [m for m in metrics if (m.key, "nan" if m.value != m.value else m.value,
                                       m.timestamp, m.step) not in held]

    def new_params(
        self, run_id: str, known: Mapping[str, str], params: Mapping[str, object] | None
    ) -> dict[str, str]:
        """The cleaned ``params`` that ``known`` (what the run holds) lacks; a new value for
        a known key is refused (the SDK checks this before buffering)."""
        values = self.clean_params(params)
        conflicts = [
            validation.param_conflict(run_id, key, known[key], value)
            for key, value in values.items()
            if key in known and known[key] != value
        ]
        if conflicts:
            raise validation.params_are_immutable(conflicts, "call")
        return {key: value for key, value in values.items() if key not in known}

    def write_pending(
        self, pending: Pending, *, batch_id: str | None = None, validate: bool = False
    ) -> WriteReport:
        """Store already-validated writes of any runs in one transaction (the SDK's buffer).

        Writes to runs that do not exist or are deleted, and params that already hold
        another value, are not stored; the report names them so the caller can raise.
        Everything else lands. From a remote client (the team server): ``validate``
        checks every entry first, and a batch of a ``batch_id`` stored before is not
        stored again, its first report is returned (``gannet.tracking.batches``).
        """
        if validate:
            pending = batches.checked(pending)
        if batch_id is not None:
            batch_id = batches.check_batch_id(batch_id)
        groups = (pending.points, pending.params, pending.tags, pending.environments)
        run_ids = {e[0] for group in groups for e in group}
        if not run_ids:
            return WriteReport()
        self._may_runs(run_ids, EDITOR, "log to")
        with self.metadata.write() as conn:
            if batch_id is not None and (seen := self._seen(conn, batch_id)) is not None:
                return seen
            files = {
                run_id: self._environment_files(conn, env) for run_id, env in pending.environments
            }
            active = repository.active_runs(conn, run_ids)
            refused = run_ids - active
            if refused:
                pending = Pending(
                    [p for p in pending.points if p[0] in active],
                    [p for p in pending.params if p[0] in active],
                    [t for t in pending.tags if t[0] in active],
                    [e for e in pending.environments if e[0] in active],
                )
            if pending.environments:  # before the tags: as if stored by create_run
                repository.attach_environments(
                    conn, [(run_id, env, files[run_id]) for run_id, env in pending.environments]
                )
            conflicts = self._write(conn, pending)
            report = WriteReport(frozenset(refused), tuple(conflicts))
            if batch_id is not None:
                batch_repository.record_report(conn, batch_id, batches.report_json(report))
        return report

    @staticmethod
    def _seen(conn: sa.Connection, batch_id: str) -> WriteReport | None:
        """Claim ``batch_id`` for this transaction's writes; the first report if it was
        written before. Now and then forgets ids older than a day."""
        now = now_ms()
        first = batch_repository.claim_batch(conn, batch_id, now)
        if first is not None:
            return batches.report_from_json(first)
        if random.random() < 1 / 512:
            batch_repository.prune_batches(conn, now - batches.KEEP_BATCHES_MS)
        return None

    @staticmethod
    def _write(conn: sa.Connection, pending: Pending) -> list[str]:
        """Params (first value wins), then tags, then points; returns param conflicts."""
        stored = repository.insert_params(conn, pending.params)
        conflicts = [
            validation.param_conflict(run_id, key, stored[run_id, key], value)
            for run_id, key, value in pending.params
            if stored[run_id, key] != value
        ]
        repository.set_tags(conn, pending.tags)
        repository.insert_points(conn, pending.points)
        return conflicts

    def get_params(self, run_id: str) -> dict[str, str]:
        self._may_runs([run_id], READER, "read")
        with self.metadata.read() as conn:
            self._require_active(conn, run_id)
            return repository.params_of(conn, run_id)

    @staticmethod
    def clean_params(values: Mapping[str, object] | None) -> dict[str, str]:
        return {
            validation.check_key(k, "param"): validation.param_text(k, v)
            for k, v in (values or {}).items()
        }

    def delete_tag(self, run_id: str, key: str) -> None:
        self._may_runs([run_id], EDITOR, "untag")
        with self.metadata.write() as conn:
            self._require_active(conn, run_id)
            deleted = repository.delete_tag(conn, run_id, key)
        if not deleted:
            raise NotFound(
                f"run {run_id} has no tag {key!r}", "list its tags with `gannet runs show`"
            )

    def get_metric_history(
        self, run_id: str, key: str, *, offset: int = 0, limit: int | None = None
    ) -> list[Metric]:
        """Every point of the metric, by step then time; ``offset`` and ``limit`` cut one
        page of them (a REST face pages a long history)."""
        if offset < 0 or (limit is not None and limit < 1):
            raise InvalidArgument(
                f"a page of metric history needs offset >= 0 and limit >= 1, got {offset} "
                f"and {limit}", "page with the next_page_token of the previous page")
        self.get_run(run_id)
        with self.metadata.read() as conn:
            return repository.metric_history(conn, run_id, key, offset=offset, limit=limit)

    def check_run_active(self, run_id: str) -> None:
        """Refuse a run that cannot be logged to: missing, deleted, or not the caller's
        to change."""
        self._may_runs([run_id], EDITOR, "log to")
        with self.metadata.read() as conn:
            self._require_active(conn, run_id)

    @staticmethod
    def point(run_id: str, key: str, value: object, timestamp: int | None, step: object) -> Point:
        """Validate one metric point (what log_metric checks before buffering).

        A hot path (once per ``log_metric``): the checks run cheapest first, and a value
        that passes them is one the store takes (ranges as ``validation`` says).
        """
        return (
            run_id,
            key if key in _valid_keys else validation.check_key(key, "metric"),
            value if type(value) is float else validation.check_metric_value(key, value),
            timestamp
            if type(timestamp) is int and 0 <= timestamp <= 253_402_300_799_999  # MAX_TIMESTAMP
            else time.time_ns() // 1_000_000
            if timestamp is None
            else validation.check_timestamp(timestamp, f"metric {key!r}"),
            step
            if type(step) is int and -(2**63) <= step < 2**63
            else 0
            if step is None
            else validation.check_step(step, key),
        )

    # -- search ------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
        view: ViewType = ViewType.ACTIVE,
    ) -> Page[Run]:
        if not 1 <= int(max_results) <= MAX_SEARCH_RESULTS:
            raise InvalidArgument(
                f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {max_results}",
                "page through larger results with page_token",
            )
        comparisons = query.parse_filter(filter_string)
        order = query.parse_order_by(order_by)
        ids = self._visible_experiments([str(e) for e in experiment_ids])
        fingerprint = query_fingerprint(
            sorted(ids), filter_string or "", list(order_by or ()), str(view)
        )
        offset = decode_token(page_token, fingerprint)
        with self.metadata.read() as conn:
            run_ids = repository.search_run_ids(
                conn, ids, comparisons, order, str(view), int(max_results) + 1, offset
            )
            more = len(run_ids) > max_results
            found = repository.load_runs(conn, run_ids[:max_results])
        token = encode_token(offset + max_results, fingerprint) if more else None
        return Page(found, token)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _require_active(conn: sa.Connection, run_id: str) -> None:
        stage = repository.run_stage(conn, run_id)
        if stage is None:
            raise NotFound(f"no run with id {run_id!r}", "find run ids with `gannet runs list`")
        if stage != Lifecycle.ACTIVE:
            raise InvalidState(
                f"run {run_id} is deleted; nothing can be logged to it",
                f"restore it with `gannet runs restore {run_id}` or start a new run",
            )


def _chosen_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not is_id(run_id):
        raise InvalidArgument(
            f"run id {run_id!r} is not 32 lowercase hex characters",
            "let Gannet choose it, or make one with gannet.core.ids.new_id()",
        )
    return run_id


def _acting_user() -> str | None:
    """A server request's authenticated caller (runs are theirs, whatever they claim)."""
    actor = current_actor()
    return actor.user if actor is not None else None
