"""Administration: users with their projects and roles, projects and their members, a
user's API tokens, the audit log; and the common changes, as POST forms (CSRF-checked).

Each route is one ``AuthService`` call, the one ``gannet users``, ``gannet tokens`` and
``gannet projects`` and the REST API (``/api/v1/users``, ``/tokens``, ``/projects``) make:
``list_users`` (the users page, with ``list_projects`` for its projects), ``create_user``,
``create_project``, ``add_member`` (grant a role in a project, or change it),
``remove_member`` (revoke it), ``list_tokens``, ``create_token`` and ``revoke_token``.
The service decides who may, exactly as for the API: on a team server only
administrators list users (so nobody else is shown the page, or its forms), and a
refusal is the API's (403, or 404 for what the caller may not know of), shown as a page.
A token's secret is shown on the answer that made it, and never again.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.actor import ROLES
from gannet.ui.pages import form_of, in_thread, page, see_other, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

AUDIT_PAGE = 200
DONE = {"user": "Created the user {}.", "project": "Created the project {}.",
        "member": "Changed the members of {}.", "token": "Revoked the token {}."}


@router.get("/admin")
@shown("admin")
def users(request: Request, done: str = "", name: str = "") -> Response:
    auth = services_of(request).auth
    found = auth.list_users()
    projects = auth.list_projects()
    return page(request, "admin.html.j2", "Users", "admin", users=found, projects=projects,
                roles=ROLES, done=_done(done, name))


@router.post("/admin/users")
@shown("admin")
async def create_user(request: Request) -> Response:
    form = await form_of(request)
    auth = services_of(request).auth
    made = await in_thread(lambda: auth.create_user(
        form.get("name", ""), password=form.get("password") or None,
        admin=form.get("admin") == "on"))
    return see_other(_back("user", made.name))


@router.post("/admin/projects")
@shown("admin")
async def create_project(request: Request) -> Response:
    form = await form_of(request)
    made = await in_thread(services_of(request).auth.create_project, form.get("name", ""),
                           form.get("description", ""))
    return see_other(_back("project", made.name))


@router.post("/admin/members")
@shown("admin")
async def add_member(request: Request) -> Response:
    form = await form_of(request)
    changed = await in_thread(services_of(request).auth.add_member, form.get("project", ""),
                              form.get("user", ""), form.get("role", ""))
    return see_other(_back("member", changed.name))


@router.post("/admin/members/remove")
@shown("admin")
async def remove_member(request: Request) -> Response:
    form = await form_of(request)
    changed = await in_thread(services_of(request).auth.remove_member,
                              form.get("project", ""), form.get("user", ""))
    return see_other(_back("member", changed.name))


@router.get("/admin/users/{name}/tokens")
@shown("admin")
def tokens(request: Request, name: str, revoked: str = "") -> Response:
    found = services_of(request).auth.list_tokens(name)
    return page(request, "admin_tokens.html.j2", f"API tokens of {name}", "admin",
                user=name, tokens=found, done=_done("token", revoked))


@router.post("/admin/users/{name}/tokens")
@shown("admin")
async def create_token(request: Request, name: str) -> Response:
    """A new API token of ``name``: its secret shown on this answer alone, never stored in
    a page that can be reloaded or cached."""
    form = await form_of(request)
    made = await in_thread(lambda: services_of(request).auth.create_token(
        form.get("token_name", ""), user=name, expires_in=form.get("expires_in") or None))
    answer = page(request, "admin_token_made.html.j2", f"A new API token of {name}", "admin",
                  status_code=201, user=name, made=made)
    answer.headers["cache-control"] = "no-store"
    return answer


@router.post("/admin/tokens/{token_id}/revoke")
@shown("admin")
async def revoke_token(request: Request, token_id: str) -> Response:
    await form_of(request)
    revoked = await in_thread(services_of(request).auth.revoke_token, token_id)
    said = quote(f"{revoked.name} ({revoked.id})", safe="")
    return see_other(f"/ui/admin/users/{quote(revoked.user, safe='')}/tokens?revoked={said}")


@router.get("/admin/audit")
@shown("admin")
def audit(request: Request, target: str = "") -> Response:
    entries = services_of(request).auth.search_audit_log(target, AUDIT_PAGE)
    return page(request, "audit.html.j2", "Audit log", "admin", entries=entries,
                target=target, limit=AUDIT_PAGE)


def _back(done: str, name: str) -> str:
    """The users page, saying what was done to which."""
    return f"/ui/admin?done={done}&name={quote(name, safe='')}"


def _done(done: str, name: str) -> str:
    return DONE[done].format(name) if done in DONE and name else ""
