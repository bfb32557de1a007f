"""Finding and reading what the registry holds: registered models and versions searched in
MLflow's registry search languages, and the files of a version's package one by one (a
REST face streams them to a client that downloads a version). ``RegistryService``
inherits these use cases.

Both languages are MLflow's (``SearchModelUtils``, ``SearchModelVersionUtils``): a
registered model has the attributes ``name``, ``creation_time`` (``creation_timestamp``,
``timestamp``), ``last_update_time`` (``last_updated_timestamp``) and ``description``; a
version ``name``, ``version_number``, ``run_id``, ``source`` (``source_path``),
``status``, the two times and ``description``; both have ``tags.<key>``. Registries hold
hundreds of models and thousands of versions, read whole and matched in Python
(``gannet.tracking.filter_match``), with the meaning the run search gives in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.errors import NotFound
from gannet.tracking.filter_match import Fields, select
from gannet.tracking.filter_parser import parse_filter, parse_order_by
from gannet.tracking.grammars import AttributeSpec, Grammar
from gannet.tracking.types import Comparison

if TYPE_CHECKING:
    from gannet.registry.types import ModelVersion, RegisteredModel
    from gannet.store.blobs import BlobStore
    from gannet.store.metadata import MetadataStore

_TIMES = {"creation_timestamp": "creation_time", "timestamp": "creation_time",
          "last_updated_timestamp": "last_update_time"}

REGISTERED_MODELS = Grammar(
    "registered model",
    {"name": AttributeSpec(), "description": AttributeSpec(),
     "creation_time": AttributeSpec(numeric=True), "last_update_time": AttributeSpec(numeric=True)},
    _TIMES,
    entities=("tag",),
)

MODEL_VERSIONS = Grammar(
    "model version",
    {"name": AttributeSpec(), "version_number": AttributeSpec(numeric=True),
     "run_id": AttributeSpec(nullable=True), "source": AttributeSpec(),
     "status": AttributeSpec(), "description": AttributeSpec(),
     "creation_time": AttributeSpec(numeric=True), "last_update_time": AttributeSpec(numeric=True)},
    {**_TIMES, "version": "version_number", "source_path": "source"},
    entities=("tag",),
)


class BrowsingUseCases:
    """Needs ``metadata``, ``blobs`` and the registry's reads of models and versions."""

    metadata: MetadataStore
    blobs: BlobStore

    def get_registered_model(self, name: str) -> RegisteredModel:
        raise NotImplementedError

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        raise NotImplementedError

    def _models(self, name_like: str | None, name: str | None) -> list[RegisteredModel]:
        raise NotImplementedError

    def _versions(self, name: str) -> list[ModelVersion]:
        raise NotImplementedError

    def search_registered_models(
        self,
        name_like: str | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[RegisteredModel]:
        """Registered models by name; ``name_like`` is a SQL LIKE pattern (``churn%``);
        ``filter_string`` and ``order_by`` MLflow's, e.g. ``"name LIKE 'churn%' AND
        tags.team = 'risk'"``, ``["last_updated_timestamp DESC"]``."""
        comparisons = parse_filter(filter_string, grammar=REGISTERED_MODELS)
        order = parse_order_by(order_by, grammar=REGISTERED_MODELS)
        found = self._models(name_like, _exact_name(comparisons))
        return select(found, comparisons, order, _model_fields)

    def search_model_versions(
        self,
        name: str | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[ModelVersion]:
        """The versions of ``name`` (which must exist), newest first; without a name, those
        of every model (by name, then newest first) that ``filter_string`` matches, e.g.
        ``"name = 'churn' AND tags.stage = 'ok'"`` or ``"run_id = '...'"`` (a model named
        in the filter that does not exist has no versions)."""
        comparisons = parse_filter(filter_string, grammar=MODEL_VERSIONS)
        order = parse_order_by(order_by, grammar=MODEL_VERSIONS)
        if name is not None:
            self.get_registered_model(name)
            names = [name]
        else:
            exact = _exact_name(comparisons)
            names = [m.name for m in self._models(None, exact)]
        found = [v for each in names for v in self._versions(each)]
        return select(found, comparisons, order, _version_fields)

    def version_files(self, name: str, version: int) -> list[tuple[str, str, int]]:
        """(path, digest, size) of every file of the version's package, sorted by path."""
        found = self.get_model_version(name, version)
        manifest = self.blobs.read_manifest(found.package_digest)
        return sorted((path, e.digest, e.size) for path, e in manifest.entries.items())

    def open_version_file(self, name: str, version: int, path: str) -> tuple[BinaryIO, int]:
        """A reader of one file of the version's package (verified as it is read), its size."""
        for file_path, digest, size in self.version_files(name, version):
            if file_path == path:
                return self.blobs.open_blob(digest), size
        raise NotFound(f"version {version} of {name!r} has no file {path!r}",
                       f"see its files: gannet models show {name}")


def _exact_name(comparisons: Sequence[Comparison]) -> str | None:
    """The one name an ``name = '...'`` comparison asks for, to read only that model."""
    for c in comparisons:
        if (c.entity, c.key, c.op) == ("attribute", "name", "=") and isinstance(c.value, str):
            return c.value
    return None


def _model_fields(model: RegisteredModel) -> Fields:
    return Fields({"name": model.name, "description": model.description,
                   "creation_time": model.creation_time,
                   "last_update_time": model.last_update_time}, tags=model.tags)


def _version_fields(version: ModelVersion) -> Fields:
    return Fields(
        {"name": version.name, "version_number": version.version, "run_id": version.run_id,
         "source": version.source, "status": version.status.value,
         "description": version.description, "creation_time": version.creation_time,
         "last_update_time": version.last_update_time},
        tags=version.tags,
    )
