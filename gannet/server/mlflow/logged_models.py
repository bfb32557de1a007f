"""MLflow 3's logged-model endpoints (``/mlflow/logged-models...``), which every
``mlflow.<flavor>.log_model`` of an MLflow 3 client calls: create (``PENDING``), read,
upload the model folder to its ``artifact_uri`` (through the artifact proxy), finalize
(``READY``), tag; search (how ``register_model("runs:/...")`` finds a run's model).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.server.deps import ServicesDep
from gannet.server.mlflow import translate
from gannet.server.mlflow.locations import logged_model_root
from gannet.server.mlflow.messages import KeyValue, Message, as_dict, ok, page, paged, required
from gannet.tracking.types import LoggedModelStatus

router = APIRouter(tags=["mlflow: logged models"])

SEARCH_DEFAULT, SEARCH_LIMIT = 50, 10_000
STATUSES = {"LOGGED_MODEL_READY": LoggedModelStatus.READY, "2": LoggedModelStatus.READY,
            "LOGGED_MODEL_UPLOAD_FAILED": LoggedModelStatus.FAILED,
            "3": LoggedModelStatus.FAILED}


class CreateLoggedModel(Message):
    experiment_id: str | None = None
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] | None = None
    tags: list[KeyValue] | None = None


class Finalize(Message):
    status: str | int | None = None


class Tags(Message):
    tags: list[KeyValue] | None = None


class Params(Message):
    params: list[KeyValue] | None = None


class OrderBy(Message):
    field_name: str
    ascending: bool = True


class SearchLoggedModels(Message):
    experiment_ids: list[str] | None = None
    filter: str | None = None
    max_results: int | None = None
    order_by: list[OrderBy] | None = None
    page_token: str | None = None


class ListModelArtifacts(Message):
    artifact_directory_path: str | None = None
    page_token: str | None = None


@router.post("/logged-models", summary="Create a logged model (PENDING)")
def create_logged_model(body: CreateLoggedModel, services: ServicesDep) -> Response:
    made = services.tracking.create_logged_model(
        required(body.experiment_id, "experiment_id"), name=body.name,
        source_run_id=body.source_run_id or None, model_type=body.model_type or None,
        tags=as_dict(body.tags), params=as_dict(body.params))
    return ok({"model": translate.logged_model(made)})


@router.post("/logged-models/search", summary="Search logged models")
def search_logged_models(body: SearchLoggedModels, services: ServicesDep) -> Response:
    order = [f"{o.field_name} {'ASC' if o.ascending else 'DESC'}" for o in body.order_by or ()]
    found = services.tracking.search_logged_models(
        body.experiment_ids or [], filter_string=body.filter, order_by=order)
    chunk, token = page(found, body.max_results, body.page_token, body.experiment_ids,
                        body.filter, order, default=SEARCH_DEFAULT, limit=SEARCH_LIMIT)
    return paged("models", [translate.logged_model(m) for m in chunk], token)


@router.get("/logged-models/{model_id}", summary="A logged model")
def get_logged_model(model_id: str, services: ServicesDep) -> Response:
    return ok({"model": translate.logged_model(services.tracking.get_logged_model(model_id))})


@router.patch("/logged-models/{model_id}", summary="Finalize a logged model's upload")
def finalize_logged_model(model_id: str, body: Finalize, services: ServicesDep) -> Response:
    status = STATUSES.get(str(required(body.status, "status")))
    if status is None:
        raise InvalidArgument(f"a logged model is finalized as LOGGED_MODEL_READY or "
                              f"LOGGED_MODEL_UPLOAD_FAILED, not {body.status!r}")
    done = services.tracking.finalize_logged_model(model_id, status)
    return ok({"model": translate.logged_model(done)})


@router.delete("/logged-models/{model_id}", summary="Delete a logged model")
def delete_logged_model(model_id: str, services: ServicesDep) -> Response:
    services.tracking.delete_logged_model(model_id)
    return ok()


@router.patch("/logged-models/{model_id}/tags", summary="Set tags of a logged model")
def set_logged_model_tags(model_id: str, body: Tags, services: ServicesDep) -> Response:
    services.tracking.set_logged_model_tags(model_id, as_dict(body.tags))
    return ok({"model": translate.logged_model(services.tracking.get_logged_model(model_id))})


@router.delete("/logged-models/{model_id}/tags/{tag_key:path}",
               summary="Delete a tag of a logged model")
def delete_logged_model_tag(model_id: str, tag_key: str, services: ServicesDep) -> Response:
    services.tracking.delete_logged_model_tag(model_id, tag_key)
    return ok()


@router.post("/logged-models/{model_id}/params", summary="Log params of a logged model")
def log_logged_model_params(model_id: str, body: Params, services: ServicesDep) -> Response:
    services.tracking.log_logged_model_params(model_id, as_dict(body.params))
    return ok()


@router.get("/logged-models/{model_id}/artifacts/directories",
            summary="List a folder of a logged model's files")
def list_logged_model_artifacts(model_id: str, query: Annotated[ListModelArtifacts, Query()],
                                services: ServicesDep) -> Response:
    model = services.tracking.get_logged_model(model_id)
    path = query.artifact_directory_path or None
    files = services.tracking.list_logged_model_artifacts(model_id, path)
    if len(files) == 1 and not files[0].is_dir and files[0].path == (path or ""):
        files = []
    shaped = [{"path": f.path, "is_dir": f.is_dir,
               **({"file_size": f.size} if not f.is_dir and f.size is not None else {})}
              for f in files]
    return ok({"root_uri": logged_model_root(model.experiment_id, model_id), "files": shaped})
