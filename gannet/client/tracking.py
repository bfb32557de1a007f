"""The tracking half of ``GannetClient``: experiments, runs, logging, search, artifacts.

Every method is one ``TrackingService`` call of the same name; what the client adds is
the log buffer (so ``log_metric`` costs microseconds) and reading its own writes (reads
flush first). ``log_text``, ``log_dict`` and ``log_figure`` only turn their object into
bytes for ``log_bytes``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import InvalidArgument
from gannet.tracking.service import TrackingService
from gannet.tracking.types import Experiment, FileInfo, Metric, Run, RunStatus, ViewType

if TYPE_CHECKING:
    import pandas

    from gannet.bootstrap import Services
    from gannet.client.buffer import LogBuffer


class RunPage(list[Run]):
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


class TrackingMethods:
    """Mixed into ``GannetClient``, which provides ``services``, ``buffer`` and ``flush``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError
    @property
    def buffer(self) -> LogBuffer:
        raise NotImplementedError

    _buffer: LogBuffer | None
    _params: dict[str, dict[str, str]]  # run id -> params as this client knows them

    def flush(self, *, wait_for_environment: bool = True) -> None:
        raise NotImplementedError

    @property
    def _tracking(self) -> TrackingService:
        return self.services.tracking

    # -- experiments -----------------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        return self._tracking.create_experiment(name, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._tracking.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._tracking.get_experiment_by_name(name)

    def search_experiments(self, view: ViewType | str = ViewType.ACTIVE) -> list[Experiment]:
        return self._tracking.search_experiments(ViewType(view))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._tracking.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._tracking.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._tracking.restore_experiment(experiment_id)

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
        if later and isinstance(capture, Future):
            self.buffer.add_environment(run.run_id, capture)
        return run

    def get_run(self, run_id: str) -> Run:
        self.flush()
        return self._tracking.get_run(run_id)

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> Run:
        self._tracking.update_run(run_id, status=status, run_name=name)
        return self._tracking.get_run(run_id)

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        """End a run (MLflow's name for ``update_run`` with an end status): its buffered
        writes land first, then its status and end time (its environment, if still being
        captured, is stored when ready)."""
        self.flush(wait_for_environment=False)
        self._tracking.update_run(run_id, status=status, end_time=end_time)

    def delete_run(self, run_id: str) -> None:
        self.flush()
        self._tracking.delete_run(run_id)
        self._params.pop(run_id, None)

    def restore_run(self, run_id: str) -> None:
        self._tracking.restore_run(run_id)

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
        fresh = self._tracking.new_params(run_id, known, params)
        self.buffer.add_params(run_id, fresh)  # may refuse them (a full buffer, a failing store)
        known.update(fresh)

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
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self._tracking.log_artifact(run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
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
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> Path:
        return self._tracking.download_artifacts(run_id, path, dst_path)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self._tracking.read_artifact(run_id, path)
