"""``/api/v1`` registry routes: registered models, versions, aliases, approvals, promotion
gates, promotion and model cards.

Each route is one ``RegistryService`` call of the same name; bodies are validated here
(types, required fields), rules in the service. A version is addressed as
``/registered-models/{name}/versions/{version}``; ``/model-versions/resolve?ref=`` takes
any reference (``churn@champion``, ``churn/3``, ``models:/churn@champion``). A package's
upload and download, and the signing keys, are ``packages``' routes.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["registry"])

MODEL = "/registered-models/{name}"
VERSION = MODEL + "/versions/{version}"


class NewModel(BaseModel):
    name: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    project: str | None = Field(default=None, description="default: the server's project "
                                "setting, else default")


class ModelChange(BaseModel):
    description: str | None = Field(default=None, description="unchanged when absent")
    tags: dict[str, str] | None = Field(default=None, description="set (merged) when given")
    delete_tags: list[str] = Field(default_factory=list, description="tag keys to remove")


class PolicyBody(BaseModel):
    policy: str | None = Field(description="the promotion gates as YAML; null removes them")


class PackageFile(BaseModel):
    path: str
    digest: str = Field(description="blake3:<64 hex>, uploaded before")
    size: int


class NewVersion(BaseModel):
    source: str | None = Field(
        default=None, description="a run id or runs:/<run id>/<path> (a run's logged model)")
    files: list[PackageFile] | None = Field(
        default=None, description="or: the files of an uploaded package folder")
    source_label: str | None = Field(
        default=None, description="what the version's source shows for uploaded files")
    source_uri: str | None = Field(
        default=None, description="what the version records as its source instead")
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    project: str | None = Field(default=None, description="where a new model goes")


class VersionChange(BaseModel):
    description: str | None = None
    tags: dict[str, str] | None = None
    card: dict[str, str] | None = Field(default=None, description="model card fields to set")
    delete_tags: list[str] = Field(default_factory=list, description="tag keys to remove")


class AliasTarget(BaseModel):
    version: int | str = Field(description="a version number of the model, or name/N")


class ApprovalBody(BaseModel):
    comment: str = ""


class PromotionBody(BaseModel):
    version: int | str
    alias: str
    reason: str = ""


# -- registered models ------------------------------------------------------------------


@router.post("/registered-models", status_code=201, summary="Create a registered model",
             response_model=shapes.REGISTERED_MODEL)
def create_registered_model(body: NewModel, services: ServicesDep) -> Response:
    model = services.registry.create_registered_model(
        body.name, body.description, body.tags, project=body.project)
    return answer({"registered_model": model}, 201)


@router.get("/registered-models", summary="Registered models (name_like: a SQL LIKE pattern; "
            "filter_string and order_by: MLflow's)", response_model=shapes.REGISTERED_MODELS)
def search_registered_models(
    services: ServicesDep, name_like: str | None = None, filter_string: str | None = None,
    order_by: list[str] | None = Query(default=None),
) -> Response:
    models = services.registry.search_registered_models(
        name_like, filter_string=filter_string, order_by=order_by)
    return answer({"registered_models": models})


@router.get(MODEL, summary="A registered model", response_model=shapes.REGISTERED_MODEL)
def get_registered_model(name: str, services: ServicesDep) -> Response:
    return answer({"registered_model": services.registry.get_registered_model(name)})


@router.patch(MODEL, summary="Change a registered model's description or tags",
              response_model=shapes.REGISTERED_MODEL)
def update_registered_model(name: str, body: ModelChange, services: ServicesDep) -> Response:
    model = services.registry.update_registered_model(
        name, description=body.description, tags=body.tags, delete_tags=body.delete_tags)
    return answer({"registered_model": model})


@router.put(MODEL + "/policy", summary="Set (or, with null, remove) the promotion gates",
            response_model=shapes.DONE)
def set_model_policy(name: str, body: PolicyBody, services: ServicesDep) -> Response:
    services.registry.set_model_policy(name, body.policy)
    return answer({})


@router.delete(MODEL, summary="Delete a registered model and all its versions",
               response_model=shapes.DONE)
def delete_registered_model(name: str, services: ServicesDep) -> Response:
    services.registry.delete_registered_model(name)
    return answer({})


# -- versions -----------------------------------------------------------------------------


@router.post(MODEL + "/versions", status_code=201, summary="Register a new version",
             response_model=shapes.MODEL_VERSION)
def register_model(name: str, body: NewVersion, services: ServicesDep) -> Response:
    """From a run's logged model (``source``), or from package files uploaded before
    (``files``; see ``POST /model-packages/missing``)."""
    from gannet.core.errors import InvalidArgument

    if (body.source is None) == (body.files is None):
        raise InvalidArgument("give exactly one of source (a run's model) or files (an "
                              "uploaded package)", "e.g. {\"source\": \"runs:/<run id>/model\"}")
    if body.source is not None:
        version = services.registry.register_model(
            body.source, name, description=body.description, tags=body.tags,
            project=body.project, source_uri=body.source_uri)
    else:
        files = [(f.path, f.digest, f.size) for f in body.files or ()]
        version = services.registry.register_package(
            files, name, description=body.description, tags=body.tags,
            source=body.source_label, project=body.project)
    return answer({"model_version": version}, 201)


@router.get(MODEL + "/versions", summary="A model's versions, newest first",
            response_model=shapes.MODEL_VERSIONS)
def search_model_versions(
    name: str, services: ServicesDep, filter_string: str | None = None,
    order_by: list[str] | None = Query(default=None),
) -> Response:
    versions = services.registry.search_model_versions(
        name, filter_string=filter_string, order_by=order_by)
    return answer({"model_versions": versions})


@router.get("/model-versions", summary="Versions of every model that filter_string matches",
            response_model=shapes.MODEL_VERSIONS)
def search_all_model_versions(
    services: ServicesDep, filter_string: str | None = None,
    order_by: list[str] | None = Query(default=None),
) -> Response:
    versions = services.registry.search_model_versions(
        None, filter_string=filter_string, order_by=order_by)
    return answer({"model_versions": versions})


@router.get("/model-versions/resolve", summary="The version a reference names",
            response_model=shapes.MODEL_VERSION)
def resolve_model_version(
    services: ServicesDep,
    ref: str = Query(description="churn/3, churn@champion, churn@latest, models:/churn/3"),
) -> Response:
    return answer({"model_version": services.registry.resolve_model_version(ref)})


@router.get(VERSION, summary="A model version", response_model=shapes.MODEL_VERSION)
def get_model_version(name: str, version: int, services: ServicesDep) -> Response:
    return answer({"model_version": services.registry.get_model_version(name, version)})


@router.patch(VERSION, summary="Change a version's description, tags or card fields",
              response_model=shapes.MODEL_VERSION)
def update_model_version(name: str, version: int, body: VersionChange,
                         services: ServicesDep) -> Response:
    changed = services.registry.update_model_version(
        name, version, description=body.description, tags=body.tags, card=body.card,
        delete_tags=body.delete_tags)
    return answer({"model_version": changed})


@router.post(VERSION + "/archive", summary="Archive a version",
             response_model=shapes.MODEL_VERSION)
def archive_model_version(name: str, version: int, services: ServicesDep) -> Response:
    return answer({"model_version": services.registry.archive_model_version(name, version)})


@router.delete(VERSION, summary="Delete a version (its number is never reused)",
               response_model=shapes.DONE)
def delete_model_version(name: str, version: int, services: ServicesDep) -> Response:
    services.registry.delete_model_version(name, version)
    return answer({})


# -- aliases, approvals, promotion --------------------------------------------------------


@router.get(MODEL + "/aliases/{alias}", summary="The version an alias points at",
            response_model=shapes.MODEL_VERSION)
def get_model_version_by_alias(name: str, alias: str, services: ServicesDep) -> Response:
    found = services.registry.get_model_version_by_alias(name, alias)
    return answer({"model_version": found})


@router.put(MODEL + "/aliases/{alias}", summary="Point an alias at a version (no gates)",
            response_model=shapes.MODEL_VERSION)
def set_registered_model_alias(name: str, alias: str, body: AliasTarget,
                               services: ServicesDep) -> Response:
    moved = services.registry.set_registered_model_alias(name, alias, body.version)
    return answer({"model_version": moved})


@router.delete(MODEL + "/aliases/{alias}", summary="Remove an alias", response_model=shapes.DONE)
def delete_registered_model_alias(name: str, alias: str, services: ServicesDep) -> Response:
    services.registry.delete_registered_model_alias(name, alias)
    return answer({})


@router.post(VERSION + "/approvals", summary="Approve a version as the caller",
             response_model=shapes.APPROVED)
def approve_model_version(name: str, version: int, body: ApprovalBody,
                          services: ServicesDep) -> Response:
    services.registry.approve_model_version(name, version, body.comment)
    return answer({"user": services.auth.current_user})


@router.get(VERSION + "/gates", summary="Each promotion gate for an alias, evaluated now",
            response_model=shapes.GATES)
def check_promotion_gates(name: str, version: int, alias: str,
                          services: ServicesDep) -> Response:
    return answer({"results": services.registry.check_promotion_gates(name, version, alias)})


@router.post(MODEL + "/promotions", summary="Move an alias to a version if every gate passes",
             response_model=shapes.PROMOTION)
def promote(name: str, body: PromotionBody, services: ServicesDep) -> Response:
    """Answers 200 whether or not the alias moved: ``promotion.promoted`` says which, and
    ``promotion.results`` why (a failed gate is an answer, not an error)."""
    result = services.registry.promote(name, body.version, body.alias, body.reason)
    return answer({"promotion": result})


@router.get(VERSION + "/card", summary="The version's model card (Markdown or HTML)",
            **shapes.not_json("text/markdown", "text/html", description="the card"))
def get_model_card(name: str, version: int, services: ServicesDep,
                   format: str = Query(default="markdown", description="markdown or html")
                   ) -> Response:
    text = services.registry.get_model_card(name, version, format)
    media = "text/html" if format == "html" else "text/markdown"
    return Response(text, media_type=f"{media}; charset=utf-8")
