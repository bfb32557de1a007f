"""The SQL of team mode's people: users, API tokens, projects and their members.

Rows in, plain types out; every function takes an open connection (the service chooses
the transaction).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gannet.auth.tables import MANUAL, api_tokens, project_members, projects, user_roles, users
from gannet.auth.types import ApiToken, Project, User
from gannet.store.metadata import dialect

ADMIN_ROLE = "admin"

# -- users ---------------------------------------------------------------------------------


def insert_user(conn: Connection, name: str, password_hash: str | None, now: int) -> bool:
    """A new user unless the name is taken (False then; atomic, as two creators race)."""
    stmt = dialect.insert(conn, users).values(
        name=name, password_hash=password_hash, created=now, disabled=False
    )
    done = conn.execute(stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True))
    return bool(done.rowcount == 1)


def update_user(conn: Connection, name: str, **values: Any) -> bool:
    done = conn.execute(users.update().where(users.c.name == name).values(**values))
    return done.rowcount > 0


def password_hash(conn: Connection, name: str) -> tuple[str | None, bool] | None:
    """(argon2 hash or None, disabled) of ``name``; None when there is no such user."""
    row = conn.execute(
        sa.select(users.c.password_hash, users.c.disabled).where(users.c.name == name)
    ).first()
    return None if row is None else (row[0], bool(row[1]))


def user_rows(conn: Connection, name: str | None = None) -> list[User]:
    """Users by name (one when ``name`` is given), with their admin flag and projects."""
    stmt = sa.select(users).order_by(users.c.name)
    if name is not None:
        stmt = stmt.where(users.c.name == name)
    rows = conn.execute(stmt).mappings().all()
    names = [r["name"] for r in rows]
    if not names:
        return []
    admins = set(conn.execute(
        sa.select(user_roles.c.user_id).where(
            user_roles.c.role == ADMIN_ROLE, user_roles.c.user_id.in_(names))
    ).scalars())
    member: dict[str, dict[str, str]] = {n: {} for n in names}
    for project, user, role in conn.execute(
        sa.select(project_members.c.project, project_members.c.user_id, project_members.c.role)
        .where(project_members.c.user_id.in_(names))
    ):
        member[user][project] = role
    return [
        User(name=r["name"], created=r["created"], disabled=bool(r["disabled"]),
             admin=r["name"] in admins, has_password=r["password_hash"] is not None,
             projects=member[r["name"]])
        for r in rows
    ]


def count_users(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() or 0)


def permissions(conn: Connection, name: str) -> tuple[bool, dict[str, str]]:
    """(admin, project -> role) of ``name``: what its ``Actor`` carries."""
    admin = conn.execute(
        sa.select(user_roles.c.role).where(
            user_roles.c.user_id == name, user_roles.c.role == ADMIN_ROLE)
    ).first() is not None
    roles = dict(conn.execute(
        sa.select(project_members.c.project, project_members.c.role)
        .where(project_members.c.user_id == name)
    ).all())
    return admin, roles


# -- tokens --------------------------------------------------------------------------------


def insert_token(conn: Connection, token: ApiToken, secret_sha256: str) -> None:
    conn.execute(api_tokens.insert().values(
        id=token.id, user_id=token.user, name=token.name, secret_sha256=secret_sha256,
        created=token.created, expires=token.expires, revoked=None, last_used=None,
    ))


def token_by_secret(conn: Connection, secret_sha256: str) -> tuple[ApiToken, bool] | None:
    """The token whose secret hashes to ``secret_sha256`` and whether its user is disabled."""
    row = conn.execute(
        sa.select(api_tokens, users.c.disabled)
        .join(users, users.c.name == api_tokens.c.user_id)
        .where(api_tokens.c.secret_sha256 == secret_sha256)
    ).mappings().first()
    return None if row is None else (_token(row), bool(row["disabled"]))


def token_rows(conn: Connection, user: str | None = None,
               token_id: str | None = None) -> list[ApiToken]:
    """Tokens, newest first (``user``'s, or the one with ``token_id``, when given)."""
    stmt = sa.select(api_tokens).order_by(api_tokens.c.created.desc(), api_tokens.c.id)
    if user is not None:
        stmt = stmt.where(api_tokens.c.user_id == user)
    if token_id is not None:
        stmt = stmt.where(api_tokens.c.id == token_id)
    return [_token(r) for r in conn.execute(stmt).mappings()]


def update_token(conn: Connection, token_id: str, **values: Any) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(**values))


def _token(row: sa.RowMapping) -> ApiToken:
    return ApiToken(id=row["id"], user=row["user_id"], name=row["name"],
                    created=row["created"], expires=row["expires"], revoked=row["revoked"],
                    last_used=row["last_used"])


# -- projects ------------------------------------------------------------------------------


def insert_project(conn: Connection, name: str, description: str, now: int) -> bool:
    stmt = dialect.insert(conn, projects).values(name=name, description=description, created=now)
    done = conn.execute(stmt.on_conflict_do_nothing().execution_options(preserve_rowcount=True))
    return bool(done.rowcount == 1)


def project_rows(conn: Connection, names: frozenset[str] | None = None,
                 name: str | None = None) -> list[Project]:
    """Projects by name with their members (only ``names``, or the one ``name``, if given)."""
    stmt = sa.select(projects).order_by(projects.c.name)
    if names is not None:
        stmt = stmt.where(projects.c.name.in_(sorted(names)))
    if name is not None:
        stmt = stmt.where(projects.c.name == name)
    rows = conn.execute(stmt).mappings().all()
    found = [r["name"] for r in rows]
    members: dict[str, dict[str, str]] = {n: {} for n in found}
    if found:
        for project, user, role in conn.execute(
            sa.select(project_members.c.project, project_members.c.user_id,
                      project_members.c.role).where(project_members.c.project.in_(found))
            .order_by(project_members.c.user_id)
        ):
            members[project][user] = role
    return [Project(r["name"], r["description"], r["created"], members[r["name"]])
            for r in rows]


def delete_project(conn: Connection, name: str) -> bool:
    conn.execute(project_members.delete().where(project_members.c.project == name))
    return conn.execute(projects.delete().where(projects.c.name == name)).rowcount > 0


def set_member(conn: Connection, project: str, user: str, role: str,
               source: str = MANUAL) -> None:
    """Make ``user`` a ``role`` of ``project``; a membership given by hand (``MANUAL``)
    replaces one single sign-on gave, and single sign-on's own stay apart from it."""
    stmt = dialect.insert(conn, project_members).values(
        project=project, user_id=user, role=role, source=source)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["project", "user_id"], set_={"role": role, "source": source}))


def delete_member(conn: Connection, project: str, user: str) -> bool:
    done = conn.execute(project_members.delete().where(
        project_members.c.project == project, project_members.c.user_id == user))
    return done.rowcount > 0


def owners(conn: Connection, project: str) -> list[str]:
    return sorted(conn.execute(sa.select(project_members.c.user_id).where(
        project_members.c.project == project, project_members.c.role == "owner")).scalars())
