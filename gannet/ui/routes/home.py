"""The root page, the page of any capability not in the UI yet, and the static files
(the UI's own CSS and JS, and Plotly.js from the installed ``plotly`` package: no CDN)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core.errors import NotFound
from gannet.ui.pages import NAV, page, see_other

router = APIRouter(include_in_schema=False)

STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
INSTEAD: dict[str, str] = {}  # what to use meanwhile, for a section not built yet


@router.get("/")
def root(request: Request) -> Response:
    return page(request, "home.html.j2", "Gannet", "", counts={})


@router.get("/ui")
@router.get("/ui/")
def ui_root() -> Response:
    return see_other("/")


def _unavailable(key: str, title: str) -> None:
    @router.get(f"/ui/{key}", name=f"unavailable_{key}")
    def unavailable(request: Request) -> Response:
        return page(request, "unavailable.html.j2", title, key, what=title,
                    instead=INSTEAD.get(key, ""))


for _section in NAV:
    if not _section.built:
        _unavailable(_section.key, _section.title)


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    body, media_type = _static(name)
    return Response(body, media_type=media_type,
                    headers={"cache-control": "public, max-age=3600"})


@cache
def _static(name: str) -> tuple[bytes, str]:
    suffix = Path(name).suffix
    if name == "plotly.min.js":
        return _plotly(), STATIC_TYPES[".js"]
    folder = resources.files("gannet.ui") / "static"
    if "/" in name or suffix not in STATIC_TYPES or not (folder / name).is_file():
        raise NotFound(f"no static file {name!r}", "the UI's pages link to the files it has")
    return (folder / name).read_bytes(), STATIC_TYPES[suffix]


def _plotly() -> bytes:
    try:
        import plotly
    except ImportError:
        raise NotFound("Plotly.js is missing: the plotly package is not installed",
                       "pip install 'gannet-mlops[server]' (it installs plotly)") from None
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
