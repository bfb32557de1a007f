"""Pipelines' plain types: a pipeline run's and its steps' outcomes, schedules."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gannet.pipelines.materializers import StoredValue


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"
    SKIPPED = "SKIPPED"  # a condition (``when``) was false, or an input's step was skipped
    PRUNED = "PRUNED"  # a sweep's pruner stopped the trial (``gannet.pipelines.report``)


@dataclass
class StepResult:
    """One step of a pipeline run."""

    name: str
    status: str
    cached: bool = False
    duration_s: float = 0.0
    step_run_id: str | None = None
    cache_key: str | None = None
    outputs: dict[str, StoredValue] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    attempts: int = 0
    cached_from: str | None = None  # a cache hit: the step run that computed the outputs

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "cached": self.cached,
                "duration_s": round(self.duration_s, 6)}


@dataclass
class PipelineRun:
    """A pipeline run: a tracking run (``run_id``) and its steps in running order."""

    run_id: str
    pipeline: str
    status: str
    steps: list[StepResult]
    params: dict[str, Any] = field(default_factory=dict)
    target: str = ""
    executor: str = ""
    start_time: int = 0
    end_time: int | None = None
    schedule_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status,
                "steps": [s.to_dict() for s in self.steps]}

    def step(self, name: str) -> StepResult:
        from gannet.core.errors import NotFound

        for s in self.steps:
            if s.name == name:
                return s
        raise NotFound(f"pipeline run {self.run_id} has no step {name!r}",
                       f"its steps: {', '.join(s.name for s in self.steps)}")


@dataclass
class Schedule:
    """A pipeline fired on a cron expression, or by each new version of a dataset."""

    schedule_id: str
    target: str
    cron: str | None
    params: dict[str, str]
    executor: str
    created_time: int
    dataset: str | None = None


@dataclass
class Firing:
    """One window of a schedule, fired (once) by some scheduler."""

    schedule_id: str
    window_time: int
    fired_time: int
    holder: str
    run_id: str | None
    status: str
