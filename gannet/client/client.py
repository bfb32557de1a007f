"""``GannetClient``: the explicit SDK object (the fluent ``gannet.*`` functions use one).

Every method is one service call; what the client adds is the metric buffer (so
``log_metric`` costs microseconds) and reading its own writes (reads flush first).
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.bootstrap import Services, build
from gannet.client.buffer import LogBuffer
from gannet.core.errors import Conflict, InvalidArgument
from gannet.core.settings import Settings
from gannet.tracking.service import TrackingService
from gannet.tracking.types import (
    Experiment,
    FileInfo,
    Lifecycle,
    Metric,
    Run,
    RunStatus,
    ViewType,
)

if TYPE_CHECKING:
    import pandas

    from gannet.models.package import LoadedModel, ModelMeta
    from gannet.registry.service import Promotion
    from gannet.registry.types import ModelVersion, RegisteredModel


class RunPage(list):
    """A page of runs (a list) with the token of the next page and a DataFrame view."""

    def __init__(self, runs: Sequence[Run], next_page_token: str | None) -> None:
        super().__init__(runs)
        self.next_page_token = next_page_token

    def to_pandas(self) -> pandas.DataFrame:
        """One row per run: attributes, then metrics.*, params.*, tags.* columns."""
        import pandas as pd

        rows = []
        for run in self:
            row: dict[str, Any] = {
                "run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "experiment_id": run.info.experiment_id,
                "status": str(run.info.status),
                "start_time": pd.to_datetime(run.info.start_time, unit="ms", utc=True),
                "end_time": pd.to_datetime(run.info.end_time, unit="ms", utc=True),
            }
            row.update({f"metrics.{k}": v for k, v in run.data.metrics.items()})
            row.update({f"params.{k}": v for k, v in run.data.params.items()})
            row.update({f"tags.{k}": v for k, v in run.data.tags.items()})
            rows.append(row)
        return pd.DataFrame(rows)


class GannetClient:
    """Talks to the stores named by ``settings`` (default: ``Settings.load()``)."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        self._services: Services | None = None
        self._buffer: LogBuffer | None = None
        self._params: dict[str, dict[str, str]] = {}  # run id -> params as this client knows them
        self._lock = threading.Lock()

    @property
    def services(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build(self._settings, **self._overrides)
        return self._services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def _tracking(self):  # noqa: ANN202 - TrackingService, kept out of the public surface
        return self.services.tracking

    @property
    def buffer(self) -> LogBuffer:
        if self._buffer is None:
            settings = self.settings
            self._buffer = LogBuffer(
                self._tracking.write_pending,
                capacity=settings.buffer_size,
                interval=settings.flush_interval,
            )
        return self._buffer

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        return self._tracking.create_experiment(name, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._tracking.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._tracking.get_experiment_by_name(name)

    def search_experiments(self, view: ViewType | str = ViewType.ACTIVE) -> list[Experiment]:
        return self._tracking.list_experiments(ViewType(view))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._tracking.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._tracking.set_experiment_lifecycle(experiment_id, Lifecycle.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._tracking.set_experiment_lifecycle(experiment_id, Lifecycle.ACTIVE)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._tracking.set_experiment_tag(experiment_id, key, value)

    # -- runs ------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        **source: Any,
    ) -> Run:
        """A new run. ``environment`` may be an ``Environment`` (stored with the run) or the
        future of one being captured (``environment.capture_soon``): the run is created at
        once and the environment stored when ready, before anything logged after it."""
        capture = source.get("environment")
        later = isinstance(capture, Future) and not (capture.done() and not capture.exception())
        if isinstance(capture, Future):
            source["environment"] = None if later else capture.result()
        run = self._tracking.create_run(
            experiment_id,
            run_name=run_name,
            tags=tags,
            parent_run_id=parent_run_id,
            start_time=start_time,
            **source,
        )
        self._params[run.run_id] = {}
        if later:
            self.buffer.add_environment(run.run_id, capture)
        return run

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self._tracking.get_run(run_id)

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run: its buffered metrics are written first, then its status and end time
        (its environment, if still being captured, is stored when ready)."""
        self.flush(wait_for_environment=False)
        self._tracking.update_run(run_id, status=status, end_time=end_time)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> Run:
        self._tracking.update_run(run_id, status=status, run_name=name)
        return self._tracking.get_run(run_id)

    def delete_run(self, run_id: str) -> None:
        self.flush()
        self._tracking.set_run_lifecycle(run_id, Lifecycle.DELETED)
        self._params.pop(run_id, None)

    def restore_run(self, run_id: str) -> None:
        self._tracking.set_run_lifecycle(run_id, Lifecycle.ACTIVE)

    # -- logging -----------------------------------------------------------------------------

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        *,
        synchronous: bool = False,
    ) -> None:
        """Buffer one point (validated now, written in bulk soon); ``synchronous`` waits."""
        if run_id not in self._params:
            self._learn(run_id)
        buffer = self._buffer or self.buffer
        buffer.add(TrackingService.point(run_id, key, value, timestamp, step))
        if synchronous:
            self.flush()

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        for key, value in metrics.items():
            self.log_metric(run_id, key, value, timestamp, step)

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Buffer a param; a different value for a key already logged is refused now."""
        self.log_params(run_id, {key: value})
        return value

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Buffer params: all are checked first, so a refused call stores none of them."""
        known = self._params[run_id] if run_id in self._params else self._learn(run_id)
        values = self._tracking.clean_params(params)
        for key, value in values.items():
            if key in known and known[key] != value:
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {known[key]!r}; cannot change "
                    f"it to {value!r} (params are immutable; nothing of this call was stored)",
                    "log the new value under another key, or start a new run",
                )
        fresh = {k: v for k, v in values.items() if k not in known}
        known.update(fresh)
        self.buffer.add_params(run_id, fresh)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Write now, in one transaction: all of it or (on any error) none of it."""
        self.flush()
        self._tracking.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if run_id in self._params:
            self._params[run_id].update(self._tracking.clean_params(params))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.set_tags(run_id, {key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Buffer tags (a later value for the same key replaces the earlier one)."""
        if run_id not in self._params:
            self._learn(run_id)
        self.buffer.add_tags(run_id, self._tracking.clean_tags(tags))

    def _learn(self, run_id: str) -> dict[str, str]:
        """First use of a run this client did not create: it must exist; learn its params."""
        known = self._params[run_id] = self._tracking.get_params(run_id)
        return known

    def delete_tag(self, run_id: str, key: str) -> None:
        self.flush()
        self._tracking.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.flush()
        return self._tracking.get_metric_history(run_id, key)

    # -- search ----------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: ViewType | str = ViewType.ACTIVE,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> RunPage:
        self.flush()
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        page = self._tracking.search_runs(
            ids, filter_string, order_by, max_results, page_token, ViewType(run_view_type)
        )
        return RunPage(page.items, page.next_page_token)

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        self._tracking.log_artifact(run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        self._tracking.log_artifacts(run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        self._tracking.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """JSON, or YAML when ``artifact_file`` ends in .yaml/.yml."""
        if artifact_file.endswith((".yaml", ".yml")):
            import yaml

            text = yaml.safe_dump(dict(dictionary), sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2, default=str)
        self.log_text(run_id, text, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """A matplotlib figure, saved in the format its file name says (.png, .svg, .pdf)."""
        if not hasattr(figure, "savefig"):
            raise InvalidArgument(
                f"log_figure needs a matplotlib Figure, got {type(figure).__name__}",
                "pass the Figure (e.g. fig from fig, ax = plt.subplots())",
            )
        fmt = Path(artifact_file).suffix.lstrip(".") or "png"
        data = io.BytesIO()
        figure.savefig(data, format=fmt)
        self._tracking.log_bytes(run_id, data.getvalue(), artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._tracking.list_artifacts(run_id, path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike | None = None
    ) -> Path:
        return self._tracking.download_artifacts(run_id, path, dst_path)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self._tracking.read_artifact(run_id, path)

    # -- models and the registry ---------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: Any,
        name: str = "model",
        *,
        signature: Any = None,
        input_example: Any = None,
        requirements: Sequence[str] | None = None,
    ) -> ModelMeta:
        """Save ``model`` as a package and log it under ``name`` in the run's artifacts."""
        import tempfile

        from gannet.models.package import save_model

        self._tracking.check_run_active(run_id)
        with tempfile.TemporaryDirectory(prefix="gannet-model-") as tmp:
            meta = save_model(
                model,
                Path(tmp) / "package",
                signature=signature,
                input_example=input_example,
                requirements=requirements,
                run_id=run_id,
            )
            self._tracking.log_artifacts(run_id, Path(tmp) / "package", name)
        self.set_tag(run_id, f"gannet.model.{name}", meta.flavor)
        return meta

    @property
    def _registry(self):  # noqa: ANN202 - RegistryService
        return self.services.registry

    def register_model(
        self,
        source: str | os.PathLike,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` from a run id (its ``model``), ``runs:/<id>/<path>``
        or a package folder; signed with this home's key."""
        self.flush()
        return self._registry.register_model(source, name, description=description, tags=tags)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry.get_registered_model(name)

    def search_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        return self._registry.list_registered_models(name_like)

    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        return self._registry.update_registered_model(name, description=description, tags=tags)

    def update_model_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        return self._registry.update_version(name, version, description=description, tags=tags)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self._registry.get_model_version(name, version)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.resolve(f"{name}@{alias}")

    def set_model_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        return self._registry.set_alias(name, alias, version)

    def delete_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_alias(name, alias)

    def set_model_policy(self, name: str, policy_yaml: str | None) -> None:
        self._registry.set_policy(name, policy_yaml)

    def approve_model_version(self, name: str, version: int, comment: str = "") -> None:
        self._registry.approve(name, version, comment)

    def promote(self, name: str, version: int | str, alias: str, reason: str = "") -> Promotion:
        return self._registry.promote(name, version, alias, reason)

    def load_model(self, ref: str, *, allow_unsigned: bool | None = None) -> LoadedModel:
        """A registered model (``churn@champion``, ``churn/3``), signature and files verified."""
        return self._registry.load(ref, allow_unsigned=allow_unsigned)

    # -- lifecycle ---------------------------------------------------------------------------

    def flush(self, *, wait_for_environment: bool = True) -> None:
        """Write every buffered metric point now (raises what a background write hit).

        ``wait_for_environment=False`` leaves an environment still being captured, and its
        run's tags, to be stored when the capture is done (by the writer thread, the next
        flush, or exit).
        """
        if self._buffer is not None:
            self._buffer.flush(wait_for_environment=wait_for_environment)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._services is not None:
                self._services.close()
                self._services = None
