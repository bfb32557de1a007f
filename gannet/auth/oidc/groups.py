"""The ``oidc_group_roles`` setting: which identity-provider groups give which roles.

One string, so that it fits an environment variable as well as gannet.toml::

    ml-team = vision:editor, default:reader; platform = admin

- entries are separated by ``;`` (or new lines); each is ``GROUP = GRANT, GRANT, ...``;
- a grant is ``PROJECT:ROLE`` (role ``reader``, ``editor`` or ``owner``) or ``admin``;
- a group name is matched exactly (case and all) against the groups the provider lists;
  quote it (``"cn=ml,ou=groups" = vision:reader``) when it holds ``=``, ``;`` or ``,``;
- a user in several mapped groups gets every grant, and the highest role per project.

Parsing is strict and says which entry is wrong and why, so a typo stops the server at
start rather than silently leaving people without access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gannet.core.actor import ROLES
from gannet.core.errors import SettingsError

__all__ = ["ADMIN_GRANT", "Grant", "GroupRoles", "parse_group_roles"]

ADMIN_GRANT = "admin"
SETTING = "oidc_group_roles"
SYNTAX = ("write GROUP=PROJECT:ROLE[,PROJECT:ROLE...][,admin], entries separated by ';' "
          "(e.g. ml-team=vision:editor,default:reader; platform=admin); ROLE is one of "
          f"{', '.join(ROLES)}; quote a group holding '=', ';' or ',' (\"cn=ml,ou=groups\"=...)")


@dataclass(frozen=True)
class Grant:
    """What a group (or a user's groups together) gives: ``admin``, and a role per project."""

    admin: bool = False
    projects: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GroupRoles:
    """The parsed mapping: group name -> ``Grant``."""

    groups: Mapping[str, Grant] = field(default_factory=dict)

    def grant_for(self, groups: Iterable[str]) -> Grant:
        """Everything the user's ``groups`` give together: admin if any gives it, and the
        highest role per project."""
        admin = False
        projects: dict[str, str] = {}
        for group in groups:
            grant = self.groups.get(group)
            if grant is None:
                continue
            admin = admin or grant.admin
            for project, role in grant.projects.items():
                held = projects.get(project)
                if held is None or ROLES.index(role) > ROLES.index(held):
                    projects[project] = role
        return Grant(admin=admin, projects=dict(sorted(projects.items())))

    @property
    def projects(self) -> set[str]:
        """Every project the mapping names."""
        return {p for grant in self.groups.values() for p in grant.projects}


def parse_group_roles(text: str) -> GroupRoles:
    """The mapping ``text`` describes; ``SettingsError`` naming the entry that is wrong."""
    groups: dict[str, Grant] = {}
    where: dict[str, int] = {}
    for number, entry in enumerate(_entries(text), start=1):
        group, grants = _split_entry(entry, number)
        if group in groups:
            raise _error(f"entry {number} ({entry.strip()!r}) maps the group {group!r} again "
                         f"(entry {where[group]} did already)",
                         "give each group one entry, with all its grants separated by ','")
        groups[group] = _grant(grants, entry, number)
        where[group] = number
    return GroupRoles(groups)


def _entries(text: str) -> list[str]:
    """``text`` split at ``;`` and new lines outside quotes; blank entries dropped."""
    entries: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char in ";\n" and not quoted:
            entries.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise _error(f"{SETTING} has a quote that is never closed", SYNTAX)
    entries.append("".join(current))
    return [e for e in entries if e.strip()]


def _split_entry(entry: str, number: int) -> tuple[str, str]:
    """(group, grants) of one entry."""
    stripped = entry.strip()
    if stripped.startswith('"'):
        group, _, rest = stripped[1:].partition('"')
        rest = rest.strip()
        if not rest.startswith("="):
            raise _error(f"entry {number} ({stripped!r}): the quoted group must be followed "
                         "by '='", SYNTAX)
        grants = rest[1:]
    else:
        group, equals, grants = stripped.partition("=")
        if not equals:
            raise _error(f"entry {number} ({stripped!r}) has no '=' between the group and "
                         "its grants", SYNTAX)
        if '"' in group:
            raise _error(f"entry {number} ({stripped!r}): quote the whole group name", SYNTAX)
        group = group.strip()
    if not group:
        raise _error(f"entry {number} ({stripped!r}) names no group", SYNTAX)
    return group, grants


def _grant(grants: str, entry: str, number: int) -> Grant:
    admin = False
    projects: dict[str, str] = {}
    items = [g.strip() for g in grants.split(",")]
    if not any(items):
        raise _error(f"entry {number} ({entry.strip()!r}) grants nothing", SYNTAX)
    for item in items:
        if not item:
            raise _error(f"entry {number} ({entry.strip()!r}) has an empty grant (two ',' "
                         "in a row, or one at the end)", SYNTAX)
        if item == ADMIN_GRANT:
            admin = True
            continue
        project, colon, role = (part.strip() for part in item.rpartition(":"))
        if not colon or not project:
            raise _error(f"entry {number}: {item!r} is neither 'admin' nor PROJECT:ROLE",
                         SYNTAX)
        if role not in ROLES:
            raise _error(f"entry {number}: {item!r} names the role {role!r}, which is not "
                         f"one of {', '.join(ROLES)}", SYNTAX)
        if len(project) > 100 or any(c in project for c in ":/\\"):
            raise _error(f"entry {number}: {project!r} cannot be a project name (at most "
                         "100 characters, without ':', '/' or '\\')", SYNTAX)
        if project in projects:
            raise _error(f"entry {number} ({entry.strip()!r}) gives the project {project!r} "
                         "twice", "give each project one role per group")
        projects[project] = role
    return Grant(admin=admin, projects=projects)


def _error(message: str, hint: str) -> SettingsError:
    return SettingsError(f"{SETTING}: {message}", hint)
