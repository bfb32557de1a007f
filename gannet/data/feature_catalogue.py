"""Feature views in the data catalogue: each one's owner, description and freshness, the
training sets saved from it, and the model versions and deployments that use it.

The feature store sits below this layer and the deployments beside it, so both come in as
callables the composition root passes (``features``, ``deployed_features``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
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
        def _models_by_run(self, run_ids: Collection[str]) -> dict[str, list[str]]: ...

        def search(self, text: str | None = None) -> list[Dataset]: ...

    def catalogue(self, text: str | None = None) -> tuple[list[Dataset], list[FeatureViewEntry]]:
        """The datasets and the feature views (whose name, description, owner, keyword,
        tag, column or feature contains ``text``)."""
        return self.search(text), self.feature_views(text)

    def feature_views(self, text: str | None = None) -> list[FeatureViewEntry]:
        """The registered feature views (whose name, description, owner, tag or feature
        contains ``text``, any case), each with its freshness and its users: three reads
        (lineage twice, the registry once) for all the views together, however many."""
        may_read("read the catalogue")
        if self._features is None:
            return []
        store = self._features()
        records = [r for r in store.list_definitions()
                   if r["kind"] == "feature_view" and _matches(r, text)]
        staleness = store.staleness()
        deployed = self._deployed_features() if self._deployed_features else []
        saved = self._training_sets(records)
        runs = self._runs_of([ref for refs in saved.values() for ref in refs])
        models = self._models_by_run({r for refs in runs.values() for r in refs})
        entries = []
        for record in records:
            name = record["name"]
            made = [m for ref in saved.get(name, []) for run in runs.get(ref, [])
                    for m in models.get(run, [])]
            entries.append(_entry(record, staleness.get(name), list(dict.fromkeys(made)),
                                  saved.get(name, []), deployed))
        return entries

    def _training_sets(self, records: list[dict[str, Any]]) -> dict[str, list[str]]:
        """view name -> the dataset versions saved from any of its versions."""
        versions = [f"{r['name']}@{v}" for r in records for v in range(1, r["version"] + 1)]
        saved: dict[str, list[str]] = {}
        for edge in self.lineage.users_of(FEATURE_VIEW, versions):
            if edge.to_kind == DATASET_VERSION:
                refs = saved.setdefault(edge.from_id.rpartition("@")[0], [])
                if edge.to_id not in refs:
                    refs.append(edge.to_id)
        return saved

    def _runs_of(self, dataset_versions: list[str]) -> dict[str, list[str]]:
        """dataset version -> the runs that read it."""
        runs: dict[str, list[str]] = {}
        for edge in self.lineage.users_of(DATASET_VERSION, dataset_versions):
            if edge.to_kind == RUN and edge.to_id not in runs.get(edge.from_id, []):
                runs.setdefault(edge.from_id, []).append(edge.to_id)
        return runs


def _entry(record: dict[str, Any], staleness: float | None, models: list[str],
           saved: list[str], deployed: list[tuple[str, list[str], list[str]]]
           ) -> FeatureViewEntry:
    name, view = record["name"], record["definition"]
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


def _matches(record: dict[str, Any], text: str | None) -> bool:
    if not text:
        return True
    needle, view = text.lower(), record["definition"]
    tags = dict(view.get("tags") or {})
    haystack = [record["name"], view.get("description", ""), view.get("owner", ""),
                *(view.get("features") or {}), *tags.keys(), *tags.values()]
    return any(needle in part.lower() for part in haystack)
