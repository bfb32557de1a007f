"""One run: params, tags, environment, metric charts, its inputs and lineage, and its
artifacts.

The page is one ``get_run`` and the run's lineage, ``usage("runs:/ID")`` (what ``gannet
lineage runs:/ID`` answers: the dataset versions it used, with their context, and the
model versions registered from it, those the caller may see); each chart asks
``/ui/runs/<id>/metric-history`` (one ``get_metric_history``) as the browser draws it.
Artifacts: a folder is one ``list_artifacts``; a file's preview reads its first bytes
(``open_artifact``) and shows text, JSON, a CSV's first rows as a table, or an image
(served as the image type only for raster formats, and never as HTML or SVG, which could
run scripts). An HTML report is previewed in a sandboxed frame whose page,
``artifact-html``, is the same ``open_artifact`` under a policy that keeps its scripts off
(see ``artifact_html``).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gannet.core import wire
from gannet.core.errors import InvalidArgument, RangeNotSatisfiable
from gannet.ui.pages import page, services_of, shown

router = APIRouter(prefix="/ui", include_in_schema=False)

PREVIEW_BYTES = 256 * 1024
HTML_PREVIEW_BYTES = 2 * 1024 * 1024  # a report is framed whole or not at all
HTML = {"html", "htm"}
# an artifact's HTML is anyone's bytes: no scripts, a unique origin, nothing loaded from
# anywhere (images inline only), nowhere to send a form or a base URL (artifact_html says why)
HTML_POLICY = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
CSV_ROWS = 50
IMAGES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
          "webp": "image/webp"}
TEXT = {"txt", "log", "md", "py", "yaml", "yml", "toml", "diff", "cfg", "ini", "sh", "sql"}
ENVIRONMENT_TAGS = ("gannet.python", "gannet.platform", "gannet.packages.digest",
                    "gannet.git.commit", "gannet.git.branch", "gannet.git.dirty",
                    "gannet.git.remote")


@router.get("/runs/{run_id}")
@shown("experiments")
def run_page(request: Request, run_id: str) -> Response:
    run = services_of(request).tracking.get_run(run_id)
    tags = {k: v for k, v in run.data.tags.items() if k not in ENVIRONMENT_TAGS}
    environment = {k: run.data.tags[k] for k in ENVIRONMENT_TAGS if k in run.data.tags}
    name = run.info.run_name or run.info.run_id
    lineage = services_of(request).data.usage(f"runs:/{run_id}")
    return page(request, "run.html.j2", f"Run {name}", "experiments", run=run, tags=tags,
                environment=environment, lineage=lineage)


@router.get("/runs/{run_id}/metric-history")
def metric_history(request: Request, run_id: str, key: str) -> Response:
    """The points of one metric as JSON columns (what a chart draws)."""
    points = services_of(request).tracking.get_metric_history(run_id, key)
    body = {"key": key, "step": [p.step for p in points],
            "timestamp": [p.timestamp for p in points], "value": [p.value for p in points]}
    return Response(wire.dumps(body), media_type="application/json")


@router.get("/runs/{run_id}/artifacts")
@shown("experiments")
def artifacts(request: Request, run_id: str, path: str = "") -> Response:
    files = services_of(request).tracking.list_artifacts(run_id, path or None)
    parent = path.rpartition("/")[0] if path else None
    return page(request, "artifacts.html.j2", f"Artifacts of run {run_id}", "experiments",
                run_id=run_id, path=path, parent=parent, files=files)


@router.get("/runs/{run_id}/artifact")
@shown("experiments")
def artifact(request: Request, run_id: str, path: str) -> Response:
    try:
        opened = services_of(request).tracking.open_artifact(run_id, path, 0, PREVIEW_BYTES)
    except RangeNotSatisfiable:  # an empty file
        opened = services_of(request).tracking.open_artifact(run_id, path)
    with opened.reader as reader:
        head = reader.read(PREVIEW_BYTES)
    size = int(opened.file.size or 0)
    preview = _preview(path, head, truncated=size > len(head))
    if preview["kind"] == "html":
        preview["too_large"] = size > HTML_PREVIEW_BYTES
        preview["limit_mib"] = HTML_PREVIEW_BYTES // (1024 * 1024)
    return page(request, "artifact.html.j2", path, "experiments", run_id=run_id, path=path,
                size=size, preview=preview, folder=path.rpartition("/")[0])


@router.get("/runs/{run_id}/artifact-raw")
def artifact_raw(request: Request, run_id: str, path: str) -> Response:
    """The file's bytes: an image inline, anything else as a download."""
    opened = services_of(request).tracking.open_artifact(run_id, path, 0, None)
    with opened.reader as reader:
        data = reader.read()
    kind = IMAGES.get(_suffix(path))
    name = path.rpartition("/")[2].replace('"', "")
    headers = {"content-security-policy": "default-src 'none'; sandbox",
               "content-disposition": "inline" if kind else f'attachment; filename="{name}"'}
    return Response(data, media_type=kind or "application/octet-stream", headers=headers)


@router.get("/runs/{run_id}/artifact-html")
def artifact_html(request: Request, run_id: str, path: str) -> Response:
    """An HTML artifact as a page for the preview's ``<iframe sandbox>``: the same
    ``open_artifact`` (so the same read check, and the same denial) as every preview.

    Its bytes are whoever logged them, so the policy is the strictest that still draws a
    report: ``sandbox`` with no tokens (scripts off, a unique origin that can read none of
    this site's cookies or pages, no forms, popups or top navigation), even when the page
    is opened outside the frame; ``default-src 'none'`` (nothing fetched: no scripts,
    frames, fonts, connections, and no ``url()`` in a style); ``img-src data:`` (inline
    images, which Plotly's or matplotlib's static exports use); ``style-src
    'unsafe-inline'`` (a report's own styles: without scripts or loads they can show,
    never send); ``base-uri``, ``form-action`` off; ``frame-ancestors 'self'`` (only
    our pages frame it). Reports whose charts need scripts (an interactive Plotly
    export) show without them: the page says so and offers the download. The monitor's
    report differs on purpose: Gannet writes it, and it runs its own inline Plotly in the
    same kind of sandbox (unique origin, nothing fetched). A file over
    ``HTML_PREVIEW_BYTES`` is not served here (cut HTML is a different page): the preview
    says so and links the download.
    """
    if _suffix(path) not in HTML:
        raise InvalidArgument(f"{path!r} is not an HTML artifact of run {run_id}",
                              "preview it at /ui/runs/<id>/artifact or download it")
    try:
        opened = services_of(request).tracking.open_artifact(run_id, path, 0,
                                                             HTML_PREVIEW_BYTES)
    except RangeNotSatisfiable:  # an empty file
        opened = services_of(request).tracking.open_artifact(run_id, path)
    size = int(opened.file.size or 0)
    with opened.reader as reader:
        data = reader.read(HTML_PREVIEW_BYTES) if size <= HTML_PREVIEW_BYTES else b""
    if size > HTML_PREVIEW_BYTES:
        data = (f"<p>{size} bytes: too large to preview (the limit is "
                f"{HTML_PREVIEW_BYTES} bytes); download it.</p>").encode()
    # X-Content-Type-Options: nosniff and X-Frame-Options come with every UI answer
    # (gannet.ui.session), so the type below is the only one a browser will use
    headers = {"content-security-policy": HTML_POLICY, "cache-control": "private, no-store",
               "content-disposition": "inline"}
    return Response(data, media_type="text/html; charset=utf-8", headers=headers)


def _suffix(path: str) -> str:
    name = path.rpartition("/")[2]
    return name.rpartition(".")[2].lower() if "." in name else ""


def _preview(path: str, head: bytes, *, truncated: bool) -> dict[str, Any]:
    suffix = _suffix(path)
    if suffix in IMAGES:
        return {"kind": "image"}
    if suffix in HTML:
        return {"kind": "html"}
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        if not truncated:
            return {"kind": "binary"}
        text = head[:-4].decode("utf-8", "ignore")
    if suffix == "json" and not truncated:
        try:
            return {"kind": "text", "text": json.dumps(json.loads(text), indent=2)}
        except ValueError:
            pass
    if suffix in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(text), delimiter="\t" if suffix == "tsv" else ","))
        if truncated and rows:
            rows = rows[:-1]  # the last line may be cut
        return {"kind": "table", "header": rows[0] if rows else [],
                "rows": rows[1:CSV_ROWS + 1], "more": truncated or len(rows) > CSV_ROWS + 1}
    if "\x00" in text:
        return {"kind": "binary"}
    return {"kind": "text", "text": text, "truncated": truncated}
