"""``/api/v1`` run routes: create, read, update, delete and restore runs; log to them (one
batch of one run, or the SDK buffer's batches of many runs); their params, metric
histories and tags; search.

Each route is one ``TrackingService`` call of the same name. Retried requests never write
twice: a run's id and a batch's id are chosen by the client (a retry sends the same ones;
the service recognises a run it made and a batch it wrote), and every other write here
sets a state, which done twice is done once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.core import wire
from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer
from gannet.tracking.environment import Environment
from gannet.tracking.types import Metric, Pending, RunStatus, ViewType

router = APIRouter(prefix=API_PREFIX, tags=["runs"])

# JSON has no NaN or infinities: they travel as these strings (gannet.core.wire)
Number = Annotated[float, Field(allow_inf_nan=True)]
BatchId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                               description="chosen by the client, the same on every retry")]


class GitBody(BaseModel):
    commit: str
    branch: str | None = None
    dirty: bool = False
    diff: str = ""
    remote: str | None = None


class EnvironmentBody(BaseModel):
    """What a run ran on (``gannet.tracking.environment.Environment``)."""

    python: str
    implementation: str
    platform: str
    packages: str
    packages_digest: str
    git: GitBody | None = None

    def to_environment(self) -> Environment:
        return wire.load(Environment, self.model_dump())


class NewRun(BaseModel):
    experiment_id: str
    run_id: str | None = Field(
        default=None, description="chosen by the client (a retried create finds its run)")
    run_name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    parent_run_id: str | None = None
    start_time: int | None = None
    user_id: str | None = None
    source_name: str = ""
    source_type: str = "LOCAL"
    git_commit: str | None = None
    environment: EnvironmentBody | None = None


class RunChange(BaseModel):
    status: str | None = Field(default=None, description=", ".join(s.value for s in RunStatus))
    end_time: int | None = None
    run_name: str | None = None


class MetricBody(BaseModel):
    key: str
    value: Number
    timestamp: int
    step: int = 0


class Batch(BaseModel):
    """Params, tags and metrics of one run, stored all together or not at all."""

    batch_id: BatchId | None = None
    metrics: list[MetricBody] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    skip_logged_points: bool = Field(
        default=False, description="leave out points equal to ones the run holds")


class PendingBatch(BaseModel):
    """What an SDK's log buffer writes at once, for any runs: points are [run_id, key,
    value, timestamp, step], params and tags [run_id, key, value], environments
    [run_id, environment]."""

    batch_id: BatchId
    points: list[tuple[str, str, Number, int, int]] = Field(default_factory=list)
    params: list[tuple[str, str, str]] = Field(default_factory=list)
    tags: list[tuple[str, str, str]] = Field(default_factory=list)
    environments: list[tuple[str, EnvironmentBody]] = Field(default_factory=list)

    def to_pending(self) -> Pending:
        return Pending(
            points=list(self.points),
            params=list(self.params),
            tags=list(self.tags),
            environments=[(run_id, env.to_environment()) for run_id, env in self.environments],
        )


class RunSearch(BaseModel):
    experiment_ids: list[str]
    filter_string: str | None = Field(default=None, description="MLflow's filter language")
    order_by: list[str] | str | None = None
    max_results: int = 1000
    page_token: str | None = None
    view: ViewType = ViewType.ACTIVE


@router.post("/runs", status_code=201, summary="Create a run", response_model=shapes.RUN)
def create_run(body: NewRun, services: ServicesDep) -> Response:
    values: dict[str, Any] = body.model_dump(exclude={"experiment_id", "environment"})
    if body.environment is not None:
        values["environment"] = body.environment.to_environment()
    run = services.tracking.create_run(body.experiment_id, **values)
    return answer({"run": run}, 201)


@router.post("/runs/search", summary="Search runs (MLflow's filter language, order, pages)",
             response_model=shapes.RUNS_PAGE)
def search_runs(body: RunSearch, services: ServicesDep) -> Response:
    page = services.tracking.search_runs(body.experiment_ids, body.filter_string, body.order_by,
                                         body.max_results, body.page_token, body.view)
    return answer({"runs": page.items, "next_page_token": page.next_page_token})


@router.post("/runs/write-pending", summary="Write an SDK log buffer's batch (many runs)",
             response_model=shapes.WRITE_REPORT)
def write_pending(body: PendingBatch, services: ServicesDep) -> Response:
    report = services.tracking.write_pending(body.to_pending(), batch_id=body.batch_id,
                                             validate=True)
    return answer({"report": report})


@router.get("/runs/{run_id}", summary="A run: info, latest metrics, params, tags",
            response_model=shapes.RUN)
def get_run(run_id: str, services: ServicesDep) -> Response:
    return answer({"run": services.tracking.get_run(run_id)})


@router.patch("/runs/{run_id}", summary="Change a run's status, end time or name",
              response_model=shapes.DONE)
def update_run(run_id: str, body: RunChange, services: ServicesDep) -> Response:
    services.tracking.update_run(run_id, status=body.status, end_time=body.end_time,
                                 run_name=body.run_name)
    return answer({})


@router.delete("/runs/{run_id}", summary="Delete a run (soft)", response_model=shapes.DONE)
def delete_run(run_id: str, services: ServicesDep) -> Response:
    services.tracking.delete_run(run_id)
    return answer({})


@router.post("/runs/{run_id}/restore", summary="Restore a deleted run", response_model=shapes.DONE)
def restore_run(run_id: str, services: ServicesDep) -> Response:
    services.tracking.restore_run(run_id)
    return answer({})


@router.post("/runs/{run_id}/log-batch", summary="Log metrics, params and tags at once",
             response_model=shapes.DONE)
def log_batch(run_id: str, body: Batch, services: ServicesDep) -> Response:
    metrics = [Metric(m.key, m.value, m.timestamp, m.step) for m in body.metrics]
    services.tracking.log_batch(run_id, metrics=metrics, params=body.params, tags=body.tags,
                                skip_logged_points=body.skip_logged_points,
                                batch_id=body.batch_id)
    return answer({})


@router.get("/runs/{run_id}/params", summary="A run's params", response_model=shapes.PARAMS)
def get_params(run_id: str, services: ServicesDep) -> Response:
    return answer({"params": services.tracking.get_params(run_id)})


@router.get("/runs/{run_id}/metric-history", summary="Every point of one metric of a run",
            response_model=shapes.METRIC_HISTORY)
def get_metric_history(run_id: str, services: ServicesDep,
                       key: Annotated[str, Query(description="the metric's key")],
                       offset: int = 0, limit: int | None = None) -> Response:
    points = services.tracking.get_metric_history(run_id, key, offset=offset, limit=limit)
    return answer({"metrics": points})


@router.delete("/runs/{run_id}/tags/{key:path}", summary="Delete a run's tag",
               response_model=shapes.DONE)
def delete_tag(run_id: str, key: str, services: ServicesDep) -> Response:
    services.tracking.delete_tag(run_id, key)
    return answer({})
