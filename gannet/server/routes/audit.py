"""``/api/v1`` audit routes: the record of who changed what, when, from where and why.

``GET /audit`` is ``AuthService.search_audit_log`` (newest first, narrowed by a target
prefix such as ``model:churn``); reading it is for administrators, which the service
decides. ``GET /whoami`` names the caller as the server authenticated them (what an
approval or a revision records as its user).
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.responses import Response

from gannet.server.deps import API_PREFIX, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["audit"])


@router.get("/audit", summary="Audit entries, newest first")
def search_audit_log(
    services: ServicesDep,
    target: str = Query(default="", description="a prefix of the target, e.g. model:churn"),
    limit: int = Query(default=100, description="at most this many entries"),
) -> Response:
    return answer({"entries": services.auth.search_audit_log(target, limit)})


@router.get("/whoami", summary="The caller, as the server knows them")
def whoami(services: ServicesDep) -> Response:
    return answer({"user": services.auth.current_user})
