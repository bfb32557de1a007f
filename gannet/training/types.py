"""Continuous training's plain types: a policy as read from YAML, the state of its loop,
and the decisions the controller records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ACTIONS", "Decision", "Evaluation", "Guards", "Phase", "PipelineSpec", "Policy",
    "PolicyStatus", "Stage", "TickReport", "Trigger",
]

# what a decision did (``gannet policy history --json`` prints one of these per decision)
ACTIONS = ("trigger", "retrain", "gate", "canary", "promote", "rollback", "wait", "approve")
TIMEOUT_OUTCOMES = ("rollback", "promote", "wait")


class Phase(StrEnum):
    """Where a policy's loop is. ``promoted``, ``rolled_back`` and ``failed`` end a cycle:
    like ``idle``, the next trigger starts a new one."""

    IDLE = "idle"
    RETRAINING = "retraining"
    GATING = "gating"
    CANARY = "canary"
    AWAITING_APPROVAL = "awaiting_approval"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"  # the retrain failed, or the challenger failed its gates

    @property
    def resting(self) -> bool:
        return self in (Phase.IDLE, Phase.PROMOTED, Phase.ROLLED_BACK, Phase.FAILED)


@dataclass(frozen=True)
class Trigger:
    """One reason to retrain: ``kind`` is alert, schedule, dataset or performance."""

    kind: str
    alert: str | None = None  # alert rule name (fires when the rule goes to firing)
    cron: str | None = None  # schedule: 5 fields, UTC
    dataset: str | None = None  # a new version of this dataset
    monitor: str | None = None  # performance: the monitor whose latest report is read
    metric: str | None = None  # performance: e.g. performance.accuracy
    min: float | None = None  # performance: fires below this

    def describe(self) -> str:
        if self.kind == "alert":
            return f"alert {self.alert}"
        if self.kind == "schedule":
            return f"schedule {self.cron!r}"
        if self.kind == "dataset":
            return f"new version of dataset {self.dataset}"
        return f"{self.metric} of monitor {self.monitor} below {self.min:g}"


@dataclass(frozen=True)
class PipelineSpec:
    target: str  # FILE[:NAME], the file's path absolute
    params: dict[str, Any] = field(default_factory=dict)  # may hold ${dataset...}
    model_step: str | None = None  # the step whose output is the model (default: the one)
    executor: str = "local"


@dataclass(frozen=True)
class Evaluation:
    """Challenger against champion on the same held-out rows, then the registry's gates."""

    dataset: str | None = None  # held-out rows: a dataset reference (name[@version])
    label: str = "label"
    metric: str = "accuracy"
    direction: str = "higher"  # or "lower" (rmse, mae, log_loss)
    min_improvement: float = 0.0
    gates: str = "model"  # the registry's gates for @champion: "model" (its own, if any),
    # "required" (it must have some) or "none"


@dataclass(frozen=True)
class Guards:
    """Limits on live traffic during a canary stage; None: not checked."""

    error_rate: float | None = None  # max share of the challenger's requests that failed (5xx)
    latency_p99_ms: float | None = None  # max
    prediction_drift: float | None = None  # max Jensen-Shannon distance vs the champion
    performance_metric: str | None = None  # live performance where labels exist
    performance_min: float | None = None
    min_labels: int = 10  # fewer labels: the performance guard is not judged yet

    def to_dict(self) -> dict[str, Any]:
        found = {k: v for k, v in asdict(self).items() if v is not None}
        if self.performance_metric is None:
            found.pop("min_labels")
        return found


@dataclass(frozen=True)
class Stage:
    weight: float  # percent of traffic to the challenger
    duration_s: float = 0.0  # at least this long
    min_requests: int = 0  # at least this many challenger requests
    timeout_s: float = 3600.0  # then ``on_timeout`` when still short of traffic
    on_timeout: str = "rollback"
    approval: bool = False  # a person approves before traffic moves
    guards: Guards = field(default_factory=Guards)


@dataclass(frozen=True)
class Policy:
    name: str
    model: str
    deployment: str
    triggers: tuple[Trigger, ...]
    pipeline: PipelineSpec
    evaluation: Evaluation
    stages: tuple[Stage, ...]
    metrics_urls: tuple[str, ...] = ()  # inference servers whose /metrics count errors
    source: str = ""  # the YAML text, as applied

    def datasets(self) -> list[str]:
        return [t.dataset for t in self.triggers if t.dataset]


@dataclass
class PolicyStatus:
    """A policy's row: its loop's phase, stage and working data, as persisted."""

    name: str
    model: str
    phase: Phase
    stage: int
    paused: bool
    data: dict[str, Any]
    updated_time: int
    applied_time: int
    revision: int  # bumped by every write: a write from a stale read is refused
    policy: Policy | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "phase": str(self.phase),
                "stage": self.stage, "paused": self.paused, "data": self.data,
                "updated_time": self.updated_time, "applied_time": self.applied_time}


@dataclass(frozen=True)
class Decision:
    """One thing the controller decided, why, with its numbers (newest first in history)."""

    id: str
    policy: str
    action: str
    reason: str
    numbers: dict[str, Any]
    at: int
    cycle: str | None = None  # the trigger that started this cycle (its decision id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TickReport:
    """What one ``tick`` did: whether this controller held the lease, and its decisions."""

    holder: str
    leader: bool
    decisions: list[Decision] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # policy -> what went wrong

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "leader": self.leader, "errors": self.errors,
                "decisions": [d.to_dict() for d in self.decisions]}
