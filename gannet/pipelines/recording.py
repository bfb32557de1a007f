"""What a pipeline run leaves in tracking: the pipeline run is a run, each step a nested run
(``mlflow.parentRunId``) with its parameters, metrics (its duration among them), captured
stdout and stderr as artifacts, its traceback when it failed, and its inputs and outputs
by digest as tags. A model a step returned is also the step run's artifact folder of the
output's name (``runs:/STEP_RUN/output``), the files shared with the stored output, so
a model version registered from it has the step run as its run (and that run's lineage)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gannet.core.errors import AlreadyExists, NotFound
from gannet.models.manifest import MANIFEST as META_FILE
from gannet.models.manifest import ModelMeta
from gannet.pipelines.cache import digests_of
from gannet.pipelines.types import StepResult, StepStatus
from gannet.tracking.types import Metric

if TYPE_CHECKING:
    from gannet.pipelines.graph import Graph, Node
    from gannet.pipelines.tasks import StepOutcome
    from gannet.store.blobs import BlobStore
    from gannet.tracking.service import TrackingService

PARENT_TAG = "mlflow.parentRunId"
MODEL = "model"  # the materializer of model packages
PRUNED_TAG = "gannet.pruned"  # on the runs of a trial a sweep's pruner stopped (KILLED)
TAG_TEXT_LIMIT = 5000


class Recorder:
    """Writes a pipeline run's tracking runs (one write per call, so a crash loses little)."""

    def __init__(self, tracking: TrackingService, blobs: BlobStore | None = None) -> None:
        self.tracking = tracking
        self.blobs = blobs

    def experiment_for(self, name: str) -> str:
        """The experiment named after the pipeline (made on first use)."""
        found = self.tracking.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.tracking.create_experiment(name)
        except AlreadyExists:  # made at the same moment by another run
            again = self.tracking.get_experiment_by_name(name)
            if again is None:
                raise
            return again.experiment_id

    def start_pipeline(
        self, graph: Graph, target: str, executor: str, run_id: str | None = None,
        parent_run_id: str | None = None, source: tuple[str, str] | None = None,
    ) -> tuple[str, str]:
        """A new run for a pipeline run: (run id, experiment id)."""
        experiment_id = self.experiment_for(graph.name)
        tags = {"gannet.pipeline": graph.name, "gannet.pipeline.target": target,
                "gannet.pipeline.executor": executor}
        if parent_run_id is not None:  # a trial of a sweep
            tags[PARENT_TAG] = parent_run_id
        if source is not None:  # run from a git repository at a commit
            tags["gannet.pipeline.repo"], tags["gannet.pipeline.commit"] = source
        run = self.tracking.create_run(
            experiment_id, run_name=graph.name, source_name=target, run_id=run_id,
            parent_run_id=parent_run_id, tags=tags,
            git_commit=source[1] if source is not None else None,
        )
        params = {k: _text(v) for k, v in graph.params.items()}
        if params:
            self.tracking.log_batch(run.info.run_id, params=params)
        return run.info.run_id, experiment_id

    def start_sweep(self, name: str, target: str, values: dict[str, str]) -> str:
        """The parent run of a sweep's trials, with the search space as params."""
        run = self.tracking.create_run(self.experiment_for(name), run_name=f"sweep {name}",
                                       source_name=target, tags={"gannet.sweep": name})
        self.tracking.log_batch(run.info.run_id, params=values)
        return run.info.run_id

    def start_step(self, run_id: str, experiment_id: str, node: Node) -> str:
        run = self.tracking.create_run(
            experiment_id, run_name=node.name, parent_run_id=run_id,
            tags={PARENT_TAG: run_id, "gannet.step": node.name},
        )
        params = {k: _text(v) for k, v in node.constants.items()}
        if params:
            self.tracking.log_batch(run.info.run_id, params=params)
        return run.info.run_id

    def finish_step(
        self, step: StepResult, inputs: dict[str, Any], outcome: StepOutcome | None
    ) -> None:
        """Metrics, tags, captured text and the final status of a step's run."""
        assert step.step_run_id is not None
        metrics = {"duration_s": step.duration_s, **(outcome.metrics if outcome else {})}
        tags = {
            "gannet.step.cached": str(step.cached).lower(),
            "gannet.step.attempts": str(step.attempts),
            "gannet.step.inputs": _limited(json.dumps(digests_of(inputs))),
            "gannet.step.outputs": _limited(
                json.dumps({k: v.digest for k, v in step.outputs.items()})),
        }
        if step.cache_key:
            tags["gannet.step.cache_key"] = step.cache_key
        if step.error:
            tags["gannet.step.error"] = _limited(step.error)
        if step.status == StepStatus.PRUNED:
            tags[PRUNED_TAG] = "true"
        if step.cached_from:  # a hit carries what the run that computed it measured
            tags["gannet.step.cached_from"] = step.cached_from
            metrics = {**self._measured_by(step.cached_from), **metrics}
        history = [Metric(k, v, at, n) for k, v, at, n in (outcome.history if outcome else [])]
        self.tracking.log_batch(
            step.step_run_id, tags=tags,
            metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()] + history,
        )
        files = {"stdout.txt": outcome.stdout if outcome else "",
                 "stderr.txt": outcome.stderr if outcome else "",
                 "traceback.txt": step.traceback or ""}
        for name, text in files.items():
            if text:
                self.tracking.log_bytes(step.step_run_id, text.encode(), name)
        self._log_models(step)
        self.tracking.update_run(step.step_run_id, status=_run_status(step.status))

    def _measured_by(self, step_run_id: str) -> dict[str, float]:
        """The metrics a step run logged (its duration aside); none if it is gone."""
        try:
            logged = self.tracking.get_run(step_run_id).data.metrics
        except NotFound:
            return {}
        return {k: v for k, v in logged.items() if k != "duration_s"}

    def _log_models(self, step: StepResult) -> None:
        """Each model output as the step run's artifacts under the output's name (indexed:
        its files are in the store already)."""
        assert step.step_run_id is not None
        for name, stored in step.outputs.items():
            if stored.materializer != MODEL or self.blobs is None:
                continue
            manifest = self.blobs.read_manifest(stored.digest)
            self.tracking.log_artifact_files(step.step_run_id, [
                (f"{name}/{path}", e.digest, e.size) for path, e in manifest.entries.items()])
            meta = ModelMeta.from_yaml(
                self.blobs.get_bytes(manifest.entries[META_FILE].digest).decode())
            self.tracking.log_batch(step.step_run_id,
                                    tags={f"gannet.model.{name}": meta.flavor})

    def end(self, run_id: str, status: str) -> None:
        if status == StepStatus.PRUNED:  # a sweep's pruner stopped it: KILLED, and why
            self.tracking.log_batch(run_id, tags={PRUNED_TAG: "true"})
        self.tracking.update_run(run_id, status=_run_status(status))


def _run_status(status: str) -> str:
    return {"SKIPPED": "FINISHED", "PENDING": "KILLED", "PRUNED": "KILLED"}.get(status, status)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _limited(text: str) -> str:
    return text if len(text) <= TAG_TEXT_LIMIT else text[: TAG_TEXT_LIMIT - 3] + "..."
