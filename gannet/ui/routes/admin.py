"""Administration, to read: users with their projects and roles, and the audit log.

Each page is one ``AuthService`` call, which lets only administrators list users or read
the audit log on a team server (everyone else is shown why not). Changing users, tokens,
projects and roles stays with the CLI and the API for now.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

AUDIT_PAGE = 200


@router.get("/admin")
@shown("admin")
def users(request: Request) -> Response:
    found = services_of(request).auth.list_users()
    return page(request, "admin.html.j2", "Users", "admin", users=found)


@router.get("/admin/audit")
@shown("admin")
def audit(request: Request, target: str = "") -> Response:
    entries = services_of(request).auth.search_audit_log(target, AUDIT_PAGE)
    return page(request, "audit.html.j2", "Audit log", "admin", entries=entries,
                target=target, limit=AUDIT_PAGE)
