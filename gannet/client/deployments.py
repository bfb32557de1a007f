"""The deployments part of ``GannetClient``: what the inference server serves, changed one
revision at a time. Every method is one ``DeploymentService`` call of the same name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.serving.deployments.service import DeploymentService
    from gannet.serving.deployments.types import DeploymentInfo, DeploymentState


class DeploymentMethods:
    """Mixed into ``GannetClient``, which provides ``services``."""

    @property
    def services(self) -> Services:
        raise NotImplementedError

    @property
    def _deployments(self) -> DeploymentService:
        return self.services.deployments

    def create_deployment(
        self,
        name: str,
        model: str,
        routes: Mapping[str | int, float] | None = None,
        *,
        description: str = "",
        sticky_key: str | None = None,
        reason: str = "",
        features: Sequence[str] | None = None,
        on_unavailable: str = "error",
        feature_defaults: Mapping[str, Any] | None = None,
    ) -> DeploymentState:
        return self._deployments.create_deployment(
            name, model, routes, description=description, sticky_key=sticky_key, reason=reason,
            features=features, on_unavailable=on_unavailable,
            feature_defaults=feature_defaults,
        )

    def get_deployment(self, name: str) -> DeploymentInfo:
        return self._deployments.get_deployment(name)

    def get_deployment_state(self, name: str) -> DeploymentState:
        return self._deployments.get_deployment_state(name)

    def list_deployments(self, model: str | None = None) -> list[DeploymentState]:
        return self._deployments.list_deployments(model)

    def get_deployment_history(self, name: str) -> list[DeploymentState]:
        return self._deployments.get_deployment_history(name)

    def set_deployment_traffic(
        self, name: str, routes: Mapping[str | int, float], reason: str = ""
    ) -> DeploymentState:
        return self._deployments.set_deployment_traffic(name, routes, reason)

    def set_deployment_shadows(
        self, name: str, refs: Sequence[str | int] | None, reason: str = ""
    ) -> DeploymentState:
        return self._deployments.set_deployment_shadows(name, refs, reason)

    def set_deployment_sticky_key(
        self, name: str, key: str | None, reason: str = ""
    ) -> DeploymentState:
        return self._deployments.set_deployment_sticky_key(name, key, reason)

    def set_deployment_log_fields(
        self,
        name: str,
        masked: Iterable[str] = (),
        hashed: Iterable[str] = (),
        reason: str = "",
    ) -> DeploymentState:
        return self._deployments.set_deployment_log_fields(name, masked, hashed, reason)

    def set_deployment_features(
        self,
        name: str,
        features: Sequence[str] | None,
        *,
        on_unavailable: str = "error",
        defaults: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> DeploymentState:
        return self._deployments.set_deployment_features(
            name, features, on_unavailable=on_unavailable, defaults=defaults, reason=reason
        )

    def rollback_deployment(
        self, name: str, reason: str = "", *, to: int | None = None
    ) -> DeploymentState:
        return self._deployments.rollback_deployment(name, reason, to=to)

    def delete_deployment(self, name: str) -> None:
        self._deployments.delete_deployment(name)

    def bundle_deployment(
        self,
        name: str,
        dest: str | Path,
        *,
        image: str | None = None,
        port: int = 8080,
        replicas: int = 2,
    ) -> list[Path]:
        return self._deployments.bundle_deployment(
            name, dest, image=image, port=port, replicas=replicas
        )
