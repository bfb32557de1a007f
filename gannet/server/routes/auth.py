"""``/api/v1`` auth routes: who am I, users, API tokens, projects and their members.

Each route is one ``AuthService`` call of the same name; the service decides who may
(administrators manage users; anyone their own tokens; owners their projects' members),
so these routes only translate. A new token's secret is in the answer to its creation,
and in no answer ever again.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.core.errors import Unauthenticated
from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ActorDep, ServicesDep, answer

router = APIRouter(prefix=API_PREFIX, tags=["auth"])


class NewUser(BaseModel):
    name: str = Field(description="unique; no ':', '/' or '\\\\'")
    password: str | None = Field(default=None, description="none: tokens only")
    admin: bool = False


class UserChange(BaseModel):
    disabled: bool


class Password(BaseModel):
    password: str | None = Field(description="null removes it (tokens only)")


class NewToken(BaseModel):
    name: str = Field(description="what the token is for")
    user: str | None = Field(default=None, description="whose (default: yours)")
    expires_in: str | None = Field(default=None, description="e.g. 30d, 12h (none: never)")


class NewProject(BaseModel):
    name: str
    description: str = ""


class Member(BaseModel):
    role: str = Field(description="reader | editor | owner")


@router.get("/me", summary="Who the credentials are, and what they may do",
            response_model=shapes.ME)
def me(actor: ActorDep) -> Response:
    if actor is None:
        raise Unauthenticated("no credentials were sent", "send Authorization: Bearer <token>")
    return answer({"user": actor.user, "admin": actor.admin, "via": actor.via,
                   "projects": dict(actor.roles)})


# -- users -----------------------------------------------------------------------------------


@router.post("/users", status_code=201, summary="Create a user (administrators)",
             response_model=shapes.USER)
def create_user(body: NewUser, services: ServicesDep) -> Response:
    made = services.auth.create_user(body.name, password=body.password, admin=body.admin)
    return answer({"user": made}, 201)


@router.get("/users", summary="List users (administrators)", response_model=shapes.USERS)
def list_users(services: ServicesDep) -> Response:
    return answer({"users": services.auth.list_users()})


@router.get("/users/{name}", summary="A user (yourself, or anyone as administrator)",
            response_model=shapes.USER)
def get_user(name: str, services: ServicesDep) -> Response:
    return answer({"user": services.auth.get_user(name)})


@router.patch("/users/{name}", summary="Disable or enable a user (administrators)",
              response_model=shapes.USER)
def disable_user(name: str, body: UserChange, services: ServicesDep) -> Response:
    return answer({"user": services.auth.disable_user(name, disabled=body.disabled)})


@router.put("/users/{name}/password", summary="Set or remove a password",
            response_model=shapes.DONE)
def set_password(name: str, body: Password, services: ServicesDep) -> Response:
    services.auth.set_password(name, body.password)
    return answer({})


# -- tokens ----------------------------------------------------------------------------------


@router.post("/tokens", status_code=201, summary="Create an API token (its secret is shown once)",
             response_model=shapes.NEW_TOKEN)
def create_token(body: NewToken, services: ServicesDep) -> Response:
    made = services.auth.create_token(body.name, user=body.user, expires_in=body.expires_in)
    return answer({"token": made.token, "secret": made.secret}, 201)


@router.get("/tokens", summary="List API tokens (yours; anyone's as administrator)",
            response_model=shapes.TOKENS)
def list_tokens(services: ServicesDep, user: str | None = None) -> Response:
    return answer({"tokens": services.auth.list_tokens(user)})


@router.delete("/tokens/{token_id}", summary="Revoke an API token", response_model=shapes.TOKEN)
def revoke_token(token_id: str, services: ServicesDep) -> Response:
    return answer({"token": services.auth.revoke_token(token_id)})


# -- projects --------------------------------------------------------------------------------


@router.post("/projects", status_code=201, summary="Create a project (you become its owner)",
             response_model=shapes.PROJECT)
def create_project(body: NewProject, services: ServicesDep) -> Response:
    return answer({"project": services.auth.create_project(body.name, body.description)}, 201)


@router.get("/projects", summary="List the projects you are a member of",
            response_model=shapes.PROJECTS)
def list_projects(services: ServicesDep) -> Response:
    return answer({"projects": services.auth.list_projects()})


@router.get("/projects/{name}", summary="A project and its members", response_model=shapes.PROJECT)
def get_project(name: str, services: ServicesDep) -> Response:
    return answer({"project": services.auth.get_project(name)})


@router.delete("/projects/{name}", summary="Delete an empty project (owners)",
               response_model=shapes.DONE)
def delete_project(name: str, services: ServicesDep) -> Response:
    services.auth.delete_project(name)
    return answer({})


@router.put("/projects/{name}/members/{user}", summary="Add a member, or change their role",
            response_model=shapes.PROJECT)
def add_member(name: str, user: str, body: Member, services: ServicesDep) -> Response:
    return answer({"project": services.auth.add_member(name, user, body.role)})


@router.delete("/projects/{name}/members/{user}", summary="Remove a member",
               response_model=shapes.PROJECT)
def remove_member(name: str, user: str, services: ServicesDep) -> Response:
    return answer({"project": services.auth.remove_member(name, user)})


# -- roles and the audit log -----------------------------------------------------------------


@router.get("/roles", summary="Who holds which store-wide role (admin, approvers')",
            response_model=shapes.ROLES)
def list_roles(services: ServicesDep) -> Response:
    return answer({"roles": services.auth.list_roles()})


@router.put("/roles/{role}/{user}", summary="Grant a role (administrators)",
            response_model=shapes.DONE)
def grant_role(role: str, user: str, services: ServicesDep) -> Response:
    services.auth.grant_role(user, role)
    return answer({})


@router.delete("/roles/{role}/{user}", summary="Revoke a role (administrators)",
               response_model=shapes.DONE)
def revoke_role(role: str, user: str, services: ServicesDep) -> Response:
    services.auth.revoke_role(user, role)
    return answer({})


@router.get("/audit", summary="The audit log, newest first (administrators)",
            response_model=shapes.AUDIT)
def search_audit_log(services: ServicesDep, target: str = "", limit: int = 100) -> Response:
    return answer({"entries": services.auth.search_audit_log(target, limit)})
