"""``RemoteRegistry``: ``RegistryService``'s calls over ``/api/v1``.

What needs the model object or the client's files happens here, the rest on the server:
``log_model`` saves the package in a temporary folder and logs it as the run's artifacts
through the remote tracking (``log_artifacts``), as the embedded service does through its
own; ``register_model`` of a folder uploads what the server lacks of it (``packages``),
then registers; ``load_model`` downloads the version into the local cache and loads it
under the embedded rules (signature by a trusted key, every file against the signed
manifest, code from a package only when signed or trusted).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gannet.core import wire
from gannet.core.errors import NotSupported
from gannet.core.ids import is_id
from gannet.core.settings import Settings
from gannet.models.manifest import ModelMeta
from gannet.models.reference import ModelRef, check_model_name
from gannet.registry import packages as local_packages
from gannet.registry.types import (
    GateResult,
    ModelVersion,
    Promotion,
    RegisteredModel,
    SigningKey,
)
from gannet.remote import packages
from gannet.remote.transport import Transport

if TYPE_CHECKING:
    from gannet.models.package import LoadedModel

__all__ = ["RemoteRegistry"]

MODELS = "/api/v1/registered-models"


class RemoteRegistry:
    def __init__(self, transport: Transport, settings: Settings, tracking: Any) -> None:
        self.transport = transport
        self.settings = settings
        self.tracking = tracking  # the remote tracking: a logged model is a run's artifacts

    def _project(self, project: str | None) -> str | None:
        """A new model's project: as given, else this client's ``project`` setting (the
        server's own setting only when neither says)."""
        return project if project is not None else (self.settings.project or None)

    # -- registered models -------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        *,
        project: str | None = None,
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": _tags(tags),
                "project": self._project(project)}
        return _model(self.transport.call("POST", MODELS, json=body))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _model(self.transport.call("GET", _m(name)))

    def search_registered_models(
        self,
        name_like: str | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[RegisteredModel]:
        params = _given(name_like=name_like, filter_string=filter_string,
                        order_by=list(order_by) if order_by else None)
        found = self.transport.call("GET", MODELS, params=params)
        return wire.load(list[RegisteredModel], found["registered_models"])

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
    ) -> RegisteredModel:
        body = {"description": description, "tags": _tags(tags) if tags is not None else None,
                "delete_tags": list(delete_tags)}
        return _model(self.transport.call("PATCH", _m(name), json=body))

    def set_model_policy(self, name: str, policy_yaml: str | None) -> None:
        self.transport.call("PUT", _m(name) + "/policy", json={"policy": policy_yaml})

    def delete_registered_model(self, name: str) -> None:
        self.transport.call("DELETE", _m(name))

    # -- versions ------------------------------------------------------------------------

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
        """Save ``model`` as a package here and log it under ``name`` in the run's artifacts."""
        from gannet.registry.packages import log_to_run

        return log_to_run(self.tracking, run_id, model, name, signature=signature,
                          input_example=input_example, requirements=requirements)

    def register_model(
        self,
        source: str | os.PathLike[str],
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
        source_uri: str | None = None,
    ) -> ModelVersion:
        """A new version of ``name`` from a run's model (the server reads it), or from a
        package folder here (uploaded first: only the files the server lacks)."""
        check_model_name(name)
        text = str(source)
        body: dict[str, Any] = {"description": description, "tags": _tags(tags),
                                "project": self._project(project), "source_uri": source_uri}
        if text.startswith("runs:/") or is_id(text):
            body["source"] = text
        else:
            folder = Path(source).expanduser()
            if not folder.exists():
                raise packages.missing_folder(text)
            body["files"] = packages.upload_folder(self.transport, folder)
            body["source_label"] = source_uri or str(folder.resolve())
        return _version(self.transport.call("POST", _m(name) + "/versions", json=body))

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return _version(self.transport.call("GET", _v(name, version)))

    def search_model_versions(
        self,
        name: str | None = None,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[ModelVersion]:
        params = _given(filter_string=filter_string, order_by=list(order_by) if order_by else None)
        path = _m(name) + "/versions" if name is not None else "/api/v1/model-versions"
        found = self.transport.call("GET", path, params=params)
        return wire.load(list[ModelVersion], found["model_versions"])

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return _version(self.transport.call("GET", f"{_m(name)}/aliases/{_seg(alias)}"))

    def resolve_model_version(self, ref: str | ModelRef) -> ModelVersion:
        """``churn/3``, ``churn@champion``, ``churn@latest`` -> that version."""
        found = self.transport.call("GET", "/api/v1/model-versions/resolve",
                                    params={"ref": str(ref)})
        return _version(found)

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        card: Mapping[str, str] | None = None,
        delete_tags: Sequence[str] = (),
    ) -> ModelVersion:
        body = {"description": description, "tags": _tags(tags) if tags is not None else None,
                "card": dict(card) if card else None, "delete_tags": list(delete_tags)}
        return _version(self.transport.call("PATCH", _v(name, version), json=body))

    def archive_model_version(self, name: str, version: int) -> ModelVersion:
        return _version(self.transport.call("POST", _v(name, version) + "/archive"))

    def delete_model_version(self, name: str, version: int) -> None:
        self.transport.call("DELETE", _v(name, version))

    # -- aliases, approvals, promotion ------------------------------------------------------

    def set_registered_model_alias(
        self, name: str, alias: str, version: int | str
    ) -> ModelVersion:
        found = self.transport.call("PUT", f"{_m(name)}/aliases/{_seg(alias)}",
                                    json={"version": version})
        return _version(found)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.transport.call("DELETE", f"{_m(name)}/aliases/{_seg(alias)}")

    def approve_model_version(self, name: str, version: int, comment: str = "") -> None:
        self.transport.call("POST", _v(name, version) + "/approvals", json={"comment": comment})

    def check_promotion_gates(self, name: str, version: int, alias: str) -> list[GateResult]:
        found = self.transport.call("GET", _v(name, version) + "/gates", params={"alias": alias})
        return wire.load(list[GateResult], found["results"])

    def promote(self, name: str, version: int | str, alias: str, reason: str = "") -> Promotion:
        body = {"version": version, "alias": alias, "reason": reason}
        found = self.transport.call("POST", _m(name) + "/promotions", json=body)
        return wire.load(Promotion, found["promotion"])

    # -- model cards ---------------------------------------------------------------------

    def get_model_card(self, name: str, version: int, fmt: str = "markdown") -> str:
        response = self.transport.send("GET", _v(name, version) + "/card",
                                       params={"format": fmt})
        return response.text

    # -- signing keys and loading --------------------------------------------------------

    def create_signing_key(self, *, overwrite: bool = False) -> SigningKey:
        """The server's signing key is made on its machine, never through the API."""
        raise NotSupported(
            f"the signing key of the server at {self.settings.uri} is made on the server's "
            "machine: at its first registration, or with `gannet keys create` there",
            "run it where the server runs (unset GANNET_URI, with the server's home); "
            "gannet keys list shows the server's public keys",
        )

    def list_signing_keys(self) -> list[SigningKey]:
        """The public keys the server trusts, marking the one it signs with."""
        found = self.transport.call("GET", "/api/v1/signing-keys")
        return wire.load(list[SigningKey], found["signing_keys"])

    def load_model(
        self, ref: str, *, allow_unsigned: bool | None = None, trust: bool = False
    ) -> LoadedModel:
        """The model at ``ref``, downloaded once into the local cache, its signature and
        files verified here (see ``gannet.remote.packages``)."""
        version = self.resolve_model_version(ref)
        allow = self.settings.allow_unsigned if allow_unsigned is None else allow_unsigned
        trusted = packages.ServerTrust(self.transport, self.settings.trusted_keys)
        return local_packages.load_checked(
            version,
            local_packages.unverified(trusted, version),
            lambda: self.local_path(version),
            allow_unsigned=allow,
            trust=trust,
        )

    def local_path(self, version: ModelVersion) -> Path:
        """The version's package in the local cache (downloaded once)."""
        return packages.fetch(self.transport, version, self.settings.home / "cache" / "models")


def _tags(values: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (values or {}).items()}


def _seg(value: object) -> str:
    return quote(str(value), safe="")


def _m(name: str) -> str:
    return f"{MODELS}/{_seg(name)}"


def _v(name: str, version: int | str) -> str:
    return f"{_m(name)}/versions/{_seg(version)}"


def _model(found: dict[str, Any]) -> RegisteredModel:
    return wire.load(RegisteredModel, found["registered_model"])


def _version(found: dict[str, Any]) -> ModelVersion:
    return wire.load(ModelVersion, found["model_version"])


def _given(**params: Any) -> dict[str, Any] | None:
    """The query parameters that have a value (None: no query string)."""
    given = {key: value for key, value in params.items() if value is not None}
    return given or None
