"""``gannet keys``, ``gannet roles`` and ``gannet audit``: signing keys, who holds which
role, and the record of who changed what."""

from __future__ import annotations

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
    as_json: output.AsJson = False,
) -> None:
    """Make this home's ed25519 signing key (its public key becomes trusted)."""
    registry = ctx.obj.services.registry
    key = registry.create_signing_key(overwrite=overwrite)
    public = registry.keys.trusted_dir / (key.key_id + ".pub")
    if as_json:
        output.print_json({"key_id": key.key_id, "path": key.path, "public_key": public})
        return
    output.say(f"created signing key {key.key_id}: {key.path}")
    output.say(f"its public key: {public} (share it with machines that load)")


@keys.command("list")
def list_keys(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """The trusted public keys (by key id) and this home's signing key."""
    found = ctx.obj.services.registry.list_signing_keys()
    if as_json:
        output.print_json(found)
        return
    for key in found:
        output.say(f"{key.key_id}{'  (this home signs with it)' if key.is_signing_key else ''}")
    if not any(key.is_signing_key for key in found):
        output.note(
            "no signing key yet: one is made at the first registration, or `gannet keys create`"
        )


@roles.command("grant")
def grant(ctx: typer.Context, user: str, role: str, as_json: output.AsJson = False) -> None:
    """Give USER the ROLE."""
    ctx.obj.services.auth.grant_role(user, role)
    output.done(as_json, f"{user} now holds {role}", {"user": user, "role": role, "held": True})


@roles.command("revoke")
def revoke(ctx: typer.Context, user: str, role: str, as_json: output.AsJson = False) -> None:
    """Take ROLE from USER."""
    ctx.obj.services.auth.revoke_role(user, role)
    output.done(
        as_json, f"{user} no longer holds {role}", {"user": user, "role": role, "held": False}
    )


@roles.command("list")
def list_roles(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Who holds which roles."""
    found = ctx.obj.services.auth.list_roles()
    if as_json:
        output.print_json(found)
        return
    if not found:
        output.note("nobody holds a role")
    for user, held in found.items():
        output.say(f"{user}: {', '.join(held)}")


def audit(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="Prefix of what to show, e.g. model:churn")] = "",
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="At most this many entries.")
    ] = 50,
    as_json: output.AsJson = False,
) -> None:
    """The audit log, newest first: who changed what, when and why."""
    entries = ctx.obj.services.auth.search_audit_log(target, limit)
    if as_json:
        output.print_json(entries)
        return
    if not entries:
        output.note("no audit entries" + (f" for {target!r}" if target else ""))
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
