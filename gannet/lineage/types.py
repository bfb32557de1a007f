"""The lineage graph's plain types."""

from __future__ import annotations

from dataclasses import dataclass

# The kinds of node an edge joins (capabilities may add their own).
DATASET_VERSION = "dataset_version"
RUN = "run"
MODEL_VERSION = "model_version"
FEATURE_VIEW = "feature_view"  # a feature view at one version: ``churn_stats@2``


@dataclass(frozen=True, slots=True)
class Edge:
    """``from_kind:from_id`` was used by ``to_kind:to_id`` (in ``context``, at ``at`` ms)."""

    from_kind: str
    from_id: str
    to_kind: str
    to_id: str
    context: str
    at: int
