"""Single sign-on's SQL: logins under way, and the roles and memberships SSO manages.

Rows in, plain types out; every function takes an open connection (the service chooses
the transaction). A membership or role carries its ``source``: ``sso`` ones are replaced
at each login from the user's groups, ``manual`` ones (given by hand) are never touched.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.auth import repository, team_repository
from gannet.auth.oidc.types import LoginState
from gannet.auth.tables import SSO, oidc_logins, project_members, user_roles

ADMIN_ROLE = "admin"

# -- logins under way ------------------------------------------------------------------------


def insert_login(conn: Connection, login: LoginState) -> None:
    conn.execute(oidc_logins.insert().values(
        state_sha256=login.state_sha256, nonce=login.nonce, code_verifier=login.code_verifier,
        redirect_uri=login.redirect_uri, client_redirect=login.client_redirect,
        created=login.created, expires=login.expires,
    ))


def take_login(conn: Connection, state_sha256: str) -> LoginState | None:
    """The login of that state, deleted as it is read: of two callbacks with one state
    (on one replica or two), one gets it and the other None."""
    row = conn.execute(sa.select(oidc_logins).where(
        oidc_logins.c.state_sha256 == state_sha256)).mappings().first()
    if row is None:
        return None
    done = conn.execute(oidc_logins.delete().where(oidc_logins.c.state_sha256 == state_sha256))
    if done.rowcount != 1:
        return None
    return LoginState(**dict(row))


def delete_expired_logins(conn: Connection, now: int) -> None:
    conn.execute(oidc_logins.delete().where(oidc_logins.c.expires < now))


# -- what single sign-on manages -------------------------------------------------------------


def replace_sso_memberships(conn: Connection, user: str,
                            projects: Mapping[str, str]) -> dict[str, str]:
    """Make ``projects`` (project -> role) the user's SSO memberships, leaving the
    memberships given by hand as they are (where one exists, it stands instead); the
    user's memberships afterwards, all of them."""
    conn.execute(project_members.delete().where(
        project_members.c.user_id == user, project_members.c.source == SSO))
    held = dict(conn.execute(
        sa.select(project_members.c.project, project_members.c.role)
        .where(project_members.c.user_id == user)).all())
    for project, role in projects.items():
        if project not in held:
            team_repository.set_member(conn, project, user, role, source=SSO)
            held[project] = role
    return dict(sorted(held.items()))


def set_sso_admin(conn: Connection, user: str, admin: bool, now: int) -> bool:
    """Give (or take) the administrator role as single sign-on says; one given by hand
    stays. Whether the user is an administrator afterwards."""
    if admin:
        repository.insert_role(conn, user, ADMIN_ROLE, "sso", now, source=SSO)
    else:
        conn.execute(user_roles.delete().where(
            user_roles.c.user_id == user, user_roles.c.role == ADMIN_ROLE,
            user_roles.c.source == SSO))
    return ADMIN_ROLE in repository.roles_of(conn, user)
