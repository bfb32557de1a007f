"""``RemoteDeployments``: ``DeploymentService``'s calls over ``/api/v1``.

A ``DeploymentSource`` too (``get_deployment_state``), so an inference server could poll
a team server; ``gannet serve`` does not need to: it reads the stores directly, as the
data plane never waits on the control plane. ``bundle_deployment`` has the server write
the bundle and unpacks the archive it streams back into ``dest``, refusing any member
that is not a plain file inside it.
"""

from __future__ import annotations

import math
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gannet.core import wire
from gannet.core.errors import IntegrityError, InvalidArgument
from gannet.core.settings import Settings
from gannet.remote.transport import Transport, error_of
from gannet.serving.deployments.types import DeploymentInfo, DeploymentState, RouteSpec

__all__ = ["RemoteDeployments"]

BASE = "/api/v1/deployments"


class RemoteDeployments:
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings

    # -- reading -------------------------------------------------------------------------

    def get_deployment_state(self, name: str) -> DeploymentState:
        return _state(self.transport.call("GET", _d(name) + "/state"))

    def get_deployment(self, name: str) -> DeploymentInfo:
        found = self.transport.call("GET", _d(name))
        return wire.load(DeploymentInfo, found["deployment"])

    def list_deployments(self, model: str | None = None) -> list[DeploymentState]:
        params = {"model": model} if model is not None else None
        found = self.transport.call("GET", BASE, params=params)
        return wire.load(list[DeploymentState], found["deployments"])

    def get_deployment_history(self, name: str) -> list[DeploymentState]:
        found = self.transport.call("GET", _d(name) + "/history")
        return wire.load(list[DeploymentState], found["history"])

    # -- changing ------------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model: str,
        routes: RouteSpec | None = None,
        *,
        description: str = "",
        sticky_key: str | None = None,
        reason: str = "",
        project: str | None = None,
        features: Sequence[str] | None = None,
        on_unavailable: str = "error",
        feature_defaults: Mapping[str, Any] | None = None,
    ) -> DeploymentState:
        body = {"name": name, "model": model,
                "routes": _routes(routes) if routes is not None else None,
                "description": description, "sticky_key": sticky_key, "reason": reason,
                "project": project if project is not None else (self.settings.project or None),
                "features": list(features) if features else None,
                "on_unavailable": on_unavailable,
                "feature_defaults": dict(feature_defaults) if feature_defaults else None}
        return _state(self.transport.call("POST", BASE, json=body))

    def set_deployment_traffic(
        self, name: str, routes: RouteSpec, reason: str = ""
    ) -> DeploymentState:
        body = {"routes": _routes(routes), "reason": reason}
        return _state(self.transport.call("PUT", _d(name) + "/traffic", json=body))

    def set_deployment_sticky_key(
        self, name: str, key: str | None, reason: str = ""
    ) -> DeploymentState:
        body = {"key": key, "reason": reason}
        return _state(self.transport.call("PUT", _d(name) + "/sticky-key", json=body))

    def set_deployment_shadows(
        self, name: str, refs: Sequence[str | int] | None, reason: str = ""
    ) -> DeploymentState:
        body = {"refs": list(refs) if refs is not None else None, "reason": reason}
        return _state(self.transport.call("PUT", _d(name) + "/shadows", json=body))

    def set_deployment_log_fields(
        self,
        name: str,
        masked: Iterable[str] = (),
        hashed: Iterable[str] = (),
        reason: str = "",
    ) -> DeploymentState:
        body = {"masked": _strings(masked), "hashed": _strings(hashed), "reason": reason}
        return _state(self.transport.call("PUT", _d(name) + "/log-fields", json=body))

    def set_deployment_features(
        self,
        name: str,
        features: Sequence[str] | None,
        *,
        on_unavailable: str = "error",
        defaults: Mapping[str, Any] | None = None,
        reason: str = "",
    ) -> DeploymentState:
        body = {"features": list(features) if features else None,
                "on_unavailable": on_unavailable,
                "defaults": dict(defaults) if defaults else None, "reason": reason}
        return _state(self.transport.call("PUT", _d(name) + "/features", json=body))

    def rollback_deployment(
        self, name: str, reason: str = "", *, to: int | None = None
    ) -> DeploymentState:
        body = {"reason": reason, "to": to}
        return _state(self.transport.call("POST", _d(name) + "/rollback", json=body))

    def delete_deployment(self, name: str) -> None:
        self.transport.call("DELETE", _d(name))

    # -- the deployable bundle -------------------------------------------------------------

    def bundle_deployment(
        self,
        name: str,
        dest: str | Path,
        *,
        image: str | None = None,
        port: int = 8080,
        replicas: int = 2,
    ) -> list[Path]:
        """The server's bundle of ``name``, unpacked into ``dest``; the files written."""
        dest = Path(dest)
        if dest.exists() and not dest.is_dir():
            raise InvalidArgument(f"{dest} exists and is not a folder", "give a folder to write to")
        params: dict[str, Any] = {"port": port, "replicas": replicas}
        if image is not None:
            params["image"] = image
        with tempfile.TemporaryFile() as archive:
            with self.transport.client.stream("GET", _d(name) + "/bundle",
                                              params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_of(response)
                for chunk in response.iter_bytes(1 << 20):
                    archive.write(chunk)
            archive.seek(0)
            return _unpack(archive, dest)


def _unpack(archive: Any, dest: Path) -> list[Path]:
    """Plain files only, each inside ``dest`` (tar's "data" filter refuses the rest)."""
    written = []
    with tarfile.open(fileobj=archive, mode="r:gz") as tar:
        for member in tar:
            if not member.isfile():
                raise IntegrityError(f"the bundle holds {member.name!r}, which is not a file",
                                     "ask the server's operator")
            tar.extract(member, dest, filter="data")
            written.append(dest / member.name)
    return written


def _routes(routes: RouteSpec) -> Any:
    """Routes as JSON: keys as strings (the service reads ``"3"`` as it reads ``3``);
    a non-finite weight as its name, so the server refuses it as the service would here."""
    if not isinstance(routes, Mapping):
        return routes  # the server says what is wrong with it
    return {str(ref): wire.to_jsonable(w) if isinstance(w, float) and not math.isfinite(w)
            else w for ref, w in routes.items()}


def _strings(values: Iterable[str]) -> list[str]:
    """Column names as a list (one name alone, as the service reads it, is one column)."""
    return [values] if isinstance(values, str) else list(values)


def _d(name: str) -> str:
    return f"{BASE}/{quote(str(name), safe='')}"


def _state(found: dict[str, Any]) -> DeploymentState:
    return wire.load(DeploymentState, found["state"])
