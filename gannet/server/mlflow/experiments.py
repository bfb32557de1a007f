"""MLflow's experiment endpoints (``/mlflow/experiments/...``) over ``TrackingService``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import Response

from gannet.core.errors import NotFound
from gannet.server.deps import ServicesDep
from gannet.server.mlflow import translate
from gannet.server.mlflow.messages import (
    KeyValue,
    Message,
    as_dict,
    ok,
    page,
    paged,
    required,
    view_of,
)
from gannet.server.mlflow.workspaces import workspace_of

router = APIRouter(tags=["mlflow: experiments"])

DEFAULT_ORDER = ["creation_time DESC", "experiment_id ASC"]  # MLflow's server's
SEARCH_DEFAULT, SEARCH_LIMIT = 1000, 50_000


class CreateExperiment(Message):
    name: str | None = None
    artifact_location: str | None = Field(
        default=None, description="ignored: artifacts live in this server's store")
    tags: list[KeyValue] | None = None


class ExperimentMessage(Message):
    experiment_id: str | None = None


class UpdateExperiment(ExperimentMessage):
    new_name: str | None = None


class SetExperimentTag(ExperimentMessage):
    key: str | None = None
    value: str = ""


class SearchExperiments(Message):
    max_results: int | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] | None = None
    view_type: str | int | None = None


@router.post("/experiments/create", summary="Create an experiment (in the workspace's project)")
def create_experiment(body: CreateExperiment, request: Request, services: ServicesDep
                      ) -> Response:
    experiment_id = services.tracking.create_experiment(
        required(body.name, "name"), as_dict(body.tags), project=workspace_of(request))
    return ok({"experiment_id": experiment_id})


@router.get("/experiments/get", summary="An experiment by id (deleted ones too)")
def get_experiment(services: ServicesDep, experiment_id: str | None = None) -> Response:
    found = services.tracking.get_experiment(required(experiment_id, "experiment_id"))
    return ok({"experiment": translate.experiment(found)})


@router.get("/experiments/get-by-name", summary="An experiment by name")
def get_experiment_by_name(services: ServicesDep, experiment_name: str | None = None
                           ) -> Response:
    name = required(experiment_name, "experiment_name")
    found = services.tracking.get_experiment_by_name(name)
    if found is None:
        raise NotFound(f"Could not find experiment with name '{name}'",
                       "create it first (mlflow.set_experiment creates it)")
    return ok({"experiment": translate.experiment(found)})


def _search(body: SearchExperiments, services: ServicesDep) -> Response:
    found = services.tracking.search_experiments(
        view_of(body.view_type), filter_string=body.filter,
        order_by=body.order_by or DEFAULT_ORDER)
    chunk, token = page(found, body.max_results, body.page_token, body.filter,
                        body.order_by, str(body.view_type), default=SEARCH_DEFAULT,
                        limit=SEARCH_LIMIT)
    return paged("experiments", [translate.experiment(e) for e in chunk], token)


@router.post("/experiments/search", summary="Search experiments (MLflow's filter language)")
def search_experiments(body: SearchExperiments, services: ServicesDep) -> Response:
    return _search(body, services)


@router.get("/experiments/search", summary="Search experiments (as query parameters)")
def search_experiments_get(query: Annotated[SearchExperiments, Query()],
                           services: ServicesDep) -> Response:
    return _search(query, services)


@router.post("/experiments/update", summary="Rename an experiment")
def update_experiment(body: UpdateExperiment, services: ServicesDep) -> Response:
    experiment_id = required(body.experiment_id, "experiment_id")
    if body.new_name:
        services.tracking.rename_experiment(experiment_id, body.new_name)
    else:
        services.tracking.get_experiment(experiment_id)
    return ok()


@router.post("/experiments/delete", summary="Delete an experiment (soft)")
def delete_experiment(body: ExperimentMessage, services: ServicesDep) -> Response:
    services.tracking.delete_experiment(required(body.experiment_id, "experiment_id"))
    return ok()


@router.post("/experiments/restore", summary="Restore a deleted experiment")
def restore_experiment(body: ExperimentMessage, services: ServicesDep) -> Response:
    services.tracking.restore_experiment(required(body.experiment_id, "experiment_id"))
    return ok()


@router.post("/experiments/set-experiment-tag", summary="Set a tag of an experiment")
def set_experiment_tag(body: SetExperimentTag, services: ServicesDep) -> Response:
    services.tracking.set_experiment_tag(
        required(body.experiment_id, "experiment_id"), required(body.key, "key"), body.value)
    return ok()
