"""MLflow's registered-model endpoints (``/mlflow/registered-models/...``) over
``RegistryService``: models, their tags, aliases, and the latest version per stage.

MLflow's stages (deprecated since MLflow 2.9) map onto Gannet's version states: a live
version is in stage ``None``, an archived one in ``Archived``; ``Staging`` and
``Production`` hold nothing (Gannet promotes with aliases, as MLflow now advises).
Renaming is refused: deployments and references (``churn/3``) name models, and a rename
would silently break them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from gannet.core.errors import NotSupported
from gannet.registry.types import ModelVersion, RegisteredModel, VersionStatus
from gannet.server.deps import ServicesDep
from gannet.server.mlflow import translate
from gannet.server.mlflow.messages import KeyValue, Message, as_dict, ok, page, paged, required
from gannet.server.mlflow.workspaces import workspace_of

if TYPE_CHECKING:
    from gannet.bootstrap import Services

router = APIRouter(tags=["mlflow: model registry"])

SEARCH_DEFAULT, SEARCH_LIMIT = 100, 1000  # MLflow's for registered models
STAGES = {"None": VersionStatus.READY, "Archived": VersionStatus.ARCHIVED}


class ModelMessage(Message):
    name: str | None = None


class CreateModel(ModelMessage):
    tags: list[KeyValue] | None = None
    description: str | None = None


class RenameModel(ModelMessage):
    new_name: str | None = None


class ModelTag(ModelMessage):
    key: str | None = None
    value: str = ""


class Alias(ModelMessage):
    alias: str | None = None
    version: str | None = None


class LatestVersions(ModelMessage):
    stages: list[str] | None = None


class SearchModels(Message):
    filter: str | None = None
    max_results: int | None = None
    order_by: list[str] | None = None
    page_token: str | None = None


@router.post("/registered-models/create",
             summary="Create a registered model (in the workspace's project)")
def create_registered_model(body: CreateModel, request: Request, services: ServicesDep
                            ) -> Response:
    made = services.registry.create_registered_model(
        required(body.name, "name"), body.description or "", as_dict(body.tags),
        project=workspace_of(request))
    return ok({"registered_model": translate.registered_model(made)})


@router.get("/registered-models/get", summary="A registered model by name")
def get_registered_model(services: ServicesDep, name: str | None = None) -> Response:
    found = services.registry.get_registered_model(required(name, "name"))
    return ok({"registered_model": _model(services, found)})


@router.post("/registered-models/rename", summary="Rename a registered model (refused)")
def rename_registered_model(body: RenameModel, services: ServicesDep) -> Response:
    services.registry.get_registered_model(required(body.name, "name"))
    raise NotSupported(
        f"registered model {body.name!r} cannot be renamed on a Gannet server: deployments "
        "and references such as name/3 or name@alias name it",
        "register its versions under the new name instead")


@router.patch("/registered-models/update", summary="Change a registered model's description")
def update_registered_model(body: CreateModel, services: ServicesDep) -> Response:
    changed = services.registry.update_registered_model(
        required(body.name, "name"), description=body.description)
    return ok({"registered_model": _model(services, changed)})


@router.delete("/registered-models/delete", summary="Delete a registered model")
def delete_registered_model(body: ModelMessage, services: ServicesDep) -> Response:
    services.registry.delete_registered_model(required(body.name, "name"))
    return ok()


@router.get("/registered-models/search", summary="Search registered models")
def search_registered_models(query: Annotated[SearchModels, Query()], services: ServicesDep
                             ) -> Response:
    found = services.registry.search_registered_models(
        filter_string=query.filter, order_by=query.order_by or ["name ASC"])
    chunk, token = page(found, query.max_results, query.page_token, query.filter,
                        query.order_by, default=SEARCH_DEFAULT, limit=SEARCH_LIMIT)
    return paged("registered_models", [_model(services, m) for m in chunk], token)


def _latest(body: LatestVersions, services: Services) -> Response:
    versions = _latest_per_stage(services, required(body.name, "name"))
    wanted = body.stages or list(STAGES)
    return ok({"model_versions": [translate.model_version(v) for stage, v in versions.items()
                                  if stage in wanted]})


@router.post("/registered-models/get-latest-versions", summary="Latest version per stage")
def get_latest_versions(body: LatestVersions, services: ServicesDep) -> Response:
    return _latest(body, services)


@router.get("/registered-models/get-latest-versions", summary="Latest version per stage")
def get_latest_versions_get(query: Annotated[LatestVersions, Query()], services: ServicesDep
                            ) -> Response:
    return _latest(query, services)


@router.post("/registered-models/set-tag", summary="Set a tag of a registered model")
def set_registered_model_tag(body: ModelTag, services: ServicesDep) -> Response:
    services.registry.update_registered_model(
        required(body.name, "name"), tags={required(body.key, "key"): body.value})
    return ok()


@router.delete("/registered-models/delete-tag", summary="Delete a tag of a registered model")
def delete_registered_model_tag(body: ModelTag, services: ServicesDep) -> Response:
    services.registry.update_registered_model(
        required(body.name, "name"), delete_tags=[required(body.key, "key")])
    return ok()


@router.post("/registered-models/alias", summary="Point an alias at a version")
def set_registered_model_alias(body: Alias, services: ServicesDep) -> Response:
    services.registry.set_registered_model_alias(
        required(body.name, "name"), required(body.alias, "alias"),
        required(body.version, "version"))
    return ok()


@router.delete("/registered-models/alias", summary="Delete an alias")
def delete_registered_model_alias(body: Alias, services: ServicesDep) -> Response:
    services.registry.delete_registered_model_alias(
        required(body.name, "name"), required(body.alias, "alias"))
    return ok()


@router.get("/registered-models/alias", summary="The version an alias points at")
def get_model_version_by_alias(services: ServicesDep, name: str | None = None,
                               alias: str | None = None) -> Response:
    found = services.registry.get_model_version_by_alias(required(name, "name"),
                                                         required(alias, "alias"))
    return ok({"model_version": translate.model_version(found)})


def _model(services: Services, model: RegisteredModel) -> dict:
    latest = _latest_per_stage(services, model.name) if model.latest_version else {}
    return translate.registered_model(model, latest.values())


def _latest_per_stage(services: Services, name: str) -> dict[str, ModelVersion]:
    """The newest version in each stage (``None``: live, ``Archived``)."""
    found: dict[str, ModelVersion] = {}
    for version in services.registry.search_model_versions(name):  # newest first
        stage = "Archived" if version.status == VersionStatus.ARCHIVED else "None"
        found.setdefault(stage, version)
    return found
