"""MLflow's model-version endpoints (``/mlflow/model-versions/...``).

Creating a version makes a real Gannet model version: the MLflow model the source names
(a logged model's files, a run's artifact folder) is imported as a Gannet package,
registered, signed and linked to its run (``MlflowImportService.register_mlflow_model``),
so Gannet's SDK, CLI and ``gannet.models.load_model`` see it like any other. The version
records the source as the client named it; its download URI is that source while it
still holds the files (MLflow's clients then load exactly what they logged), else the
version's own package, served from ``mlflow-artifacts:/_registry/<name>/<version>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from gannet.core.errors import InvalidArgument, NotFound
from gannet.registry.types import ModelVersion
from gannet.server.deps import ServicesDep
from gannet.server.mlflow import translate
from gannet.server.mlflow.locations import (
    Place,
    locate_source,
    logged_model_root,
    run_root,
    version_root,
)
from gannet.server.mlflow.messages import KeyValue, Message, as_dict, ok, page, paged, required
from gannet.server.mlflow.registered_models import SearchModels

if TYPE_CHECKING:
    from gannet.bootstrap import Services

router = APIRouter(tags=["mlflow: model registry"])

SEARCH_DEFAULT, SEARCH_LIMIT = 200_000, 200_000  # MLflow's for model versions


class VersionMessage(Message):
    name: str | None = None
    version: str | int | None = None

    @property
    def number(self) -> int:
        text = str(required(self.version, "version"))
        if not text.isdigit():
            raise InvalidArgument(f"model version must be a number, got {text!r}", "e.g. '3'")
        return int(text)


class CreateVersion(Message):
    name: str | None = None
    source: str | None = None
    run_id: str | None = None
    tags: list[KeyValue] | None = None
    run_link: str | None = None
    description: str | None = None
    model_id: str | None = None


class UpdateVersion(VersionMessage):
    description: str | None = None


class VersionTag(VersionMessage):
    key: str | None = None
    value: str = ""


class TransitionStage(VersionMessage):
    stage: str | None = None
    archive_existing_versions: bool = False


@router.post("/model-versions/create", summary="Register a version of a logged model")
def create_model_version(body: CreateVersion, services: ServicesDep) -> Response:
    name = required(body.name, "name")
    source = required(body.source, "source")
    services.registry.get_registered_model(name)  # as MLflow: the model must exist
    place = Place("model", body.model_id) if body.model_id else locate_source(source)
    made = services.interop.register_mlflow_model(
        name,
        run_id=place.owner if place.kind == "run" else None,
        model_id=place.owner if place.kind == "model" else None,
        path=place.path, source_uri=source, description=body.description or "",
        tags=as_dict(body.tags))
    return ok({"model_version": translate.model_version(made)})


@router.get("/model-versions/get", summary="A model version")
def get_model_version(query: Annotated[VersionMessage, Query()], services: ServicesDep
                      ) -> Response:
    found = services.registry.get_model_version(required(query.name, "name"), query.number)
    return ok({"model_version": translate.model_version(found)})


@router.patch("/model-versions/update", summary="Change a version's description")
def update_model_version(body: UpdateVersion, services: ServicesDep) -> Response:
    changed = services.registry.update_model_version(
        required(body.name, "name"), body.number, description=body.description)
    return ok({"model_version": translate.model_version(changed)})


@router.delete("/model-versions/delete", summary="Delete a version")
def delete_model_version(body: VersionMessage, services: ServicesDep) -> Response:
    services.registry.delete_model_version(required(body.name, "name"), body.number)
    return ok()


@router.get("/model-versions/search", summary="Search model versions")
def search_model_versions(query: Annotated[SearchModels, Query()], services: ServicesDep
                          ) -> Response:
    found = services.registry.search_model_versions(
        filter_string=query.filter, order_by=query.order_by)
    chunk, token = page(found, query.max_results, query.page_token, query.filter,
                        query.order_by, default=SEARCH_DEFAULT, limit=SEARCH_LIMIT)
    return paged("model_versions", [translate.model_version(v) for v in chunk], token)


@router.get("/model-versions/get-download-uri", summary="Where a version's files are")
def get_download_uri(query: Annotated[VersionMessage, Query()], services: ServicesDep
                     ) -> Response:
    found = services.registry.get_model_version(required(query.name, "name"), query.number)
    return ok({"artifact_uri": download_uri(services, found)})


@router.post("/model-versions/transition-stage", summary="Move a version to a stage")
def transition_stage(body: TransitionStage, services: ServicesDep) -> Response:
    name, number = required(body.name, "name"), body.number
    stage = required(body.stage, "stage").capitalize()
    if stage == "Archived":
        found = services.registry.archive_model_version(name, number)
    elif stage == "None":
        found = services.registry.get_model_version(name, number)
    else:
        raise InvalidArgument(
            f"stage {body.stage!r} is not kept on a Gannet server (MLflow deprecated stages)",
            f"point an alias at the version instead: set_registered_model_alias({name!r}, "
            f"'{stage.lower()}', {number})")
    return ok({"model_version": translate.model_version(found)})


@router.post("/model-versions/set-tag", summary="Set a tag of a version")
def set_model_version_tag(body: VersionTag, services: ServicesDep) -> Response:
    services.registry.update_model_version(
        required(body.name, "name"), body.number, tags={required(body.key, "key"): body.value})
    return ok()


@router.delete("/model-versions/delete-tag", summary="Delete a tag of a version")
def delete_model_version_tag(body: VersionTag, services: ServicesDep) -> Response:
    services.registry.update_model_version(
        required(body.name, "name"), body.number, delete_tags=[required(body.key, "key")])
    return ok()


def download_uri(services: Services, version: ModelVersion) -> str:
    """The version's source while it holds the files (what the client logged), else the
    version's own package."""
    try:
        place = locate_source(version.source)
        if place.kind == "model":
            model = services.tracking.get_logged_model(place.owner)
            if services.tracking.logged_model_files(place.owner, place.path):
                root = logged_model_root(model.experiment_id, model.model_id)
                return f"{root}/{place.path}" if place.path else root
        elif place.kind == "run":
            run = services.tracking.get_run(place.owner)
            if services.tracking.artifact_files(place.owner, place.path):
                root = run_root(run.info.experiment_id, run.run_id)
                return f"{root}/{place.path}" if place.path else root
    except (NotFound, InvalidArgument):
        pass
    return version_root(version.name, version.version)
