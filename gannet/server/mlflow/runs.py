"""MLflow's run endpoints (``/mlflow/runs/...``, ``/mlflow/metrics/...``) over
``TrackingService``: create, read, update, delete and search runs, log to them.

What MLflow's client writes as tags at ``start_run`` that Gannet keeps as a run's own
fields becomes those fields too (``mlflow.parentRunId`` the parent, ``mlflow.source.*``
the source, ``mlflow.runName`` the name), the tags staying as given. Setting the tag
``mlflow.runName`` renames the run, as on MLflow's server.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from gannet.core.errors import InvalidArgument
from gannet.core.pagination import decode_token, encode_token, query_fingerprint
from gannet.server.deps import ServicesDep
from gannet.server.mlflow import translate
from gannet.server.mlflow.messages import (
    KeyValue,
    Message,
    RunMessage,
    as_dict,
    ok,
    paged,
    required,
    view_of,
)
from gannet.tracking.types import Metric

if TYPE_CHECKING:
    from gannet.bootstrap import Services

router = APIRouter(tags=["mlflow: runs"])

HISTORY_LIMIT = 25_000  # MLflow's page of metric history
LOG_MODEL_HISTORY = "mlflow.log-model.history"


class CreateRun(Message):
    experiment_id: str | None = None
    user_id: str | None = None
    run_name: str | None = None
    start_time: int | None = None
    tags: list[KeyValue] | None = None


class UpdateRun(RunMessage):
    status: str | None = None
    end_time: int | None = None
    run_name: str | None = None


class LogMetric(RunMessage):
    key: str | None = None
    value: float | None = None
    timestamp: int | None = None
    step: int | None = None
    model_id: str | None = None


class MetricIn(Message):
    key: str
    value: float
    timestamp: int | None = None
    step: int | None = None
    model_id: str | None = None


class LogParam(RunMessage):
    key: str | None = None
    value: str = ""


class DeleteTag(RunMessage):
    key: str | None = None


class LogBatch(RunMessage):
    metrics: list[MetricIn] | None = None
    params: list[KeyValue] | None = None
    tags: list[KeyValue] | None = None


class LogInputs(RunMessage):
    datasets: list[dict[str, Any]] | None = None
    models: list[dict[str, Any]] | None = None


class LogModel(RunMessage):
    model_json: str | None = None


class SearchRuns(Message):
    experiment_ids: list[str] | None = None
    filter: str | None = None
    run_view_type: str | int | None = None
    max_results: int | None = None
    order_by: list[str] | None = None
    page_token: str | None = None


class MetricHistory(RunMessage):
    metric_key: str | None = None
    max_results: int | None = None
    page_token: str | None = None


@router.post("/runs/create", summary="Create a run")
def create_run(body: CreateRun, services: ServicesDep) -> Response:
    tags = as_dict(body.tags)
    run = services.tracking.create_run(
        body.experiment_id or "0",
        run_name=body.run_name or tags.get(translate.RUN_NAME_TAG) or None,
        tags=tags,
        parent_run_id=tags.get(translate.PARENT_TAG) or None,
        start_time=body.start_time or None,
        user_id=body.user_id or tags.get("mlflow.user") or None,
        source_name=tags.get("mlflow.source.name", ""),
        source_type=tags.get("mlflow.source.type", "LOCAL"),
        git_commit=tags.get("mlflow.source.git.commit") or None,
    )
    return ok({"run": translate.run(run)})


@router.get("/runs/get", summary="A run: info, latest metrics, params, tags")
def get_run(query: Annotated[RunMessage, Query()], services: ServicesDep) -> Response:
    run = services.tracking.get_run(query.run)
    models = services.tracking.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run.run_id}'")
    return ok({"run": translate.run(run, [m.model_id for m in models])})


@router.post("/runs/update", summary="Update a run's status, end time or name")
def update_run(body: UpdateRun, services: ServicesDep) -> Response:
    services.tracking.update_run(body.run, status=body.status, end_time=body.end_time,
                                 run_name=body.run_name)
    return ok({"run_info": translate.run_info(services.tracking.get_run(body.run).info)})


@router.post("/runs/delete", summary="Delete a run (soft)")
def delete_run(body: RunMessage, services: ServicesDep) -> Response:
    services.tracking.delete_run(body.run)
    return ok()


@router.post("/runs/restore", summary="Restore a deleted run")
def restore_run(body: RunMessage, services: ServicesDep) -> Response:
    services.tracking.restore_run(body.run)
    return ok()


@router.post("/runs/log-metric", summary="Log one metric point")
def log_metric(body: LogMetric, services: ServicesDep) -> Response:
    point = Metric(required(body.key, "key"), required(body.value, "value"),
                   body.timestamp, body.step or 0)  # type: ignore[arg-type]
    services.tracking.log_batch(body.run, metrics=[point],
                                skip_logged_points=body.model_id is not None)
    return ok()


@router.post("/runs/log-parameter", summary="Log one param (params never change)")
def log_param(body: LogParam, services: ServicesDep) -> Response:
    services.tracking.log_batch(body.run, params={required(body.key, "key"): body.value})
    return ok()


@router.post("/runs/set-tag", summary="Set a tag of a run")
def set_tag(body: LogParam, services: ServicesDep) -> Response:
    _set_tags(services, body.run, {required(body.key, "key"): body.value})
    return ok()


@router.post("/runs/delete-tag", summary="Delete a tag of a run")
def delete_tag(body: DeleteTag, services: ServicesDep) -> Response:
    services.tracking.delete_tag(body.run, required(body.key, "key"))
    return ok()


@router.post("/runs/log-batch", summary="Log metrics, params and tags at once")
def log_batch(body: LogBatch, services: ServicesDep) -> Response:
    metrics = [Metric(m.key, m.value, m.timestamp, m.step or 0)  # type: ignore[arg-type]
               for m in body.metrics or ()]
    linked = any(m.model_id for m in body.metrics or ())
    tags = as_dict(body.tags)
    services.tracking.log_batch(body.run, metrics=metrics, params=as_dict(body.params),
                                tags=tags, skip_logged_points=linked)
    _renamed(services, body.run, tags)
    return ok()


@router.post("/runs/log-inputs", summary="Record a run's datasets (kept as tags)")
def log_inputs(body: LogInputs, services: ServicesDep) -> Response:
    """A dataset named as a Gannet dataset version (``churn@3``) is linked in the lineage
    graph too (``gannet lineage churn@3`` names the run)."""
    tags = _dataset_tags(body.datasets or [])
    inputs = [(value["name"], value["context"]) for value in map(json.loads, tags.values())]
    services.data.log_inputs(body.run, tags, inputs)
    return ok()


@router.post("/runs/outputs", summary="Record a run's logged models (known already)")
def log_outputs(body: RunMessage, services: ServicesDep) -> Response:
    services.tracking.check_run_active(body.run)
    return ok()


@router.post("/runs/log-model", summary="Record a logged model (MLflow 2's clients)")
def log_model(body: LogModel, services: ServicesDep) -> Response:
    model = json.loads(required(body.model_json, "model_json"))
    run = services.tracking.get_run(body.run)
    history = json.loads(run.data.tags.get(LOG_MODEL_HISTORY, "[]"))
    services.tracking.log_batch(body.run, tags={LOG_MODEL_HISTORY: json.dumps(
        [*history, model])})
    return ok()


@router.post("/runs/search", summary="Search runs (MLflow's filter language)")
def search_runs(body: SearchRuns, services: ServicesDep) -> Response:
    found = services.tracking.search_runs(
        body.experiment_ids or [], body.filter, body.order_by,
        max_results=1000 if body.max_results is None else body.max_results,
        page_token=body.page_token or None, view=view_of(body.run_view_type))
    return paged("runs", [translate.run(r) for r in found.items], found.next_page_token)


@router.get("/metrics/get-history", summary="Every point of one metric of a run")
def get_metric_history(query: Annotated[MetricHistory, Query()], services: ServicesDep
                       ) -> Response:
    key = required(query.metric_key, "metric_key")
    if query.max_results is None and not query.page_token:
        points = services.tracking.get_metric_history(query.run, key)
        return paged("metrics", [translate.metric(m) for m in points], None)
    size = min(int(query.max_results or HISTORY_LIMIT), HISTORY_LIMIT)
    if size < 1:
        raise InvalidArgument(f"max_results must be positive, got {size}")
    fingerprint = query_fingerprint(query.run, key)
    offset = decode_token(query.page_token, fingerprint)
    points = services.tracking.get_metric_history(query.run, key, offset=offset,
                                                  limit=size + 1)
    token = encode_token(offset + size, fingerprint) if len(points) > size else None
    return paged("metrics", [translate.metric(m) for m in points[:size]], token)


def _set_tags(services: Services, run_id: str, tags: dict[str, str]) -> None:
    services.tracking.log_batch(run_id, tags=tags)
    _renamed(services, run_id, tags)


def _renamed(services: Services, run_id: str, tags: dict[str, str]) -> None:
    """The tag ``mlflow.runName`` names the run (as MLflow's server has it)."""
    if tags.get(translate.RUN_NAME_TAG):
        services.tracking.update_run(run_id, run_name=tags[translate.RUN_NAME_TAG])


def _dataset_tags(datasets: list[dict[str, Any]]) -> dict[str, str]:
    """One tag per dataset input (``mlflow.dataset.<digest>``): its name, digest, source
    and context, as JSON. What does not fit a tag (schemas, profiles) is left out."""
    tags = {}
    for entry in datasets:
        dataset = entry.get("dataset")
        dataset = dataset if isinstance(dataset, dict) else {}
        digest = "".join(c for c in str(dataset.get("digest", "")) if c.isalnum())[:64]
        tags_given = entry.get("tags")
        context = {t.get("key"): t.get("value") for t in
                   (tags_given if isinstance(tags_given, list) else []) if isinstance(t, dict)}
        value = {k: str(dataset.get(k, ""))[:1500] for k in
                 ("name", "digest", "source_type", "source")}
        value["context"] = str(context.get("mlflow.data.context", ""))[:500]
        tags[f"mlflow.dataset.{digest or 'unnamed'}"] = json.dumps(value)
    return tags

