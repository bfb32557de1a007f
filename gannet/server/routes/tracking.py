"""``/api/v1`` tracking routes: experiments (runs, metrics and artifacts beside them).

Each route is one ``TrackingService`` call of the same name; bodies are validated here
(types, required fields), rules in the service. Answers are the service's own types in
the one JSON encoding (``gannet.core.wire``), which the remote SDK decodes back.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer
from gannet.tracking.types import ViewType

router = APIRouter(prefix=API_PREFIX, tags=["tracking"])


class NewExperiment(BaseModel):
    name: str = Field(description="unique among experiments")
    tags: dict[str, str] = Field(default_factory=dict)
    experiment_id: str | None = Field(
        default=None, description="chosen by the client (a retried create finds it made)")
    project: str | None = Field(
        default=None, description="the project it belongs to (default: the server's)")


class ExperimentChange(BaseModel):
    name: str = Field(description="the new name")


class TagValue(BaseModel):
    value: str


@router.post("/experiments", status_code=201, summary="Create an experiment",
             response_model=shapes.EXPERIMENT_ID)
def create_experiment(body: NewExperiment, services: ServicesDep) -> Response:
    experiment_id = services.tracking.create_experiment(
        body.name, body.tags, experiment_id=body.experiment_id, project=body.project)
    return answer({"experiment_id": experiment_id}, 201)


@router.get("/experiments", summary="List experiments", response_model=shapes.EXPERIMENTS)
def search_experiments(
    services: ServicesDep, view: ViewType = ViewType.ACTIVE, filter_string: str | None = None,
    order_by: list[str] | None = Query(default=None),
) -> Response:
    found = services.tracking.search_experiments(view, filter_string=filter_string,
                                                 order_by=order_by)
    return answer({"experiments": found})


@router.get("/experiments/by-name", summary="An experiment by name (null if none)",
            response_model=shapes.MAYBE_EXPERIMENT)
def get_experiment_by_name(name: str, services: ServicesDep) -> Response:
    return answer({"experiment": services.tracking.get_experiment_by_name(name)})


@router.get("/experiments/{experiment_id}", summary="An experiment by id",
            response_model=shapes.EXPERIMENT)
def get_experiment(experiment_id: str, services: ServicesDep) -> Response:
    return answer({"experiment": services.tracking.get_experiment(experiment_id)})


@router.patch("/experiments/{experiment_id}", summary="Rename an experiment",
              response_model=shapes.DONE)
def rename_experiment(experiment_id: str, body: ExperimentChange,
                      services: ServicesDep) -> Response:
    services.tracking.rename_experiment(experiment_id, body.name)
    return answer({})


@router.delete("/experiments/{experiment_id}", summary="Delete an experiment (soft)",
               response_model=shapes.DONE)
def delete_experiment(experiment_id: str, services: ServicesDep) -> Response:
    services.tracking.delete_experiment(experiment_id)
    return answer({})


@router.post("/experiments/{experiment_id}/restore", summary="Restore a deleted experiment",
             response_model=shapes.DONE)
def restore_experiment(experiment_id: str, services: ServicesDep) -> Response:
    services.tracking.restore_experiment(experiment_id)
    return answer({})


@router.put("/experiments/{experiment_id}/tags/{key:path}", summary="Set an experiment's tag",
            response_model=shapes.DONE)
def set_experiment_tag(experiment_id: str, key: str, body: TagValue,
                       services: ServicesDep) -> Response:
    services.tracking.set_experiment_tag(experiment_id, key, body.value)
    return answer({})
