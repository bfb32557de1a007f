"""The pipelines half of ``GannetClient``: run and resume pipelines, read their runs and
outputs. Every method is one ``PipelineService`` call of the same name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.pipelines.dsl import Pipeline
    from gannet.pipelines.executors import Executor
    from gannet.pipelines.service import PipelineService
    from gannet.pipelines.types import PipelineRun, StepResult


class PipelineMethods:
    """Mixed into ``GannetClient``, which provides ``services``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    @property
    def _pipelines(self) -> PipelineService:
        return self.services.pipelines

    def run_pipeline(
        self,
        pipeline: Pipeline,
        params: dict[str, Any] | None = None,
        *,
        executor: str | Executor = "processes",
        address: str | None = None,
        no_cache: bool = False,
        on_step: Callable[[StepResult], None] | None = None,
    ) -> PipelineRun:
        """Run ``pipeline`` with ``params`` (text is converted by each parameter's type)."""
        return self._pipelines.run_pipeline(
            pipeline, params, executor=executor, address=address, no_cache=no_cache,
            on_step=on_step,
        )

    def resume_pipeline(
        self,
        run_id: str,
        *,
        executor: str | None = None,
        address: str | None = None,
        on_step: Callable[[StepResult], None] | None = None,
        pipeline: Pipeline | None = None,
    ) -> PipelineRun:
        """Run again what did not finish in pipeline run ``run_id``, and what follows it."""
        return self._pipelines.resume_pipeline(
            run_id, executor=executor, address=address, on_step=on_step, pipeline=pipeline
        )

    def get_pipeline_run(self, run_id: str) -> PipelineRun:
        return self._pipelines.get_pipeline_run(run_id)

    def load_output(self, run_id: str, step: str, name: str | None = None) -> Any:
        """What step ``step`` of pipeline run ``run_id`` returned (``name`` when several)."""
        return self._pipelines.load_output(run_id, step, name)
