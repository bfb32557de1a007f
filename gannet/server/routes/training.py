"""``/api/v1/policies`` and ``/api/v1/decisions``: continuous-training policies applied,
read, paused, resumed, approved and deleted, and the decisions their loops took.

Each route is one ``TrainingService`` call of the same name. A policy applied here names
its pipeline file by a path the server can read (``folder``: where relative paths start,
on the server): the team server's controller runs the retrain, not the client.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["continuous training"])

ONE = "/policies/{name}"


class PolicyText(BaseModel):
    text: str = Field(description="the policy's YAML", max_length=1_000_000)
    folder: str | None = Field(
        default=None, description="where its relative paths start, on the server "
        "(default: the server's working directory)")


class Approval(BaseModel):
    comment: str = ""


@router.post("/policies", summary="Apply a policy (replacing one of the same name)",
             response_model=shapes.POLICY)
def apply_policy(body: PolicyText, services: ServicesDep) -> Response:
    status = services.training.apply_policy(body.text, folder=body.folder,
                                            where="the policy sent")
    return answer({"policy": status})


@router.post("/policies/dry-run", summary="What applying a policy would lead to now, and why",
             response_model=shapes.DRY_RUN)
def dry_run_policy(body: PolicyText, services: ServicesDep) -> Response:
    return answer({"dry_run": services.training.dry_run_policy(body.text, folder=body.folder)})


@router.get("/policies", summary="Every policy the caller may read, with its loop's state",
            response_model=shapes.POLICIES)
def list_policies(services: ServicesDep) -> Response:
    return answer({"policies": services.training.list_policies()})


@router.get(ONE, summary="A policy and its loop's state", response_model=shapes.POLICY)
def get_policy_status(name: str, services: ServicesDep) -> Response:
    return answer({"policy": services.training.get_policy_status(name)})


@router.delete(ONE, summary="Delete a policy (its decisions stay)", response_model=shapes.DONE)
def delete_policy(name: str, services: ServicesDep) -> Response:
    services.training.delete_policy(name)
    return answer({})


@router.post(ONE + "/pause", summary="Leave the policy where it is", response_model=shapes.POLICY)
def pause_policy(name: str, services: ServicesDep) -> Response:
    return answer({"policy": services.training.pause_policy(name)})


@router.post(ONE + "/resume", summary="Let the controller act on it again",
             response_model=shapes.POLICY)
def resume_policy(name: str, services: ServicesDep) -> Response:
    return answer({"policy": services.training.resume_policy(name)})


@router.post(ONE + "/approve", summary="Approve the stage the policy waits at",
             response_model=shapes.DECISION)
def approve_policy(name: str, body: Approval, services: ServicesDep) -> Response:
    return answer({"decision": services.training.approve_policy(name, body.comment)})


@router.get("/decisions", summary="The controller's decisions, newest first",
            response_model=shapes.DECISIONS)
def list_decisions(services: ServicesDep, policy: str | None = None,
                   limit: int = Query(default=100, ge=1, le=10_000)) -> Response:
    return answer({"decisions": services.training.list_decisions(policy, limit)})
