"""``gannet keys``, ``gannet roles`` and ``gannet audit``: signing keys, who holds which
role, and the record of who changed what."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from gannet.cli import output

keys = typer.Typer(help="Signing keys for model packages.", no_args_is_help=True)
roles = typer.Typer(help="Roles (for approval gates).", no_args_is_help=True)


@keys.command("create")
def create_key(
    ctx: typer.Context,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing key.")
    ] = False,
) -> None:
    """Make this home's ed25519 signing key (its public key becomes trusted)."""
    from gannet.registry import signing

    settings = ctx.obj.settings
    trusted = Path(settings.trusted_keys.split(os.pathsep)[0]).expanduser()
    key_id = signing.create_key(
        Path(settings.signing_key).expanduser(), trusted, overwrite=overwrite
    )
    output.say(f"created signing key {key_id}: {settings.signing_key}")
    output.say(f"its public key: {trusted / (key_id + '.pub')} (share it with machines that load)")


@keys.command("list")
def list_keys(ctx: typer.Context) -> None:
    """The trusted public keys (by key id) and this home's signing key."""
    from gannet.registry import signing

    settings = ctx.obj.settings
    path = Path(settings.signing_key).expanduser()
    mine = signing.export_public_key(path, Path("/dev/null")) if path.is_file() else None
    for key_id in sorted(signing.trusted_keys(settings.trusted_keys)):
        output.say(f"{key_id}{'  (this home signs with it)' if key_id == mine else ''}")
    if mine is None:
        output.note(
            "no signing key yet: one is made at the first registration, or `gannet keys create`"
        )


@roles.command("grant")
def grant(ctx: typer.Context, user: str, role: str) -> None:
    """Give USER the ROLE."""
    ctx.obj.services.auth.grant(user, role)
    output.say(f"{user} now holds {role}")


@roles.command("revoke")
def revoke(ctx: typer.Context, user: str, role: str) -> None:
    """Take ROLE from USER."""
    ctx.obj.services.auth.revoke(user, role)
    output.say(f"{user} no longer holds {role}")


@roles.command("list")
def list_roles(ctx: typer.Context) -> None:
    """Who holds which roles."""
    for user, held in ctx.obj.services.auth.role_holders().items():
        output.say(f"{user}: {', '.join(held)}")


def audit(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Prefix of what to show, e.g. model:churn")] = "",
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The audit log, newest first: who changed what, when and why."""
    entries = ctx.obj.services.auth.entries(target, limit)
    if as_json:
        output.print_json(entries)
        return
    grid = output.table("Time", "User", "Action", "Target", "Detail")
    for e in entries:
        detail = ", ".join(f"{k}={v}" for k, v in e.detail.items() if k != "gates")
        grid.add_row(
            output.text(output.format_time(e.time)),
            output.text(e.user_id),
            output.text(e.action, "bold"),
            output.text(e.target),
            output.text(detail),
        )
    output.show(grid)
