"""What a saved training set was built from: each feature view at the version it was read
with, and the dataset versions those views read. These become lineage edges into the
dataset version the training set is stored as, so ``gannet lineage`` can walk from a model
back through its training set to the feature definitions and the data under them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gannet.features.sources import is_dataset_ref
from gannet.features.types import FeatureView
from gannet.lineage import DATASET_VERSION, FEATURE_VIEW

# (kind, id, context) of one lineage input: (FEATURE_VIEW, "churn_stats@2", "training set")
Input = tuple[str, str, str]
# (Arrow table, dataset name, message, lineage inputs, run id or None) -> the version's ref:
# the data capability's, handed to ``FeatureStore`` by the composition root
DatasetWriter = Callable[[Any, str, str, list[Input], "str | None"], str]


def training_set_inputs(views_used: Iterable[str], views: Mapping[str, FeatureView],
                        versions: Mapping[str, int]) -> list[Input]:
    """The lineage inputs of a training set read from ``views_used`` (stored and
    on-demand views by name; ``versions`` holds each one's newest version)."""
    inputs: list[Input] = []
    for name in dict.fromkeys(views_used):
        inputs.append((FEATURE_VIEW, f"{name}@{versions[name]}", "training set"))
        view = views.get(name)
        if view is not None and is_dataset_ref(view.source):
            inputs.append((DATASET_VERSION, view.source, f"source of {name}"[:100]))
    return inputs
