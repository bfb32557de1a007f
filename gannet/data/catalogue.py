"""The catalogue (what each dataset is, who owns it, how fresh it is, who used it) and
the lineage edges between dataset versions, runs and model versions."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.errors import InvalidArgument, NotFound
from gannet.data import repository
from gannet.data.refs import check_name
from gannet.data.transfer import may_read, may_write
from gannet.data.types import AddResult, Dataset, DatasetVersion, Usage
from gannet.lineage import DATASET_VERSION, MODEL_VERSION, RUN

if TYPE_CHECKING:
    from gannet.lineage.service import LineageService
    from gannet.registry.service import RegistryService
    from gannet.store.metadata import MetadataStore
    from gannet.tracking.service import TrackingService

_MODEL_VERSION = re.compile(r"^(?:models:/)?([^/@]+)/(\d+)$")


class Catalogue:
    metadata: MetadataStore
    lineage: LineageService

    @property
    def tracking(self) -> TrackingService:
        raise NotImplementedError

    @property
    def registry(self) -> RegistryService:
        raise NotImplementedError

    def _find(self, ref: str) -> DatasetVersion:
        raise NotImplementedError

    def add_table(self, table: Any, name: str, **options: Any) -> AddResult:
        raise NotImplementedError

    def get_dataset(self, name: str) -> Dataset:
        may_read()
        check_name(name)
        with self.metadata.read() as conn:
            found = repository.get_dataset(conn, name)
            latest = repository.latest_version(conn, name)
            count = len(repository.versions(conn, name))
        if found is None:
            raise NotFound(f"no dataset named {name!r}", "see the datasets with: gannet data list")
        return replace(found, latest=latest, version_count=count)

    def list_datasets(self) -> list[Dataset]:
        """Every dataset with its newest live version, by name."""
        may_read()
        with self.metadata.read() as conn:
            return repository.find_datasets(conn)

    def describe(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        keywords: list[str] | None = None,
        columns: dict[str, str] | None = None,
    ) -> Dataset:
        """Set what is given of the dataset's catalogue entry (column descriptions are
        merged; an empty description removes one)."""
        may_write(f"describe dataset {name!r}")
        current = self.get_dataset(name)
        values: dict[str, Any] = {}
        if description is not None:
            values["description"] = description
        if owner is not None:
            values["owner"] = owner
        if keywords is not None:
            values["keywords"] = sorted({k.strip() for k in keywords if k.strip()})
        if columns:
            merged = {**current.column_descriptions, **columns}
            values["column_descriptions"] = {k: v for k, v in merged.items() if v}
        with self.metadata.write() as conn:
            repository.update_dataset(conn, name, now_ms(), **values)
        return self.get_dataset(name)

    def search(
        self,
        text: str | None = None,
        *,
        owner: str | None = None,
        tag: str | None = None,
        column: str | None = None,
    ) -> list[Dataset]:
        """Datasets whose name, keyword, owner or column name contains ``text`` (any case),
        narrowed by an exact ``owner``, a ``tag`` (a keyword or a version tag) and a
        ``column`` name of the latest version."""
        may_read()
        with self.metadata.read() as conn:
            return repository.find_datasets(conn, text, owner=owner, tag=tag, column=column)

    # -- lineage -----------------------------------------------------------------------

    def log_input(self, run_id: str, ref: str, context: str = "") -> DatasetVersion:
        """Record that run ``run_id`` used the dataset version ``ref`` (as ``context``)."""
        version = self._find(ref)
        self.tracking.check_run_active(run_id)  # the caller may log to it
        self.lineage.record(DATASET_VERSION, version.ref, RUN, run_id, context)
        return version

    def log_inputs(
        self, run_id: str, tags: dict[str, str], inputs: Sequence[tuple[str, str]]
    ) -> list[str]:
        """MLflow's ``runs/log-inputs``: the run's dataset ``tags``, and a lineage edge for
        each input (name, context) whose name is a live Gannet dataset version (others,
        MLflow's own datasets, stay tags only); returns the versions linked."""
        self.tracking.log_batch(run_id, tags=tags)
        linked = []
        for name, context in inputs:
            try:
                version = self._find(name)
            except (InvalidArgument, NotFound):
                continue
            self.lineage.record(DATASET_VERSION, version.ref, RUN, run_id, context[:100])
            linked.append(version.ref)
        return linked

    def add_derived(
        self, table: Any, name: str, *, message: str = "",
        inputs: Sequence[tuple[str, str, str]] = (), run_id: str | None = None,
    ) -> AddResult:
        """Add a table made from other things (a training set from feature views) with a
        lineage edge from each input (kind, id, context; dataset versions by any ref) and,
        with ``run_id``, as an input of that run ("training")."""
        if run_id is not None:
            self.tracking.check_run_active(run_id)  # before the work, not after it
        found = [(kind, self._find(node).ref if kind == DATASET_VERSION else node, context)
                 for kind, node, context in inputs]
        result = self.add_table(table, name, message=message)
        ref = result.version.ref
        for kind, node, context in found:
            self.lineage.record(kind, node, DATASET_VERSION, ref, context)
        if run_id is not None:
            self.lineage.record(DATASET_VERSION, ref, RUN, run_id, "training")
        return result

    def usage(self, ref: str) -> Usage:
        """Lineage both ways: the runs and model versions that used a dataset version; the
        dataset versions a run (``runs:/ID``) or a model version (``churn-model/4``) used."""
        if ref.startswith(("runs:/", "run:")):
            run_id = ref.split(":", 1)[1].lstrip("/")
            self.tracking.get_run(run_id)
            return Usage(ref, RUN, self._inputs([run_id]), [{"run_id": run_id}],
                         self._models_of([run_id]))
        model = _MODEL_VERSION.match(ref)
        if model is not None:
            mv = self.registry.get_model_version(model.group(1), int(model.group(2)))
            made_by = [mv.run_id] if mv.run_id else []
            used = self._inputs(made_by)
            listed = {u["dataset_version"] for u in used}
            used += [u for u in self._upstream(MODEL_VERSION, [mv.ref])
                     if u["dataset_version"] not in listed]
            return Usage(ref, MODEL_VERSION, used, [{"run_id": r} for r in made_by], [mv.ref])
        version = self._find(ref)
        edges = self.lineage.users_of(DATASET_VERSION, [version.ref])
        runs = [{"run_id": e.to_id, "context": e.context, "at": e.at}
                for e in edges if e.to_kind == RUN]
        run_ids = list(dict.fromkeys(e.to_id for e in edges if e.to_kind == RUN))
        made_from = [{"kind": e.from_kind, "id": e.from_id, "context": e.context, "at": e.at}
                     for e in self.lineage.inputs_of(DATASET_VERSION, [version.ref])]
        return Usage(version.ref, DATASET_VERSION, [], runs, self._models_of(run_ids),
                     made_from)

    def _inputs(self, run_ids: list[str]) -> list[dict[str, Any]]:
        return [{"dataset_version": e.from_id, "context": e.context, "at": e.at,
                 "run_id": e.to_id}
                for e in self.lineage.inputs_of(RUN, run_ids) if e.from_kind == DATASET_VERSION]

    def _upstream(self, kind: str, ids: list[str], hops: int = 4) -> list[dict[str, Any]]:
        """Dataset versions found by walking lineage edges upstream from ``ids``: a model
        version a training policy made descends from its dataset through the policy's
        trigger and pipeline run (dataset -> trigger -> run -> model version)."""
        found: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        frontier: dict[str, list[str]] = {kind: ids}
        for _ in range(hops):
            upstream: dict[str, list[str]] = {}
            for node_kind, node_ids in frontier.items():
                for e in self.lineage.inputs_of(node_kind, node_ids):
                    if (e.from_kind, e.from_id) in seen:
                        continue
                    seen.add((e.from_kind, e.from_id))
                    if e.from_kind == DATASET_VERSION:
                        found.append({"dataset_version": e.from_id, "context": e.context,
                                      "at": e.at,
                                      "run_id": e.to_id if e.to_kind == RUN else None})
                    else:
                        upstream.setdefault(e.from_kind, []).append(e.from_id)
            if not upstream:
                break
            frontier = upstream
        return found

    def _models_of(self, run_ids: list[str]) -> list[str]:
        """Model versions made from these runs: a model version inherits its run's inputs."""
        made = self._models_by_run(run_ids)
        return [ref for run_id in run_ids for ref in made.get(run_id, [])]

    def _models_by_run(self, run_ids: Collection[str]) -> dict[str, list[str]]:
        """run id -> the model versions made from it, in one read of the registry."""
        if not run_ids:
            return {}
        wanted = set(run_ids)
        made: dict[str, list[str]] = {}
        for version in self.registry.search_model_versions():
            if version.run_id is not None and version.run_id in wanted:
                made.setdefault(version.run_id, []).append(version.ref)
        return made
