"""What every page's router shares: the services and caller of a request, the templates,
the navigation bar, forms (CSRF-checked) and errors shown as pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gannet.core.actor import Actor
from gannet.core.errors import GannetError, PermissionDenied
from gannet.ui.session import CSRF_COOKIE, csrf_ok

if TYPE_CHECKING:
    import jinja2

    from gannet.bootstrap import Services

__all__ = ["NAV", "Section", "actor_of", "form_of", "in_thread", "page", "services_of", "shown"]

T = TypeVar("T")


@dataclass(frozen=True)
class Section:
    """An entry of the navigation bar: a capability, and whether its pages exist yet."""

    key: str
    title: str
    href: str
    built: bool = True


NAV = (
    Section("experiments", "Experiments", "/ui/experiments"),
    Section("models", "Models", "/ui/models"),
    Section("deployments", "Deployments", "/ui/deployments"),
    Section("data", "Datasets", "/ui/data"),
    Section("pipelines", "Pipelines", "/ui/pipelines"),
    Section("monitoring", "Monitoring", "/ui/monitoring"),
    Section("features", "Features", "/ui/features"),
    Section("admin", "Admin", "/ui/admin"),
)


def services_of(request: Request) -> Services:
    return request.app.state.services


def actor_of(request: Request) -> Actor | None:
    return request.scope.get("gannet.actor")


def csrf_token(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE) or request.scope.get("gannet.csrf", "")


async def form_of(request: Request) -> dict[str, str]:
    """The POSTed form (urlencoded), after its CSRF token and origin are checked."""
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin is not None and origin.split("://", 1)[-1] != host:
        raise PermissionDenied(f"a form from another site ({origin}) was refused",
                               "submit the form from this server's own pages")
    body = (await request.body()).decode("utf-8", "replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    if not csrf_ok(request.cookies, form):
        raise PermissionDenied("the form's CSRF token is missing or stale",
                               "reload the page and submit the form again")
    return form


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gannet.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["number"] = number
    env.filters["size"] = size
    env.filters["seconds"] = seconds
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": str}
    env.globals["url_with"] = url_with
    return env


def page(request: Request, template: str, title: str, section: str = "",
         status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page of the layout: ``template`` with ``values``, the nav bar and the caller."""
    actor = actor_of(request)
    body = _environment().get_template(template).render(
        title=title, nav=NAV, section=section, actor=actor, request=request,
        csrf=csrf_token(request), team=request.app.state.auth_required, **values)
    return HTMLResponse(body, status_code=status_code)


def error_page(request: Request, exc: GannetError, section: str = "") -> HTMLResponse:
    denied = exc.http_status in (401, 403)
    title = "Not allowed" if denied else "Something is wrong"
    return page(request, "error.html.j2", title, section, status_code=exc.http_status,
                error=exc, denied=denied)


def shown(section: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Routes return a page; a ``GannetError`` they raise becomes an error page (403 for a
    reader denied an action, with the service's message and hint)."""
    import functools
    import inspect

    def wrap(route: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(route):
            @functools.wraps(route)
            async def run_async(request: Request, *args: Any, **kwargs: Any) -> Response:
                try:
                    return await route(request, *args, **kwargs)
                except GannetError as exc:
                    return error_page(request, exc, section)
            return run_async

        @functools.wraps(route)
        def run(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return route(request, *args, **kwargs)
            except GannetError as exc:
                return error_page(request, exc, section)
        return run

    return wrap


async def in_thread(call: Callable[..., T], *args: Any) -> T:
    """A service call off the event loop (it reads and writes the store), in the request's
    context: the caller it acts for."""
    import functools

    import anyio.to_thread

    return await anyio.to_thread.run_sync(functools.partial(call, *args))


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one): deep links
    keep the filter, order and columns."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(key, str(v)) for v in values]
    query = urlencode(pairs)
    return request.url.path + (f"?{query}" if query else "")


def when(millis: int | None) -> str:
    if not millis:
        return ""
    moment = dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def size(nbytes: int | None) -> str:
    """Bytes for people: 1.5 MB."""
    if nbytes is None:
        return ""
    value = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return ""


def seconds(value: float | None) -> str:
    """A duration or an age for people: 0.42 s, 3 min, 2.5 h, 4 d."""
    if value is None:
        return ""
    if value < 60:
        return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    if value < 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"
