"""``PipelineService``: run and resume pipelines, read their steps and outputs, the cache,
and what garbage collection must keep (``BlobReferences``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import GannetError, InvalidArgument, InvalidState, NotFound, Unavailable
from gannet.pipelines import repository
from gannet.pipelines.executors import Executor, make_executor
from gannet.pipelines.materializers import StoredValue, load_value, materializer_named
from gannet.pipelines.recording import MODEL, Recorder
from gannet.pipelines.runner import Runner
from gannet.pipelines.scheduling import Schedules
from gannet.pipelines.types import PipelineRun, StepResult, StepStatus
from gannet.store.gc.leases import BlobLeases
from gannet.store.gc.types import CLOCK_SLACK_MS

if TYPE_CHECKING:
    from gannet.core.settings import Settings
    from gannet.data.types import DatasetVersion
    from gannet.lineage.service import LineageService
    from gannet.pipelines.dsl import Pipeline
    from gannet.pipelines.pruning import TrialRef
    from gannet.pipelines.sweeps import Sweep
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore
    from gannet.tracking.service import TrackingService

DEFAULT_EXECUTOR = "processes"
FOLDER_MATERIALIZERS = {"model"}


class PipelineService(Schedules):
    """Pipeline runs over the metadata store, the blob store (outputs) and tracking (runs);
    schedules come from ``Schedules``.

    ``open_blobs`` opens the blob store in a worker process (it is pickled to them).
    The composition root hands it the data capability's ``resolve_dataset`` (a reference
    to its ``DatasetVersion``) and the ``lineage`` service, which step runs leave edges in
    (``gannet.pipelines.datasets``)."""

    resolve_dataset: Callable[[str], DatasetVersion] | None = None
    lineage: LineageService | None = None

    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        tracking: TrackingService,
        settings: Settings,
        open_blobs: Callable[[], BlobStore],
    ) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.tracking = tracking
        self.settings = settings
        self.open_blobs = open_blobs
        self.recorder = Recorder(tracking, blobs)
        self.leases = BlobLeases(metadata)
        # (source, name, tags) -> "NAME/VERSION": the registry, given by the composition root
        self.register_model: Callable[[str, str, dict[str, str]], str] | None = None

    # -- running ---------------------------------------------------------------------------

    def run_pipeline(
        self,
        pipeline: Pipeline,
        params: dict[str, Any] | None = None,
        *,
        target: str = "",
        executor: str | Executor = DEFAULT_EXECUTOR,
        address: str | None = None,
        no_cache: bool = False,
        on_step: Callable[[StepResult], None] | None = None,
        schedule_id: str | None = None,
        parent_run_id: str | None = None,
        source: tuple[str, str] | None = None,
        run_id: str | None = None,
        trial: TrialRef | None = None,
    ) -> PipelineRun:
        """Build ``pipeline`` with ``params`` and run it; the run's outcome (FAILED when a
        step failed: its error and traceback are on the step). ``parent_run_id``: the run
        it is nested under (a sweep's); ``source``: the (repository, commit) its file
        comes from (``checkout``), recorded on the run; ``run_id``: the id the run gets
        (``gannet.core.ids.new_id()``), for a caller that shows the run while it runs;
        ``trial``: the sweep trial it is, whose steps may be pruned (``pruning``)."""
        graph = pipeline.build(**(params or {}))
        chosen = make_executor(executor, address=address) if isinstance(executor, str) \
            else executor  # an Executor of one's own
        run_id, experiment_id = self.recorder.start_pipeline(
            graph, target, chosen.name, run_id=run_id, parent_run_id=parent_run_id,
            source=source)
        run = PipelineRun(run_id, graph.name, StepStatus.RUNNING, [], dict(graph.params),
                          target or _target_of(pipeline), chosen.name, now_ms(),
                          schedule_id=schedule_id)
        with self.metadata.write() as conn:
            repository.insert_run(conn, run)
        runner = Runner(self, graph, run, experiment_id, chosen, use_cache=not no_cache,
                        on_step=on_step, trial=trial)
        return self._drive(runner)

    def resume_pipeline(
        self,
        run_id: str,
        *,
        executor: str | None = None,
        address: str | None = None,
        on_step: Callable[[StepResult], None] | None = None,
        pipeline: Pipeline | None = None,
    ) -> PipelineRun:
        """Run again the steps of ``run_id`` that did not finish, and those after them;
        the finished ones keep their outputs. The run's file is loaded again unless
        ``pipeline`` is given."""
        from gannet.pipelines.loading import load_pipeline

        run = self.get_pipeline_run(run_id)
        if run.status in (StepStatus.FINISHED, StepStatus.RUNNING):
            raise InvalidState(f"pipeline run {run_id} is {run.status}: nothing to resume",
                               "resume a FAILED or KILLED run")
        pipeline = pipeline or load_pipeline(run.target)
        graph = pipeline.build(**run.params)
        kept = {s.name: s for s in run.steps if s.status == StepStatus.FINISHED}
        known = run.executor if run.executor in ("local", "processes", "dask") else None
        chosen = make_executor(executor or known or DEFAULT_EXECUTOR, address=address)
        experiment_id = self.tracking.get_run(run_id).info.experiment_id
        self.tracking.update_run(run_id, status="RUNNING")
        run.status, run.end_time = StepStatus.RUNNING, None
        with self.metadata.write() as conn:
            repository.update_run(conn, run_id, status=run.status, end_time=None)
        runner = Runner(self, graph, run, experiment_id, chosen, reuse=kept, on_step=on_step)
        return self._drive(runner)

    def checkout(self, repo: str, rev: str) -> tuple[Path, str]:
        """A folder with git repository ``repo`` at ``rev``, and its commit (kept in the
        home's cache, so a resume finds the same files)."""
        from gannet.pipelines.loading import checkout

        return checkout(repo, rev, self.settings.home / "cache" / "pipelines")

    def list_templates(self) -> list[str]:
        """The project templates (``gannet init --template``) by name."""
        from gannet.pipelines.scaffold import template_folders

        return sorted(template_folders())

    def template_pipeline(self, template: str) -> Path:
        """The pipeline file of project template ``template``, copied once into the home's
        cache: what the web UI launches."""
        from gannet.pipelines.scaffold import template_pipeline

        return template_pipeline(template, self.settings.home / "cache" / "pipelines" /
                                 "templates")

    def run_step(
        self, pipeline: Pipeline, params: dict[str, Any], run_id: str, step: str, *,
        target: str = "",
    ) -> PipelineRun:
        """Run one step of pipeline run ``run_id`` (made by the first step that comes): what
        each step of an exported workflow (Argo) runs. The steps it needs must have finished
        in that run; the run ends when its last step does."""
        from gannet.pipelines.executors import LocalExecutor

        graph = pipeline.build(**params)
        node = graph.node(step)
        run_id = run_id.replace("-", "").lower()  # Argo's workflow uid is a UUID
        run, experiment_id = self._run_of_step(graph, run_id, target or _target_of(pipeline))
        kept = {s.name: s for s in run.steps if s.status == StepStatus.FINISHED}
        missing = sorted({o.node for o in node.upstream} - set(kept))
        if missing:
            raise InvalidState(
                f"step {step!r} needs {', '.join(missing)}, not finished in run {run_id}",
                "run the steps in the order of the workflow's dependencies")
        kept.pop(step, None)
        runner = Runner(self, graph, run, experiment_id, LocalExecutor(), reuse=kept,
                        only={step})
        return self._drive(runner)

    def _run_of_step(self, graph: Any, run_id: str, target: str) -> tuple[PipelineRun, str]:
        """The pipeline run ``run_id`` and its experiment, made now if this is its first step
        (two first steps at once: one makes it, the other reads it)."""
        from gannet.core.errors import AlreadyExists, Conflict

        try:
            run = self.get_pipeline_run(run_id)
        except NotFound:
            try:
                _, experiment_id = self.recorder.start_pipeline(graph, target, "workflow",
                                                                run_id=run_id)
                run = PipelineRun(run_id, graph.name, StepStatus.RUNNING, [],
                                  dict(graph.params), target, "workflow", now_ms())
                with self.metadata.write() as conn:
                    repository.insert_run(conn, run)
                return run, experiment_id
            except (AlreadyExists, Conflict):
                run = self.get_pipeline_run(run_id)
        return run, self.tracking.get_run(run_id).info.experiment_id

    def run_sweep(self, pipeline: Pipeline, values: dict[str, str], **options: Any) -> Sweep:
        """Run ``pipeline`` many times over a search space (``gannet.pipelines.sweeps``)."""
        from gannet.pipelines.sweeps import run_sweep

        return run_sweep(self, pipeline, values, **options)

    def _drive(self, runner: Runner) -> PipelineRun:
        run = runner.run
        try:
            with self.leases.hold():  # outputs are stored before their rows land
                run = runner.go()
        except KeyboardInterrupt:
            self._end(run, StepStatus.KILLED)
            raise
        except BaseException:
            self._end(run, StepStatus.FAILED)
            raise
        if run.status != StepStatus.RUNNING:  # one step of many (`run_step`): not ended
            self._end(run, run.status)
        return self.get_pipeline_run(run.run_id)

    def _end(self, run: PipelineRun, status: str) -> None:
        run.status, run.end_time = status, now_ms()
        with self.metadata.write() as conn:
            repository.update_run(conn, run.run_id, status=status, end_time=run.end_time)
        self.recorder.end(run.run_id, status)

    # -- reading ---------------------------------------------------------------------------

    def get_pipeline_run(self, run_id: str) -> PipelineRun:
        with self.metadata.read() as conn:
            found = repository.load_run(conn, run_id)
        if found is None:
            raise NotFound(f"no pipeline run with id {run_id!r}",
                           "pipeline runs are listed with `gannet runs list`; "
                           "`gannet pipeline run` prints the id")
        return found

    def load_output(self, run_id: str, step: str, name: str | None = None) -> Any:
        """The value step ``step`` of run ``run_id`` returned (``name``: which output, when
        the step has several)."""
        return self.load_stored(self.output_of(run_id, step, name))

    def output_of(self, run_id: str, step: str, name: str | None = None) -> StoredValue:
        result = self.get_pipeline_run(run_id).step(step)
        if not result.outputs:
            raise InvalidState(f"step {step!r} of pipeline run {run_id} is {result.status}: "
                               "it has no outputs", "resume the run to compute them")
        if name is None:
            if len(result.outputs) > 1:
                raise InvalidArgument(
                    f"step {step!r} has {len(result.outputs)} outputs; say which",
                    f"name one of: {', '.join(result.outputs)}")
            return next(iter(result.outputs.values()))
        if name not in result.outputs:
            raise NotFound(f"step {step!r} has no output {name!r}",
                           f"its outputs: {', '.join(result.outputs)}")
        return result.outputs[name]

    def register_output_model(self, run_id: str, name: str, *, step: str | None = None,
                              tags: dict[str, str] | None = None) -> str:
        """A new version of registered model ``name`` from the model a step of pipeline
        run ``run_id`` returned (``step``'s, when several did): ``NAME/VERSION``. Its run is
        the step's run, so the version has the step's lineage."""
        run = self.get_pipeline_run(run_id)
        found = [(s.step_run_id, s.name, output) for s in run.steps if step in (None, s.name)
                 for output, value in s.outputs.items()
                 if value.materializer == MODEL and s.step_run_id]
        if not found:
            raise NotFound(f"no step{'' if step is None else ' ' + repr(step)} of pipeline "
                           f"run {run_id} returned a model", "return the fitted model from "
                           "a step (a scikit-learn estimator, a gannet model package...)")
        if len(found) > 1:
            raise InvalidArgument(
                f"steps {', '.join(sorted({n for _, n, _ in found}))} of pipeline run "
                f"{run_id} return models; say which", "name the step (--register-step)")
        if self.register_model is None:
            raise Unavailable("registering needs the model registry", "use gannet.bootstrap")
        step_run, _, output = found[0]
        return self.register_model(f"runs:/{step_run}/{output}", name, tags or {})

    def load_stored(self, stored: StoredValue) -> Any:
        return load_value(self.blobs, stored)

    # -- the cache -------------------------------------------------------------------------

    def cached(self, key: str) -> tuple[dict[str, StoredValue], str] | None:
        """The outputs stored under ``key`` and the step run that computed them, when every
        blob of them is still there."""
        with self.metadata.read() as conn:
            found = repository.cached_outputs(conn, [key]).get(key)
        if found is None or not all(self.blobs.exists(v.digest) for v in found[0].values()):
            return None
        return found

    # -- garbage collection (gannet.store.gc.BlobReferences) -------------------------------

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        return {}  # pipeline runs are not deleted on their own: their outputs stay

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            return self._with_files(repository.referenced_outputs(conn))

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            fresh = repository.referenced_outputs(conn, since_ms - CLOCK_SLACK_MS)
        return self._with_files(fresh) & set(digests)

    def _with_files(self, outputs: dict[str, str]) -> set[str]:
        """Folder outputs (models) keep their manifest's files too."""
        found = set(outputs)
        for digest, materializer in outputs.items():
            if materializer not in FOLDER_MATERIALIZERS and not _is_folder(materializer):
                continue
            try:
                manifest = self.blobs.read_manifest(digest)
            except GannetError:
                continue  # missing: the collector reports it
            found.update(entry.digest for entry in manifest.entries.values())
        return found


def _is_folder(materializer: str) -> bool:
    try:
        return materializer_named(materializer).folder
    except InvalidArgument:  # registered in another process: it may be a folder
        return True


def _target_of(pipeline: Pipeline) -> str:
    """Where ``pipeline`` can be loaded from again (resume): its file and name."""
    import sys

    module = sys.modules.get(getattr(pipeline.fn, "__module__", ""))
    file = getattr(module, "__file__", None)
    return f"{file}:{pipeline.name}" if file else pipeline.name
