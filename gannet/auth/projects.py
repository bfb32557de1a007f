"""Projects (workspaces) and their members: who may read, edit or own what a project holds.

A project owns experiments, registered models and deployments; a member is a ``reader``
(sees them), an ``editor`` (also changes them) or an ``owner`` (also deletes registered
models and manages the members). Anyone signed in may make a project, and owns it;
administrators may do anything. A project is deleted only once it owns nothing (the
services that own things say so through ``holdings``); ``default`` is never deleted.

Someone who is not a member does not see a project at all: asking about it answers as for
a project that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.engine import Connection

from gannet.auth import team_repository
from gannet.auth.base import AuthBase, check_name
from gannet.auth.types import Project
from gannet.core.actor import DEFAULT_PROJECT, OWNER, check_role, current_actor, visible_projects
from gannet.core.clock import now_ms
from gannet.core.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied

Holdings = Callable[[str], Mapping[str, int]]  # project -> what it owns: {"experiments": 3}


class ProjectUseCases(AuthBase):
    holdings: Holdings | None

    def create_project(self, name: str, description: str = "") -> Project:
        """A new project; whoever makes it on a team server becomes its owner."""
        name = check_name(name, "project name")
        actor = current_actor()
        with self.metadata.write() as conn:
            if not team_repository.insert_project(conn, name, description, now_ms()):
                raise AlreadyExists(f"project {name!r} already exists", "choose another name")
            if actor is not None and team_repository.password_hash(conn, actor.user):
                team_repository.set_member(conn, name, actor.user, OWNER)
            self.record(conn, "project.create", f"project:{name}")
        return self._project(name)

    def list_projects(self) -> list[Project]:
        """The projects the caller is a member of (all, as an administrator or embedded)."""
        self._ensure_default_project()
        with self.metadata.read() as conn:
            return team_repository.project_rows(conn, visible_projects())

    def get_project(self, name: str) -> Project:
        visible = visible_projects()
        if visible is not None and name not in visible:
            raise _missing(name)
        return self._project(name)

    def delete_project(self, name: str) -> None:
        """Delete an empty project (needs its owner or an administrator)."""
        if name == DEFAULT_PROJECT:
            raise InvalidArgument(f"the {DEFAULT_PROJECT!r} project cannot be deleted",
                                  "it holds whatever is made without a project")
        self._manage(name, "delete the project")
        held = {k: v for k, v in (self.holdings(name) if self.holdings else {}).items() if v}
        if held:
            listed = ", ".join(f"{what}: {count}" for what, count in held.items())
            raise Conflict(f"project {name!r} still owns {listed}",
                           "delete them first (deleted experiments go with `gannet gc`)")
        with self.metadata.write() as conn:
            if not team_repository.delete_project(conn, name):
                raise _missing(name)
            self.record(conn, "project.delete", f"project:{name}")

    def add_member(self, project: str, user: str, role: str) -> Project:
        """Make ``user`` a member of ``project`` with ``role`` (or change their role)."""
        check_role(role)
        self._manage(project, "manage the members of")
        with self.metadata.write() as conn:
            if team_repository.password_hash(conn, user) is None:
                raise NotFound(f"no user named {user!r}",
                               f"create the user first: gannet users create {user}")
            self._keep_an_owner(conn, project, user, role)
            team_repository.set_member(conn, project, user, role)
            self.record(conn, "member.set", f"project:{project}", {"user": user, "role": role})
        return self._project(project)

    def remove_member(self, project: str, user: str) -> Project:
        self._manage(project, "manage the members of")
        with self.metadata.write() as conn:
            self._keep_an_owner(conn, project, user, None)
            if not team_repository.delete_member(conn, project, user):
                raise NotFound(f"{user!r} is not a member of project {project!r}",
                               "see its members: gannet projects list")
            self.record(conn, "member.remove", f"project:{project}", {"user": user})
        return self._project(project)

    def _manage(self, project: str, doing: str) -> None:
        """Only the project's owners (and administrators, and embedded use) may."""
        found = self.get_project(project)
        actor = current_actor()
        if actor is None or actor.admin or found.members.get(actor.user) == OWNER:
            return
        raise PermissionDenied(
            f"{actor.user} may not {doing} {project!r}: that needs its owner role",
            f"ask an owner of {project!r} ({', '.join(_owners(found)) or 'none'}) or an "
            "administrator",
        )

    @staticmethod
    def _keep_an_owner(conn: Connection, project: str, user: str, role: str | None) -> None:
        owners = team_repository.owners(conn, project)
        if owners == [user] and role != OWNER:
            raise InvalidArgument(f"{user} is the last owner of project {project!r}",
                                  "make someone else an owner first")

    def _ensure_default_project(self) -> None:
        """The ``default`` project exists in every store (the migration makes it; this
        makes it again in a store emptied since)."""
        with self.metadata.read() as conn:
            if team_repository.project_rows(conn, name=DEFAULT_PROJECT):
                return
        with self.metadata.write() as conn:
            team_repository.insert_project(conn, DEFAULT_PROJECT, "", now_ms())

    def _project(self, name: str) -> Project:
        if name == DEFAULT_PROJECT:
            self._ensure_default_project()
        with self.metadata.read() as conn:
            found = team_repository.project_rows(conn, name=name)
        if not found:
            raise _missing(name)
        return found[0]


def _owners(project: Project) -> list[str]:
    return [user for user, role in project.members.items() if role == OWNER]


def _missing(name: str) -> NotFound:
    return NotFound(f"no project named {name!r}", "list yours: gannet projects list")
