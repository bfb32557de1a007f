"""Monitoring's plain types: a monitor, its options, one report of the time series."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Monitor", "MonitorOptions", "MonitorReport", "RunSummary"]


@dataclass
class MonitorOptions:
    """What a monitor watches and how (JSON in the ``monitors`` table)."""

    window: str = "hour"  # "hour", "day" or "rows:N" (the last N rows)
    features: list[str] = field(default_factory=list)  # empty: every reference column
    prediction: str = "prediction"  # the reference's column of predictions, if any
    slices: list[str] = field(default_factory=list)  # features to split performance by
    method: str | dict[str, str] = "auto"
    threshold: float | dict[str, float] | None = None
    correction: str | None = None  # "bh": Benjamini-Hochberg over the columns
    drift_share: float = 0.5
    min_rows: int = 30
    task: str = "auto"  # "classification", "regression" or "auto"
    label_horizon_s: float = 7 * 86400.0  # windows this recent take late labels
    sample_rows: int = 100_000  # a bigger window is tested on a uniform sample (0: never)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Monitor:
    name: str
    deployment: str
    reference_digest: str
    reference_source: str
    options: MonitorOptions
    watermark: int | None
    created_time: int
    last_run_time: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "options": self.options.to_dict()}


@dataclass
class MonitorReport:
    """One window's report (``body``: the JSON of ``gannet.monitoring.evaluate``)."""

    monitor: str
    window_start: int
    window_end: int
    rows: int
    partial: bool
    status: str
    drift_share: float | None
    body: dict[str, Any]
    updated_time: int

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.body.get("metrics", {}))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunSummary:
    """What one ``run_monitor`` did."""

    monitor: str
    rows_read: int
    reports: list[MonitorReport]
    watermark: int | None
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"monitor": self.monitor, "rows_read": self.rows_read,
                "watermark": self.watermark, "alerts": self.alerts,
                "reports": [r.to_dict() for r in self.reports]}
