"""``gannet login`` and ``gannet logout``: keep an API token for the team server named by
``GANNET_URI``, so that neither the SDK nor the CLI needs ``GANNET_TOKEN``.

``gannet login --sso`` signs in with the server's identity provider (OpenID Connect): it
opens the browser (Python's ``webbrowser``: the ``BROWSER`` variable chooses the command)
on the server's ``/api/v1/oidc/login``, with a loopback URL of its own to which the server
sends the new token. ``gannet login`` alone reads a token made earlier (``gannet tokens
create``) and checks it with the server. Either way the token goes to the credentials file
(``gannet.core.credentials_file``, 0600), which the settings read when ``GANNET_TOKEN`` is
not set. ``gannet logout`` revokes the token on the server and forgets it.
"""

from __future__ import annotations

import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import typer

from gannet.cli import output
from gannet.cli.loopback import LoopbackReceiver
from gannet.core import credentials_file
from gannet.core.credentials_file import SavedLogin
from gannet.core.errors import GannetError, InvalidArgument, from_code
from gannet.core.settings import Settings

__all__ = ["login", "logout", "sso_login"]


def login(
    ctx: typer.Context,
    sso: Annotated[bool, typer.Option(
        "--sso", help="Sign in with the server's identity provider, in the browser.")] = False,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="With --sso: print the URL to open instead of opening it.")] = False,
    token_stdin: Annotated[bool, typer.Option(
        "--token-stdin", help="Without --sso: read the token from standard input.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, help="With --sso: seconds to wait for the sign-in.")] = 300,
    as_json: output.AsJson = False,
) -> None:
    """Log in to the team server GANNET_URI and keep the token for the SDK and the CLI."""
    settings: Settings = ctx.obj.settings
    uri = _server(settings)
    if sso:
        opener = _print_url if no_browser else _open_browser
        saved = sso_login(uri, opener, timeout=timeout)
    else:
        secret = (sys.stdin.readline() if token_stdin
                  else typer.prompt("API token", hide_input=True)).strip()
        saved = _checked_token(uri, secret)
    path = Path(settings.credentials_file).expanduser()
    credentials_file.save(path, uri, saved)
    if settings.sources.get("token") in ("environment", "gannet.toml"):
        output.note(f"note: {settings.described('token')} is set, and it comes before the "
                    "token kept by gannet login: unset it to use this one")
    until = output.format_time(saved.expires) if saved.expires else "never"
    output.done(as_json, f"logged in to {uri} as {saved.user}; the token (expires {until}) "
                f"is kept in {path}",
                {"uri": uri, "user": saved.user, "token_id": saved.token_id,
                 "expires": saved.expires, "credentials_file": str(path)})


def logout(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Revoke the token gannet login kept for GANNET_URI, and forget it."""
    from gannet.remote.transport import Transport

    settings: Settings = ctx.obj.settings
    uri = _server(settings)
    path = Path(settings.credentials_file).expanduser()
    saved = credentials_file.saved_login(path, uri)
    if saved is None:
        output.done(as_json, f"no login to {uri} is kept in {path}",
                    {"uri": uri, "logged_out": False})
        return
    revoked = False
    if saved.token_id:
        transport = Transport(uri, saved.token, retries=1)
        try:
            transport.call("DELETE", f"/api/v1/tokens/{saved.token_id}")
            revoked = True
        except GannetError as error:
            output.note(f"could not revoke the token on the server ({error.message}); it "
                        f"expires by itself, or revoke it: gannet tokens revoke "
                        f"{saved.token_id}")
        finally:
            transport.close()
    credentials_file.forget(path, uri)
    output.done(as_json, f"logged out of {uri}{' (token revoked)' if revoked else ''}",
                {"uri": uri, "logged_out": True, "revoked": revoked})


def sso_login(uri: str, open_url: Callable[[str], Any], *, timeout: float = 300) -> SavedLogin:
    """Sign in at ``uri``'s identity provider: ``open_url(url)`` shows the browser the
    server's login URL (a test passes a function that follows the redirects), and the
    token comes back to a loopback listener of this process."""
    with LoopbackReceiver() as receiver:
        url = f"{uri}/api/v1/oidc/login?{urlencode({'redirect_uri': receiver.redirect_uri})}"
        open_url(url)
        came = receiver.wait(timeout)
    if "token" not in came:
        raise from_code(came.get("code", ""), came.get("error", "the sign-in failed"),
                        came.get("hint") or None)
    expires = came.get("expires", "")
    return SavedLogin(token=came["token"], user=came.get("user", ""),
                      token_id=came.get("token_id", ""),
                      expires=int(expires) if expires.isdigit() else None)


def _checked_token(uri: str, secret: str) -> SavedLogin:
    """The token, once the server says whose it is (a wrong one is refused, not kept)."""
    from gannet.remote.transport import Transport

    if not secret:
        raise InvalidArgument("no token was given",
                              "paste an API token (gannet tokens create), or use --sso")
    transport = Transport(uri, secret, retries=1)
    try:
        me = transport.call("GET", "/api/v1/me")
    finally:
        transport.close()
    return SavedLogin(token=secret, user=str(me.get("user", "")))


def _server(settings: Settings) -> str:
    if not settings.uri:
        raise InvalidArgument("no team server is set: gannet login logs in to the server "
                              "named by GANNET_URI", "export GANNET_URI=http://host:5005")
    return credentials_file.normalized_uri(settings.uri)


def _open_browser(url: str) -> None:
    output.note(f"Opening the browser to sign in; if none opens, visit:\n  {url}")
    webbrowser.open(url)


def _print_url(url: str) -> None:
    output.note(f"Open this URL in a browser on this machine to sign in:\n  {url}")
