"""The composition root: settings -> stores -> services.

The only module that names concrete stores. The SDK, CLI and server call ``build`` and
use the services it returns; tests do the same with their own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gannet.auth.service import AuthService
from gannet.core.settings import Settings
from gannet.registry.service import RegistryService
from gannet.serving.deployments.service import DeploymentService
from gannet.store.blobs import BlobStore
from gannet.store.metadata import MetadataStore
from gannet.tracking.service import TrackingService


@dataclass
class Services:
    settings: Settings
    metadata: MetadataStore
    blobs: BlobStore
    tracking: TrackingService
    auth: AuthService
    registry: RegistryService
    deployments: DeploymentService

    def close(self) -> None:
        self.metadata.close()


def build(settings: Settings | None = None, **overrides: Any) -> Services:
    """Open the stores named by ``settings`` (migrating the metadata store) and wire services."""
    if settings is None:
        settings = Settings.load(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    metadata = open_metadata(settings)
    try:
        metadata.upgrade()
    except BaseException:
        metadata.close()
        raise
    blobs = BlobStore(
        settings.artifacts_url, threads=settings.transfer_threads, progress=settings.progress
    ).open()
    tracking = TrackingService(metadata, blobs, settings)
    auth = AuthService(metadata, settings)
    registry = RegistryService(metadata, blobs, tracking, auth, settings)
    return Services(
        settings=settings,
        metadata=metadata,
        blobs=blobs,
        tracking=tracking,
        auth=auth,
        registry=registry,
        deployments=DeploymentService(metadata, registry, auth, settings),
    )


def open_metadata(settings: Settings) -> MetadataStore:
    """The metadata store named by ``settings``, connected but not migrated."""
    import gannet.auth.tables
    import gannet.registry.tables
    import gannet.serving.deployments.tables
    import gannet.tracking.tables  # noqa: F401

    return MetadataStore(settings.metadata_url, lock_timeout=settings.lock_timeout).open()
