"""``gannet server``: the team server (the control plane's REST API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.bootstrap import Services


def server(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0: any free port).")] = 5005,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", min=1, help="Worker processes sharing the port (pre-fork).")] = 1,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Let anyone act as an administrator without credentials "
                          "(refused on any address but loopback).")] = False,
) -> None:
    """Run the team server: the REST API (/api/v1, /docs) over this home's stores.

    Several servers over one PostgreSQL database and one object store serve the same data;
    put them behind a load balancer. SDKs and the CLI reach it with GANNET_URI and
    GANNET_TOKEN.
    """
    from gannet.bootstrap import build
    from gannet.server.runner import ServerOptions, check_no_auth, run_server

    if no_auth:
        check_no_auth(host)
    options = ServerOptions(host=host, port=port, workers=workers, auth=not no_auth)

    def listening(address: str, bound: int) -> None:
        shown = f"[{address}]" if ":" in address else address
        output.say(f"Gannet server on http://{shown}:{bound} "
                   f"({workers} worker{'s' if workers != 1 else ''}); Ctrl+C stops")
        if no_auth:
            output.note("WARNING: --no-auth: every caller acts as an administrator, without "
                        "credentials. Only for a server of your own on this machine.")

    def ready(services: Services) -> None:
        if no_auth:
            return
        secret = services.auth.bootstrap_admin()
        if secret is not None:
            announce_bootstrap(secret)

    run_server(ctx.obj.settings, options, build=build, on_listening=listening, on_ready=ready)


def announce_bootstrap(secret: str) -> None:
    """The first administrator's token, once, where the person starting the server sees it."""
    bar = "=" * 72
    output.console(stderr=True).print(output.text(
        f"{bar}\nThis store had no users: created the administrator 'admin'. Its API token "
        f"(shown this once, never again):\n\n    {secret}\n\nUse it as GANNET_TOKEN, make "
        f"people their own users and tokens (gannet users create, gannet tokens create), "
        f"and revoke this one (gannet tokens list / revoke) when done.\n{bar}", "bold yellow"),
        soft_wrap=True)
