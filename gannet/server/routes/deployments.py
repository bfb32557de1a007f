"""``/api/v1`` deployment routes: what inference servers serve, changed one revision at a
time, and the deployable bundle.

Each route is one ``DeploymentService`` call of the same name. Route keys travel as JSON
object keys (strings): ``"3"``, ``"v3"``, ``"churn/3"`` and ``"@champion"`` all read as the
service reads them. ``GET /deployments/{name}/bundle`` writes the bundle on the server
into a temporary folder and streams it back as one gzipped tar (files in the order the
bundle wrote them).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer
from gannet.serving.deployments.types import RouteSpec

router = APIRouter(prefix=API_PREFIX, tags=["deployments"])

ONE = "/deployments/{name}"
BUNDLE_TYPE = "application/gzip"
NON_FINITE = ("NaN", "Infinity", "-Infinity")


class NewDeployment(BaseModel):
    name: str
    model: str = Field(description="the registered model it serves")
    routes: dict[str, Any] | None = Field(
        default=None, description="ref or version -> relative weight; default: @champion, "
        "else @latest, with all the traffic")
    description: str = ""
    sticky_key: str | None = None
    reason: str = ""
    project: str | None = Field(default=None, description="default: the model's project")
    features: list[str] | None = Field(default=None, description="view:feature refs the "
                                       "server looks up by each request's entity keys")
    on_unavailable: str = Field(default="error", description="online store down: error "
                                "(503) or defaults")
    feature_defaults: dict[str, Any] | None = None


class Traffic(BaseModel):
    routes: dict[str, Any] = Field(description="ref or version -> relative weight (> 0)")
    reason: str = ""


class Shadows(BaseModel):
    refs: list[str | int] | None = Field(description="refs that get a copy; null stops it")
    reason: str = ""


class StickyKey(BaseModel):
    key: str | None = Field(description="a request header or JSON field; null: none")
    reason: str = ""


class LogFields(BaseModel):
    masked: list[str] = Field(default_factory=list)
    hashed: list[str] = Field(default_factory=list)
    reason: str = ""


class Features(BaseModel):
    features: list[str] | None = Field(description="view:feature refs; null or []: none")
    on_unavailable: str = Field(default="error", description="error (503) or defaults")
    defaults: dict[str, Any] | None = Field(default=None, description="feature -> value")
    reason: str = ""


class Rollback(BaseModel):
    reason: str = ""
    to: int | None = Field(default=None, description="a revision; default: the previous one")


@router.post("/deployments", status_code=201, summary="Create a deployment",
             response_model=shapes.STATE)
def create_deployment(body: NewDeployment, services: ServicesDep) -> Response:
    routes = _weights(body.routes) if body.routes is not None else None
    state = services.deployments.create_deployment(
        body.name, body.model, routes, description=body.description,
        sticky_key=body.sticky_key, reason=body.reason, project=body.project,
        features=body.features, on_unavailable=body.on_unavailable,
        feature_defaults=body.feature_defaults)
    return answer({"state": state}, 201)


@router.get("/deployments", summary="Every deployment's current state (of one model)",
            response_model=shapes.STATES)
def list_deployments(services: ServicesDep, model: str | None = None) -> Response:
    return answer({"deployments": services.deployments.list_deployments(model)})


@router.get(ONE, summary="A deployment: state, creator, what each ref resolves to",
            response_model=shapes.DEPLOYMENT)
def get_deployment(name: str, services: ServicesDep) -> Response:
    return answer({"deployment": services.deployments.get_deployment(name)})


@router.get(ONE + "/state", summary="A deployment's current state (what servers poll)",
            response_model=shapes.STATE)
def get_deployment_state(name: str, services: ServicesDep) -> Response:
    return answer({"state": services.deployments.get_deployment_state(name)})


@router.get(ONE + "/history", summary="Every revision, newest first",
            response_model=shapes.HISTORY)
def get_deployment_history(name: str, services: ServicesDep) -> Response:
    return answer({"history": services.deployments.get_deployment_history(name)})


@router.put(ONE + "/traffic", summary="Route the traffic by relative weights",
            response_model=shapes.STATE)
def set_deployment_traffic(name: str, body: Traffic, services: ServicesDep) -> Response:
    state = services.deployments.set_deployment_traffic(name, _weights(body.routes), body.reason)
    return answer({"state": state})


@router.put(ONE + "/shadows", summary="Copy the traffic to these refs too",
            response_model=shapes.STATE)
def set_deployment_shadows(name: str, body: Shadows, services: ServicesDep) -> Response:
    state = services.deployments.set_deployment_shadows(name, body.refs, body.reason)
    return answer({"state": state})


@router.put(ONE + "/sticky-key", summary="Pin callers to a route by a key",
            response_model=shapes.STATE)
def set_deployment_sticky_key(name: str, body: StickyKey, services: ServicesDep) -> Response:
    state = services.deployments.set_deployment_sticky_key(name, body.key, body.reason)
    return answer({"state": state})


@router.put(ONE + "/log-fields", summary="Input columns the inference log masks or hashes",
            response_model=shapes.STATE)
def set_deployment_log_fields(name: str, body: LogFields, services: ServicesDep) -> Response:
    state = services.deployments.set_deployment_log_fields(
        name, body.masked, body.hashed, body.reason)
    return answer({"state": state})


@router.put(ONE + "/features", summary="Features the server adds to each request",
            response_model=shapes.STATE)
def set_deployment_features(name: str, body: Features, services: ServicesDep) -> Response:
    state = services.deployments.set_deployment_features(
        name, body.features, on_unavailable=body.on_unavailable, defaults=body.defaults,
        reason=body.reason)
    return answer({"state": state})


@router.post(ONE + "/rollback", summary="Make an earlier revision's state current again",
             response_model=shapes.STATE)
def rollback_deployment(name: str, body: Rollback, services: ServicesDep) -> Response:
    state = services.deployments.rollback_deployment(name, body.reason, to=body.to)
    return answer({"state": state})


@router.delete(ONE, summary="Delete a deployment and its history", response_model=shapes.DONE)
def delete_deployment(name: str, services: ServicesDep) -> Response:
    services.deployments.delete_deployment(name)
    return answer({})


@router.get(ONE + "/bundle", summary="The deployable bundle, as a gzipped tar",
            **shapes.not_json(BUNDLE_TYPE, description="a gzipped tar of the bundle"))
def bundle_deployment(
    name: str,
    services: ServicesDep,
    image: str | None = Query(default=None, description="base image"),
    port: int = Query(default=8080),
    replicas: int = Query(default=2),
) -> Response:
    folder = Path(tempfile.mkdtemp(prefix="gannet-bundle-"))
    try:
        files = services.deployments.bundle_deployment(
            name, folder / "bundle", image=image, port=port, replicas=replicas)
        archive = _tar(folder, [Path(f) for f in files])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return StreamingResponse(
        _read(archive), media_type=BUNDLE_TYPE,
        headers={"content-disposition": f'attachment; filename="{name}-bundle.tar.gz"'},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _weights(routes: dict[str, Any]) -> RouteSpec:
    """Weights as given, but a non-finite one as the API writes it (``"NaN"``,
    ``"Infinity"``, ``"-Infinity"``: JSON has no literal for them) back to its float, so
    the service refuses it for what it is."""
    weights = {ref: float(w) if isinstance(w, str) and w in NON_FINITE else w
               for ref, w in routes.items()}
    return cast("RouteSpec", weights)  # the service checks every weight


def _tar(folder: Path, files: list[Path]) -> Path:
    """The bundle's files, paths relative to the bundle, in the order they were written."""
    archive = folder / "bundle.tar.gz"
    root = folder / "bundle"
    with tarfile.open(archive, "w:gz") as tar:
        for path in files:
            tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return archive


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            yield chunk
