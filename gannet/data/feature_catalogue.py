"""Feature views in the data catalogue: each one's owner, description and freshness, the
training sets saved from it, and the model versions and deployments that use it.

The feature store sits below this layer and the deployments beside it, so both come in as
callables the composition root passes (``features``, ``deployed_features``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gannet.data.transfer import may_read
from gannet.data.types import Dataset, FeatureViewEntry
from gannet.lineage import DATASET_VERSION, FEATURE_VIEW, RUN

if TYPE_CHECKING:
    from gannet.features.service import FeatureStore
    from gannet.lineage.service import LineageService

# (deployment name, the model refs it routes to, the feature refs it looks up)
DeployedFeatures = Callable[[], list[tuple[str, list[str], list[str]]]]


class FeatureViewCatalogue:
    lineage: LineageService
    _features: Callable[[], FeatureStore] | None
    _deployed_features: DeployedFeatures | None

    if TYPE_CHECKING:
        def _models_of(self, run_ids: list[str]) -> list[str]: ...

        def search(self, text: str | None = None) -> list[Dataset]: ...

    def catalogue(self, text: str | None = None) -> tuple[list[Dataset], list[FeatureViewEntry]]:
        """The datasets and the feature views (whose name, description, owner, keyword,
        tag, column or feature contains ``text``)."""
        return self.search(text), self.feature_views(text)

    def feature_views(self, text: str | None = None) -> list[FeatureViewEntry]:
        """The registered feature views (whose name, description, owner, tag or feature
        contains ``text``, any case), each with its freshness and its users."""
        may_read("read the catalogue")
        if self._features is None:
            return []
        store = self._features()
        records = [r for r in store.list_definitions() if r["kind"] == "feature_view"]
        staleness = store.staleness()
        deployed = self._deployed_features() if self._deployed_features else []
        entries = []
        for record in records:
            entry = self._entry(record, staleness.get(record["name"]), deployed)
            if _matches(entry, text):
                entries.append(entry)
        return entries

    def _entry(self, record: dict[str, Any], staleness: float | None,
               deployed: list[tuple[str, list[str], list[str]]]) -> FeatureViewEntry:
        name, view = record["name"], record["definition"]
        versions = [f"{name}@{v}" for v in range(1, record["version"] + 1)]
        saved = list(dict.fromkeys(e.to_id for e in self.lineage.users_of(FEATURE_VIEW, versions)
                                   if e.to_kind == DATASET_VERSION))
        runs = list(dict.fromkeys(e.to_id for e in self.lineage.users_of(DATASET_VERSION, saved)
                                  if e.to_kind == RUN))
        models = self._models_of(runs)
        deployments = []
        for deployment, refs, features in deployed:
            if any(f.partition(":")[0] == name for f in features):
                deployments.append(deployment)
                models += [r for r in refs if r not in models]
        return FeatureViewEntry(
            name=name, version=record["version"], description=view.get("description", ""),
            owner=view.get("owner", ""), tags=dict(view.get("tags") or {}),
            entities=list(view.get("entities") or []),
            features=list(view.get("features") or {}), source=view.get("source", ""),
            updated_time=record["created_time"], staleness_s=staleness,
            model_versions=models, deployments=deployments, training_sets=saved)


def _matches(entry: FeatureViewEntry, text: str | None) -> bool:
    if not text:
        return True
    needle = text.lower()
    haystack = [entry.name, entry.description, entry.owner, *entry.features,
                *entry.tags.keys(), *entry.tags.values()]
    return any(needle in part.lower() for part in haystack)
