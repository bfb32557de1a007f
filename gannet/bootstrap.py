"""The composition root: settings -> stores -> services.

The only module that names concrete stores. The SDK, CLI and server call ``build`` and
use the services it returns; tests do the same with their own settings.

Composition is lazy: ``build`` opens (and migrates) the metadata store, and every other
part is made the first time it is asked for, importing its module only then. A training
script that only logs metrics never imports the registry, serving or a model library.

``default_services`` is the process's default composition, which code below the faces
reaches through entry points (``gannet.models.load_model("churn@champion")`` asks the
``load_model`` resolver here). The fluent SDK makes its client's services the default,
so ``gannet.configure(...)`` applies to both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from gannet.auth.oidc import OidcService
    from gannet.auth.service import AuthService
    from gannet.data.service import DataService
    from gannet.data.types import DatasetVersion
    from gannet.data.validation.service import ValidationService
    from gannet.features.service import FeatureStore
    from gannet.interop.service import MlflowImportService
    from gannet.lineage.service import LineageService
    from gannet.models.package import LoadedModel
    from gannet.monitoring.alerts.service import AlertService
    from gannet.monitoring.service import MonitorService
    from gannet.pipelines.service import PipelineService
    from gannet.registry.responsible import ResponsibleAIService
    from gannet.registry.service import RegistryService
    from gannet.serving.deployments.service import DeploymentService
    from gannet.serving.log.reader import InferenceLog
    from gannet.store.blobs import BlobStore
    from gannet.store.gc.service import GarbageCollector
    from gannet.store.replies.service import ReplyStore
    from gannet.tracking.service import TrackingService
    from gannet.training.service import TrainingService

T = TypeVar("T")


class Services:
    """The stores and services of one ``Settings``; each is built on first use, once."""

    def __init__(self, settings: Settings, metadata: MetadataStore) -> None:
        self.settings = settings
        self.metadata = metadata
        self._built: dict[str, Any] = {}
        self._lock = threading.RLock()

    def _part(self, name: str, make: Callable[[], T]) -> T:
        part = self._built.get(name)
        if part is None:
            with self._lock:
                part = self._built.get(name)
                if part is None:
                    part = self._built[name] = make()
        return part

    @property
    def blobs(self) -> BlobStore:
        from gannet.store.blobs import BlobStore

        s = self.settings
        return self._part(
            "blobs",
            lambda: BlobStore(s.artifacts_url, threads=s.transfer_threads, progress=s.progress),
        )

    @property
    def tracking(self) -> TrackingService:
        from gannet.tracking.service import TrackingService

        return self._part(
            "tracking", lambda: TrackingService(self.metadata, self.blobs, self.settings)
        )

    @property
    def auth(self) -> AuthService:
        from gannet.auth.service import AuthService

        return self._part(
            "auth", lambda: AuthService(self.metadata, self.settings, holdings=self._holdings)
        )

    @property
    def oidc(self) -> OidcService:
        from gannet.auth.oidc import OidcService

        return self._part("oidc", lambda: OidcService(self.metadata, self.auth, self.settings))

    def _holdings(self, project: str) -> dict[str, int]:
        """What ``project`` still owns, by kind (a project is deleted only when empty)."""
        return {
            "experiments": self.tracking.count_in_project(project),
            "registered models": self.registry.count_in_project(project),
            "deployments": self.deployments.count_in_project(project),
        }

    @property
    def registry(self) -> RegistryService:
        from gannet.registry.service import RegistryService

        def make() -> RegistryService:
            service = RegistryService(self.metadata, self.blobs, self.tracking, self.auth,
                                      self.settings)
            service.datasets_of = lambda ref: self.data.usage(ref).datasets
            return service

        return self._part("registry", make)

    @property
    def rai(self) -> ResponsibleAIService:
        """Explanations and fairness results of model versions (held-out data may be a
        dataset version, read through the data capability)."""
        from gannet.registry.responsible import ResponsibleAIService

        return self._part("rai", lambda: ResponsibleAIService(
            self.registry, self.settings, read_dataset=self._dataset_table))

    @property
    def deployments(self) -> DeploymentService:
        from gannet.serving.deployments.service import DeploymentService

        return self._part(
            "deployments",
            lambda: DeploymentService(self.metadata, self.registry, self.auth, self.settings,
                                      check_feature_refs=self._check_feature_refs),
        )

    @property
    def inference_log(self) -> InferenceLog:
        """The inference log named by the settings, its queries confined to its own files
        (what the team server answers SQL from callers with)."""
        from gannet.serving.log.reader import InferenceLog
        from gannet.serving.log.schema import default_root

        s = self.settings
        return self._part(
            "inference_log",
            lambda: InferenceLog(default_root(s), cache=s.home / "cache" / "inference-log",
                                 confined=True),
        )

    @property
    def validation(self) -> ValidationService:
        from gannet.data.validation.service import ValidationService

        return self._part(
            "validation", lambda: ValidationService(
                self.metadata, self.tracking, self.settings,
                read_feature_view=lambda name: self.features.view_table(name)),
        )

    @property
    def features(self) -> FeatureStore:
        """Feature definitions, training sets and the online store (``features_online_url``)."""
        from gannet.features.service import FeatureStore

        return self._part("features", lambda: FeatureStore(
            self.metadata, self.settings, resolve_dataset=self._dataset_path,
            write_dataset=self._write_dataset, users_of=self._feature_view_users))

    def _feature_view_users(self, view: str) -> list[str]:
        """The model versions and deployments using ``view``, from the data catalogue."""
        for entry in self.data.feature_views(view):
            if entry.name == view:
                return [*entry.model_versions, *(f"deployment {d}" for d in entry.deployments)]
        return []

    @property
    def alerts(self) -> AlertService:
        from gannet.monitoring.alerts.service import AlertService

        return self._part("alerts", lambda: AlertService(self.metadata))

    @property
    def monitoring(self) -> MonitorService:
        from gannet.monitoring.service import MonitorService

        return self._part(
            "monitoring",
            lambda: MonitorService(self.metadata, self.blobs, self.inference_log,
                                   self.settings, alerts=self.alerts,
                                   read_dataset=self._dataset_table),
        )

    @property
    def interop(self) -> MlflowImportService:
        from gannet.interop.service import MlflowImportService

        return self._part("interop", lambda: MlflowImportService(self.tracking, self.registry))

    @property
    def pipelines(self) -> PipelineService:
        import functools

        from gannet.pipelines.service import PipelineService
        from gannet.store.blobs import BlobStore

        s = self.settings
        # what a worker process opens the blob store with (pickled to it)
        opener = functools.partial(BlobStore, s.artifacts_url, threads=s.transfer_threads,
                                   progress=False)
        def make() -> PipelineService:
            service = PipelineService(self.metadata, self.blobs, self.tracking, s, opener)
            service.latest_dataset_version = self._latest_dataset_version
            service.resolve_dataset = self._resolve_dataset
            service.lineage = self.lineage
            service.materialize_features = self._materialize_features
            service.register_model = self._register_model
            return service

        return self._part("pipelines", make)

    def _register_model(self, source: str, name: str, tags: dict[str, str]) -> str:
        """A model a pipeline step returned, as a new version of ``name``: ``NAME/VERSION``."""
        version = self.registry.register_model(source, name, tags=tags)
        return f"{version.name}/{version.version}"

    def _materialize_features(self, views: Any) -> object:
        """An incremental materialization (what ``features.materialize`` schedules fire)."""
        return self.features.materialize(views=views)

    def _check_feature_refs(self, refs: Any) -> object:
        """Feature references a deployment names, checked against the registered views."""
        return self.features.check_refs(refs)

    def _dataset_path(self, ref: str) -> str:
        """The verified local file or folder of dataset version ``ref`` (feature views'
        sources)."""
        return str(self.data.local_path(ref))

    def _write_dataset(self, table: Any, name: str, message: str,
                       inputs: list[tuple[str, str, str]], run_id: str | None) -> str:
        """A training set stored as a dataset version with its lineage (its ref)."""
        return self.data.add_derived(table, name, message=message, inputs=inputs,
                                     run_id=run_id).version.ref

    def _deployed_features(self) -> list[tuple[str, list[str], list[str]]]:
        """(deployment, model refs, feature refs) of each deployment that looks features up."""
        return [(d.name, [r.ref for r in d.routes], list(d.features))
                for d in self.deployments.list_deployments() if d.features]

    def _dataset_table(self, ref: str) -> Any:
        """Dataset version ``ref`` as one Arrow table (monitors' references)."""
        return self.data.open(ref, as_="arrow").to_table()

    def _resolve_dataset(self, ref: str) -> DatasetVersion:
        """The dataset version ``ref`` names (what a pipeline step taking one receives)."""
        return self.data.resolve(ref)

    def _latest_dataset_version(self, name: str) -> tuple[int, int] | None:
        """(version, made at) of dataset ``name``'s latest version; None when it has none
        (the scheduler fires the pipelines scheduled on new versions with it)."""
        from gannet.core.errors import NotFound

        try:
            latest = self.data.resolve(name)
        except NotFound:
            return None
        return latest.version, latest.creation_time

    @property
    def lineage(self) -> LineageService:
        from gannet.lineage.service import LineageService

        return self._part("lineage", lambda: LineageService(self.metadata))

    @property
    def data(self) -> DataService:
        from gannet.data.service import DataService

        return self._part(
            "data",
            lambda: DataService(
                self.metadata, self.blobs, self.settings, tracking=lambda: self.tracking,
                registry=lambda: self.registry, lineage=self.lineage,
                features=lambda: self.features, deployed_features=self._deployed_features,
            ),
        )

    @property
    def gc(self) -> GarbageCollector:
        from gannet.store.gc.service import GarbageCollector

        return self._part(
            "gc",
            lambda: GarbageCollector(
                self.metadata, self.blobs,
                [self.tracking, self.registry, self.pipelines, self.data, self.monitoring],
                self.settings,
            ),
        )

    @property
    def training(self) -> TrainingService:
        """Continuous-training policies and the controller's ``tick`` (every service the
        loop calls, made now)."""
        from gannet.training.service import Parts, TrainingService

        def make() -> TrainingService:
            parts = Parts(auth=self.auth, registry=self.registry, deployments=self.deployments,
                          pipelines=self.pipelines, data=self.data, lineage=self.lineage,
                          monitoring=self.monitoring, alerts=self.alerts,
                          inference_log=self.inference_log)
            return TrainingService(self.metadata, self.settings, parts)

        return self._part("training", make)

    @property
    def replies(self) -> ReplyStore:
        """Answers the team server keeps for retried requests (``Idempotency-Key``)."""
        from gannet.store.replies.service import ReplyStore

        return self._part("replies", lambda: ReplyStore(self.metadata))

    def close(self) -> None:
        alerts = self._built.get("alerts")
        if alerts is not None:  # pages under way record their delivery in the store
            alerts.wait_for_deliveries(CLOSE_WAIT_SECONDS)
        features = self._built.get("features")
        if features is not None:
            features.close()
        self.metadata.close()


def build(settings: Settings | None = None, **overrides: Any) -> Services:
    """Open the metadata store named by ``settings`` (migrating it); the rest comes lazily.

    With the ``uri`` setting, the services of the team server it names instead."""
    if settings is None:
        settings = Settings.load(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    if settings.uri:
        from gannet.remote import RemoteServices

        # the same calls over a team server's REST API (its stores are the server's)
        return cast(Services, RemoteServices(settings))
    metadata = open_metadata(settings)
    try:
        metadata.upgrade()
    except BaseException:
        metadata.close()
        raise
    return Services(settings, metadata)


def open_metadata(settings: Settings) -> MetadataStore:
    """The metadata store named by ``settings``, connected but not migrated."""
    source = settings.sources.get("metadata_url", "default")
    return MetadataStore(
        settings.metadata_url,
        lock_timeout=settings.lock_timeout,
        create_folder=source == "default",  # the home's own database: made on first use
        source=settings.described("metadata_url"),
    ).open()


# -- the process's default composition -----------------------------------------------------

_default_lock = threading.Lock()
_default: tuple[int, Services] | None = None
# how long closing waits for alert pages under way (a webhook's retries are bounded)
CLOSE_WAIT_SECONDS = 30.0
_default_source: Callable[[], Services] | None = None


def default_services() -> Services:
    """The services the fluent SDK uses, else ones built from ``Settings.load()`` (per process:
    a forked child builds its own, as stores are never shared across a fork)."""
    global _default
    if _default_source is not None:
        return _default_source()
    with _default_lock:
        if _default is None or _default[0] != os.getpid():
            _default = (os.getpid(), build())
        return _default[1]


def use_default_services(source: Callable[[], Services] | None) -> None:
    """Make ``source()`` the process's default services (None: back to ``Settings.load()``)."""
    global _default_source
    _default_source = source


def feature_store() -> FeatureStore:
    """The ``gannet.feature_stores`` entry point: the default services' feature store."""
    return default_services().features


def load_model(ref: str, **options: Any) -> LoadedModel:
    """The ``gannet.model_resolvers`` entry point: a registry reference, loaded verified."""
    return default_services().registry.load_model(ref, **options)


def data_service() -> DataService:
    """The ``gannet.data_services`` entry point: ``gannet.data.add/open`` use this one."""
    return default_services().data
