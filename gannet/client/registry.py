"""The registry half of ``GannetClient``: log, register, find, alias, promote and load models;
roles and the audit log.

Every method is one service call of the same name (MLflow's names where MLflow has the
operation). ``load_model`` also takes a package folder, as ``gannet.models.load_model`` does,
and runs code from a package only when its signature verifies or with ``trust=True``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.auth.service import AuthService
    from gannet.auth.types import AuditEntry
    from gannet.bootstrap import Services
    from gannet.models.manifest import ModelMeta
    from gannet.models.package import LoadedModel
    from gannet.registry.service import RegistryService
    from gannet.registry.types import (
        GateResult,
        ModelVersion,
        Promotion,
        RegisteredModel,
        SigningKey,
    )


class RegistryMethods:
    """Mixed into ``GannetClient``, which provides ``services`` and ``flush``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    def flush(self, *, wait_for_environment: bool = True) -> None:
        raise NotImplementedError

    @property
    def _registry(self) -> RegistryService:
        return self.services.registry

    @property
    def _auth(self) -> AuthService:
        return self.services.auth

    # -- logging and registering -------------------------------------------------------------

    def log_model(
        self,
        run_id: str,
        model: Any,
        name: str = "model",
        *,
        signature: Any = None,
        input_example: Any = None,
        requirements: Sequence[str] | None = None,
    ) -> ModelMeta:
        """Save ``model`` as a package and log it under ``name`` in the run's artifacts."""
        self.flush()
        return self._registry.log_model(
            run_id,
            model,
            name,
            signature=signature,
            input_example=input_example,
            requirements=requirements,
        )

    def register_model(
        self,
        source: str | os.PathLike[str],
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` from a run id (its ``model``), ``runs:/<id>/<path>``
        or a package folder; signed with this home's key."""
        self.flush()
        return self._registry.register_model(source, name, description=description, tags=tags)

    # -- registered models ---------------------------------------------------------------------

    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        return self._registry.create_registered_model(name, description, tags)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registry.get_registered_model(name)

    def search_registered_models(self, name_like: str | None = None) -> list[RegisteredModel]:
        return self._registry.search_registered_models(name_like)

    def update_registered_model(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        return self._registry.update_registered_model(name, description=description, tags=tags)

    def delete_registered_model(self, name: str) -> None:
        self._registry.delete_registered_model(name)

    def set_model_policy(self, name: str, policy_yaml: str | None) -> None:
        self._registry.set_model_policy(name, policy_yaml)

    # -- versions ------------------------------------------------------------------------------

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self._registry.get_model_version(name, version)

    def search_model_versions(self, name: str) -> list[ModelVersion]:
        return self._registry.search_model_versions(name)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry.get_model_version_by_alias(name, alias)

    def resolve_model_version(self, ref: str) -> ModelVersion:
        return self._registry.resolve_model_version(ref)

    def update_model_version(
        self,
        name: str,
        version: int,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        return self._registry.update_model_version(
            name, version, description=description, tags=tags, card=card
        )

    def archive_model_version(self, name: str, version: int) -> ModelVersion:
        return self._registry.archive_model_version(name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        self._registry.delete_model_version(name, version)

    def get_model_card(self, name: str, version: int, fmt: str = "markdown") -> str:
        return self._registry.get_model_card(name, version, fmt)

    # -- aliases and promotion -----------------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str
    ) -> ModelVersion:
        return self._registry.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._registry.delete_registered_model_alias(name, alias)

    def approve_model_version(self, name: str, version: int, comment: str = "") -> None:
        self._registry.approve_model_version(name, version, comment)

    def check_promotion_gates(self, name: str, version: int, alias: str) -> list[GateResult]:
        return self._registry.check_promotion_gates(name, version, alias)

    def promote(self, name: str, version: int | str, alias: str, reason: str = "") -> Promotion:
        return self._registry.promote(name, version, alias, reason)

    # -- signing keys and loading --------------------------------------------------------------

    def create_signing_key(self, *, overwrite: bool = False) -> SigningKey:
        return self._registry.create_signing_key(overwrite=overwrite)

    def list_signing_keys(self) -> list[SigningKey]:
        return self._registry.list_signing_keys()

    def load_model(
        self,
        ref: str | os.PathLike[str],
        *,
        allow_unsigned: bool | None = None,
        trust: bool = False,
    ) -> LoadedModel:
        """A registered model (``churn@champion``, ``churn/3``, ``models:/churn/3``),
        signature and files verified; or a package folder (a ``Path``, ``./churn``,
        ``file:churn``). A reference that is also a folder here is refused as ambiguous.

        ``trust=True`` runs code from the package: a package that imports its own class or
        unpickles (the ``python`` flavor, a pickled scikit-learn model) loads without a
        verified signature only then - a folder always needs it, ``allow_unsigned`` never
        replaces it.
        """
        from gannet.models.package import load_package
        from gannet.models.reference import locate

        target = locate(ref)
        if isinstance(target, str):
            return self._registry.load_model(target, allow_unsigned=allow_unsigned, trust=trust)
        return load_package(target, trust=trust)

    # -- roles and the audit log ---------------------------------------------------------------

    def grant_role(self, user_id: str, role: str) -> None:
        self._auth.grant_role(user_id, role)

    def revoke_role(self, user_id: str, role: str) -> None:
        self._auth.revoke_role(user_id, role)

    def list_roles(self) -> dict[str, list[str]]:
        return self._auth.list_roles()

    def search_audit_log(self, target_prefix: str = "", limit: int = 100) -> list[AuditEntry]:
        return self._auth.search_audit_log(target_prefix, limit)
