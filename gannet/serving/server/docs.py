"""``GET /docs``: interactive documentation (Swagger UI) from files installed with the package.

The page is ours: a few lines of HTML that load Swagger UI's script and style sheet from
this server (``/docs/static/...``), read from the installed ``swagger-ui-bundle`` package
(part of the ``serving`` extra), and point it at ``/openapi.json``. Nothing comes from
another host - no CDN, and Swagger UI's online validator is switched off (it would send
the document's address to validator.swagger.io) - so the page works on a network without
internet access and leaks nothing.

Only the files the page needs are served, read once and kept in memory; any other path
under ``/docs/static/`` is 404 (no path from the request ever reaches the file system).
Without ``swagger-ui-bundle``, ``/docs`` is 501 with a hint to install it.
"""

from __future__ import annotations

from pathlib import Path

from gannet.core.errors import EndpointNotFound, NotSupported

__all__ = ["STATIC", "SwaggerDocs"]

STATIC = "/docs/static/"
_FILES = {  # served name -> content type
    "swagger-ui.css": b"text/css; charset=utf-8",
    "swagger-ui-bundle.js": b"application/javascript; charset=utf-8",
    "favicon-32x32.png": b"image/png",
}
_HTML = b"text/html; charset=utf-8"
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{static}swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{static}swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""


class SwaggerDocs:
    """The ``/docs`` page and the Swagger UI files it loads."""

    def __init__(self, title: str = "Gannet inference server") -> None:
        self.title = title
        self._files: dict[str, bytes] = {}

    def page(self) -> tuple[bytes, bytes]:
        self._folder()  # 501 when Swagger UI is not installed
        from html import escape

        return _PAGE.format(title=escape(self.title), static=STATIC).encode(), _HTML

    def static(self, path: str) -> tuple[bytes, bytes]:
        """One of Swagger UI's files, by the path after ``/docs/static/``."""
        name = path[len(STATIC):]
        if name not in _FILES:
            raise EndpointNotFound(f"no file {path}", "GET /docs loads what it needs")
        body = self._files.get(name)
        if body is None:
            body = self._files[name] = (self._folder() / name).read_bytes()
        return body, _FILES[name]

    @staticmethod
    def _folder() -> Path:
        try:
            from swagger_ui_bundle import swagger_ui_path
        except ImportError:
            raise NotSupported("the interactive docs need the swagger-ui-bundle package",
                               'pip install "gannet-mlops[serving]"; meanwhile the API is '
                               "described at GET /openapi.json") from None
        return Path(str(swagger_ui_path))
