"""``gannet ui``: the web UI over this home's stores (the team server's app, on loopback
without logins)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Annotated

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.bootstrap import Services


def ui(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0: any free port).")] = 5006,
) -> None:
    """Open the web UI: experiments, runs, models and deployments in the browser.

    It is the team server's app over this home's stores (never the team server that
    GANNET_URI names: its own root page is its UI). On a loopback address (the
    default) nobody else can connect, so there is no login: you act as an administrator,
    as `gannet server --no-auth`. On any other address people log in.
    """
    from gannet.bootstrap import build
    from gannet.server.runner import ServerOptions, run_server

    auth = not _loopback(host)
    options = ServerOptions(host=host, port=port, workers=1, auth=auth)
    settings = ctx.obj.settings
    if settings.uri:
        output.note(f"gannet ui shows this home's stores, not the team server at "
                    f"{settings.uri}: open {settings.uri.rstrip('/')}/ in the browser for its UI")
        settings = settings.replace(uri="", token="")

    def listening(address: str, bound: int) -> None:
        shown = f"[{address}]" if ":" in address else address
        output.say(f"Gannet UI on http://{shown}:{bound}/ ; Ctrl+C stops")
        if auth:
            output.note("Not a loopback address: people log in with their user and password "
                        "or an API token.")

    def ready(services: Services) -> None:
        if auth:
            from gannet.cli.server import announce_bootstrap

            secret = services.auth.bootstrap_admin()
            if secret is not None:
                announce_bootstrap(secret)

    run_server(settings, options, build=build, on_listening=listening, on_ready=ready)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
