"""Our types in MLflow's JSON shapes (what ``mlflow``'s client parses into its entities).

MLflow's wire format is its protobuf messages as JSON: snake_case fields, int64 as JSON
numbers, enums by name, unset fields left out, key/value maps as lists of
``{"key", "value"}``. Ids are strings, times milliseconds since the epoch.

Artifacts are always reached through this server's proxy: a run's ``artifact_uri`` is
``mlflow-artifacts:/<experiment id>/<run id>/artifacts`` and a logged model's
``mlflow-artifacts:/<experiment id>/models/<model id>/artifacts``, which the client turns
into ``<tracking URI>/api/2.0/mlflow-artifacts/artifacts/...`` (``locations`` reads those
paths back).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from gannet.registry.types import ModelVersion, RegisteredModel, VersionStatus
from gannet.server.mlflow.locations import (
    ARTIFACTS_SCHEME,
    logged_model_root,
    model_id_of_source,
    run_root,
)
from gannet.tracking.types import Experiment, LoggedModel, Metric, Run, RunInfo

__all__ = [
    "experiment", "key_values", "logged_model", "metric", "model_version", "number",
    "registered_model", "run", "run_info",
]

RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
LOGGED_MODEL_STATUS = {"PENDING": "LOGGED_MODEL_PENDING", "READY": "LOGGED_MODEL_READY",
                       "FAILED": "LOGGED_MODEL_UPLOAD_FAILED"}


def number(value: float) -> float | str:
    """A double as protobuf's JSON writes it: NaN and the infinities as strings (JSON has
    no literal for them; MLflow's client reads these back)."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def key_values(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def experiment(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": f"{ARTIFACTS_SCHEME}/{e.experiment_id}",
        "lifecycle_stage": e.lifecycle_stage,
        "last_update_time": e.last_update_time,
        "creation_time": e.creation_time,
        "tags": key_values(e.tags),
    }


def run_info(info: RunInfo) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,  # deprecated by MLflow, still read by older clients
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status.value,
        "start_time": info.start_time,
        "artifact_uri": run_root(info.experiment_id, info.run_id),
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        shape["end_time"] = info.end_time
    return shape


def run(r: Run, model_outputs: Iterable[str] = ()) -> dict[str, Any]:
    """A run; its tags as MLflow's server keeps them (the run name and parent as tags too).
    Metrics are the latest value of each key (their time and step are not kept with it:
    0 here; a metric's history has them)."""
    tags = dict(r.data.tags)
    tags.setdefault(RUN_NAME_TAG, r.info.run_name)
    if r.info.parent_run_id:
        tags.setdefault(PARENT_TAG, r.info.parent_run_id)
    return {
        "info": run_info(r.info),
        "data": {
            "metrics": [{"key": k, "value": number(v), "timestamp": 0, "step": 0}
                        for k, v in r.data.metrics.items()],
            "params": key_values(r.data.params),
            "tags": key_values(tags),
        },
        "inputs": {},
        "outputs": {"model_outputs": [{"model_id": m, "step": 0} for m in model_outputs]},
    }


def metric(m: Metric, run_id: str | None = None) -> dict[str, Any]:
    shape: dict[str, Any] = {"key": m.key, "value": number(m.value), "timestamp": m.timestamp,
                             "step": m.step}
    if run_id is not None:
        shape["run_id"] = run_id
    return shape


def registered_model(m: RegisteredModel, latest: Iterable[ModelVersion] = ()) -> dict[str, Any]:
    return {
        "name": m.name,
        "creation_timestamp": m.creation_time,
        "last_updated_timestamp": m.last_update_time,
        "description": m.description,
        "latest_versions": [model_version(v) for v in latest],
        "tags": key_values(m.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
    }


def model_version(v: ModelVersion) -> dict[str, Any]:
    """A version; always ``READY`` (registration is done when the call answers: an absent
    status would read as PENDING_REGISTRATION and the client would wait for it)."""
    shape: dict[str, Any] = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.creation_time,
        "last_updated_timestamp": v.last_update_time,
        "user_id": v.user_id,
        "current_stage": "Archived" if v.status == VersionStatus.ARCHIVED else "None",
        "description": v.description,
        "source": v.source,
        "status": "READY",
        "tags": key_values(v.tags),
        "aliases": list(v.aliases),
    }
    if v.run_id:
        shape["run_id"] = v.run_id
    model_id = model_id_of_source(v.source)
    if model_id:
        shape["model_id"] = model_id
    return shape


def logged_model(m: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": m.model_id,
        "experiment_id": m.experiment_id,
        "name": m.name,
        "creation_timestamp_ms": m.creation_time,
        "last_updated_timestamp_ms": m.last_update_time,
        "artifact_uri": logged_model_root(m.experiment_id, m.model_id),
        "status": LOGGED_MODEL_STATUS[m.status.value],
        "tags": key_values(m.tags),
    }
    for field, value in (("source_run_id", m.source_run_id), ("model_type", m.model_type),
                         ("status_message", m.status_message)):
        if value:
            info[field] = value
    return {"info": info, "data": {"params": key_values(m.params), "metrics": []}}
