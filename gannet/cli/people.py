"""``gannet users``, ``gannet tokens`` and ``gannet projects``: who may use a team server,
with which credentials, and in which projects.

Embedded (no ``GANNET_URI``), these act on the store directly, as whoever may write it:
that is how a server's first administrator is made (``gannet users create NAME --admin``)
and a lost token replaced. With ``GANNET_URI`` they go to the server, which checks the
caller's token like every other request.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from gannet.cli import output

users = typer.Typer(help="Users of a team server.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
projects = typer.Typer(help="Projects and their members' roles.", no_args_is_help=True)

PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input (one line).")]


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _user_row(user: Any) -> list[Any]:
    roles = ", ".join(f"{p}: {r}" for p, r in sorted(user.projects.items()))
    flags = [f for f, on in (("admin", user.admin), ("disabled", user.disabled),
                             ("password", user.has_password)) if on]
    return [output.text(user.name, "bold"), output.text(", ".join(flags)),
            output.text(roles), output.text(output.format_time(user.created))]


# -- users -----------------------------------------------------------------------------------


@users.command("create")
def create_user(
    ctx: typer.Context,
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="Make them an administrator.")] = False,
    password_stdin: PasswordStdin = False,
    as_json: output.AsJson = False,
) -> None:
    """Create the user NAME (they log in with tokens, or a password with --password-stdin)."""
    password = _read_password() if password_stdin else None
    made = ctx.obj.services.auth.create_user(name, password=password, admin=admin)
    output.done(as_json, f"created user {made.name}{' (administrator)' if admin else ''}; "
                f"make them a token: gannet tokens create NAME --user {made.name}", made)


@users.command("list")
def list_users(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Every user, with their flags and project roles."""
    found = ctx.obj.services.auth.list_users()
    if as_json:
        output.print_json(found)
        return
    grid = output.table("User", "Flags", "Projects", "Created")
    for user in found:
        grid.add_row(*_user_row(user))
    output.show(grid)


@users.command("disable")
def disable_user(
    ctx: typer.Context,
    name: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable them again instead.")] = False,
    as_json: output.AsJson = False,
) -> None:
    """Disable NAME: their tokens and password stop working at once."""
    changed = ctx.obj.services.auth.disable_user(name, disabled=not enable)
    output.done(as_json, f"{name} is {'enabled' if enable else 'disabled'}", changed)


@users.command("set-password")
def set_password(
    ctx: typer.Context,
    name: str,
    password_stdin: PasswordStdin = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove it (tokens only).")] = False,
    as_json: output.AsJson = False,
) -> None:
    """Set NAME's password (asked for, or read with --password-stdin)."""
    password: str | None = None
    if not remove:
        password = _read_password() if password_stdin else typer.prompt(
            "Password", hide_input=True, confirmation_prompt=True)
    ctx.obj.services.auth.set_password(name, password)
    output.done(as_json, f"{'removed' if remove else 'set'} the password of {name}",
                {"user": name, "password": not remove})


# -- tokens ----------------------------------------------------------------------------------


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    name: str,
    user: Annotated[str | None, typer.Option(
        "--user", help="Whose token (default: yours; others' need an administrator).")] = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", help="Valid for this long: 12h, 30d, 2w (default: until revoked).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Make an API token called NAME; its secret is printed now and never again."""
    made = ctx.obj.services.auth.create_token(name, user=user, expires_in=expires)
    if as_json:
        output.print_json({"token": made.token, "secret": made.secret})
        return
    output.say(made.secret)
    output.note(f"token {made.token.id} of {made.token.user}: this secret is shown once; "
                "use it as GANNET_TOKEN (or MLFLOW_TRACKING_TOKEN)")


@tokens.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(
        "--user", help="Whose tokens (default: yours; everyone's for an administrator).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """API tokens: names, owners, expiry and last use (never their secrets)."""
    found = ctx.obj.services.auth.list_tokens(user)
    if as_json:
        output.print_json(found)
        return
    grid = output.table("Id", "User", "Name", "Created", "Expires", "Last used", "Revoked")
    for t in found:
        grid.add_row(*(output.text(v) for v in (
            t.id, t.user, t.name, output.format_time(t.created),
            output.format_time(t.expires) if t.expires else "never",
            output.format_time(t.last_used) if t.last_used else "",
            output.format_time(t.revoked) if t.revoked else "")))
    output.show(grid)


@tokens.command("revoke")
def revoke_token(ctx: typer.Context, token_id: str, as_json: output.AsJson = False) -> None:
    """Revoke the token TOKEN_ID at once."""
    revoked = ctx.obj.services.auth.revoke_token(token_id)
    output.done(as_json, f"revoked token {revoked.id} ({revoked.name}) of {revoked.user}",
                revoked)


# -- projects --------------------------------------------------------------------------------


@projects.command("create")
def create_project(
    ctx: typer.Context,
    name: str,
    description: Annotated[str, typer.Option("--description", "-d",
                                             help="What the project is for.")] = "",
    as_json: output.AsJson = False,
) -> None:
    """Create the project NAME (on a server you become its owner)."""
    made = ctx.obj.services.auth.create_project(name, description)
    output.done(as_json, f"created project {made.name}", made)


@projects.command("list")
def list_projects(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """The projects you are a member of (all, for an administrator), with their members."""
    found = ctx.obj.services.auth.list_projects()
    if as_json:
        output.print_json(found)
        return
    grid = output.table("Project", "Members", "Description")
    for p in found:
        members = ", ".join(f"{u} ({r})" for u, r in sorted(p.members.items()))
        grid.add_row(output.text(p.name, "bold"), output.text(members),
                     output.text(p.description))
    output.show(grid)


@projects.command("delete")
def delete_project(ctx: typer.Context, name: str, as_json: output.AsJson = False) -> None:
    """Delete the project NAME (only once it owns nothing)."""
    ctx.obj.services.auth.delete_project(name)
    output.done(as_json, f"deleted project {name}", {"project": name, "deleted": True})


@projects.command("add-member")
def add_member(
    ctx: typer.Context,
    project: str,
    user: str,
    role: Annotated[str, typer.Option("--role", "-r",
                                      help="reader, editor or owner.")] = "reader",
    as_json: output.AsJson = False,
) -> None:
    """Make USER a member of PROJECT with --role (or change their role)."""
    changed = ctx.obj.services.auth.add_member(project, user, role)
    output.done(as_json, f"{user} is now {role} of {project}", changed)


@projects.command("remove-member")
def remove_member(ctx: typer.Context, project: str, user: str,
                  as_json: output.AsJson = False) -> None:
    """Remove USER from PROJECT."""
    changed = ctx.obj.services.auth.remove_member(project, user)
    output.done(as_json, f"{user} is no longer a member of {project}", changed)
