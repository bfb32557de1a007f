"""Tracking's plain domain types: what the service returns and the faces show.

Frozen dataclasses, no SQLAlchemy: rows are converted at the repository edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, BinaryIO, Generic, TypeVar

if TYPE_CHECKING:
    from gannet.tracking.environment import Environment

T = TypeVar("T")


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(StrEnum):
    """Which lifecycle stages a listing shows."""

    ACTIVE = "active"
    DELETED = "deleted"
    ALL = "all"


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)
    project: str = "default"  # the project that owns it (team mode's permissions)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    parent_run_id: str | None
    user_id: str
    source_name: str
    source_type: str
    git_commit: str | None
    lifecycle_stage: str
    artifact_uri: str

    @property
    def duration_ms(self) -> int | None:
        return None if self.end_time is None else self.end_time - self.start_time


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, float] = field(default_factory=dict)  # latest value per key
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData

    @property
    def run_id(self) -> str:
        return self.info.run_id


class LoggedModelStatus(StrEnum):
    """A logged model's files: being uploaded, all there, or their upload failed."""

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True)
class LoggedModel:
    """A model logged in an experiment (usually by a run) before any registration: MLflow
    3's "logged model", whose files are an MLflow model folder (``MLmodel`` and the rest)."""

    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    model_type: str | None
    status: LoggedModelStatus
    status_message: str | None
    user_id: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileInfo:
    """One entry of a run's artifact tree (a file, or a folder when ``is_dir``)."""

    path: str
    is_dir: bool
    size: int | None = None
    digest: str | None = None


@dataclass(frozen=True)
class OpenedArtifact:
    """An artifact file being read: ``reader`` gives its bytes ``start`` to ``stop``
    (excluded) of ``file.size``; close it when done."""

    file: FileInfo
    reader: BinaryIO
    start: int
    stop: int


@dataclass(frozen=True)
class UploadPlan:
    """What to send before logging files: the ``missing`` blobs (digests), and for those
    the store takes directly, ``urls``: digest -> (staging token, signed PUT URL)."""

    missing: list[str]
    urls: dict[str, tuple[str, str]] = field(default_factory=dict)


# -- the search language's parsed terms (tracking.filter_parser makes them) ----------


@dataclass(frozen=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` of a filter; ``value`` is None for IS [NOT] NULL."""

    entity: str  # "metric" | "param" | "tag" | "attribute"
    key: str
    op: str
    value: float | str | tuple[str, ...] | None


@dataclass(frozen=True)
class OrderKey:
    """One order_by item: sort by ``<entity>.<key>``, ascending or not."""

    entity: str
    key: str
    ascending: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_page_token`` is None on the last page."""

    items: list[T]
    next_page_token: str | None = None


def format_metric(value: float) -> str:
    """Show NaN and infinities as people read them, numbers compactly."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


# A metric point on its way to the store: (run_id, key, value, timestamp, step).
Point = tuple[str, str, float, int, int]
# A param or tag on its way to the store: (run_id, key, value).
KeyValue = tuple[str, str, str]


@dataclass
class Pending:
    """Validated writes waiting to be stored together (the SDK's buffer holds one).

    ``environments`` are (run_id, environment) of runs created before their environment
    was captured: stored as ``create_run(environment=...)`` would have, before the tags.
    """

    points: list[Point] = field(default_factory=list)
    params: list[KeyValue] = field(default_factory=list)
    tags: list[KeyValue] = field(default_factory=list)
    environments: list[tuple[str, Environment]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.points) + len(self.params) + len(self.tags) + len(self.environments)

    def merged_with(self, later: Pending) -> Pending:
        """This (older) batch followed by ``later``, keeping write order."""
        return Pending(
            self.points + later.points,
            self.params + later.params,
            self.tags + later.tags,
            self.environments + later.environments,
        )

    def halves(self) -> tuple[Pending, Pending]:
        """This batch as two, in write order (environments, params, tags, points, each
        group oldest first; the first half is the older): to find the entry a store refuses.
        Both halves have entries when this has two or more."""
        cut = self.size // 2
        first: list[list[Any]] = []
        second: list[list[Any]] = []
        for group in (self.environments, self.params, self.tags, self.points):
            take = min(cut, len(group))
            cut -= take
            first.append(group[:take])
            second.append(group[take:])
        return (
            Pending(first[3], first[1], first[2], first[0]),
            Pending(second[3], second[1], second[2], second[0]),
        )

    def count_for(self, run_id: str) -> int:
        groups = (self.points, self.params, self.tags, self.environments)
        return sum(1 for group in groups for e in group if e[0] == run_id)


@dataclass(frozen=True)
class WriteReport:
    """What a bulk write could not store, for the caller to raise at its next flush."""

    refused_runs: frozenset[str] = frozenset()  # deleted or unknown runs
    conflicts: tuple[str, ...] = ()  # params that already had another value
