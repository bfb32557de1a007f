"""The registry's signing keys, and loading a registered version verified: its manifest's
signature by a trusted key, then every file against the manifest (``packages``).
``RegistryService`` inherits these use cases."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gannet.registry import packages
from gannet.registry.types import ModelVersion, SigningKey

if TYPE_CHECKING:
    from gannet.core.settings import Settings
    from gannet.models.package import LoadedModel
    from gannet.models.reference import ModelRef
    from gannet.registry.signing import KeyRing
    from gannet.store.blobs import BlobStore


class LoadingUseCases:
    """Needs ``blobs``, ``keys``, ``settings`` and ``resolve_model_version``."""

    blobs: BlobStore
    keys: KeyRing
    settings: Settings

    def resolve_model_version(self, ref: str | ModelRef) -> ModelVersion:
        raise NotImplementedError

    def create_signing_key(self, *, overwrite: bool = False) -> SigningKey:
        """Make this home's ed25519 signing key (its public key becomes trusted)."""
        key_id = self.keys.create(overwrite=overwrite)
        pem = next((k.public_key for k in self.keys.public_keys() if k.key_id == key_id), None)
        return SigningKey(key_id, True, self.keys.signing_key, pem)

    def list_signing_keys(self) -> list[SigningKey]:
        """The trusted public keys, marking the one this home signs with."""
        return self.keys.public_keys()

    def load_model(
        self, ref: str, *, allow_unsigned: bool | None = None, trust: bool = False
    ) -> LoadedModel:
        """The model at ``ref``, its signature and files verified (``packages.load_verified``)."""
        version = self.resolve_model_version(ref)
        allow = self.settings.allow_unsigned if allow_unsigned is None else allow_unsigned
        return packages.load_verified(self.blobs, self.keys, version, self.settings.home /
                                      "cache" / "models", allow_unsigned=allow, trust=trust)

    def local_path(self, version: ModelVersion) -> Path:
        """The version's package in the local cache (fetched once)."""
        return packages.materialize(
            self.blobs, version.package_digest, self.settings.home / "cache" / "models"
        )
