"""``/api/v1`` artifact routes: content-addressed, streamed uploads and ranged downloads.

Logging files through the server takes three calls, none of which moves a byte twice:

1. ``POST /runs/{run_id}/artifacts/missing`` with the files' blake3 digests: the server
   answers which blobs it lacks;
2. ``PUT /blobs/{digest}`` for each of those, the file as the streamed body: the server
   hashes it while writing it into the blob store and keeps it only if it is the blob
   the digest names (a cut upload, or other bytes, leaves no blob behind);
3. ``POST /runs/{run_id}/artifacts`` with each file's path, digest and size: the run's
   index, once every blob is there.

Downloads stream (``GET /runs/{run_id}/artifacts/content?path=``) and take an HTTP
``Range``; a whole file is checked against its digest as it goes out. No body here ever
sits whole in memory, on the server or in the remote SDK.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, BinaryIO, cast

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response, StreamingResponse

from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer
from gannet.server.request_stream import RequestStream

router = APIRouter(prefix=API_PREFIX, tags=["artifacts"])

CHUNK = 1 << 20
Digest = Annotated[str, Field(description="'blake3:' and 64 lowercase hex characters")]
ArtifactPath = Annotated[str, Query(description="a file's path in the run's artifacts")]
Folder = Annotated[str, Query(description="a folder of the run's artifacts ('' = all)")]
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Digests(BaseModel):
    digests: list[Digest]


class ArtifactFileBody(BaseModel):
    path: str
    digest: Digest
    size: int = Field(ge=0)


class ArtifactFiles(BaseModel):
    files: list[ArtifactFileBody]


class Staged(BaseModel):
    staged: str = Field(description="the token the signed upload URL came with")
    size: int | None = Field(default=None, ge=0)


@router.post("/runs/{run_id}/artifacts/missing",
             summary="Which of these blobs (to log to the run) the server lacks",
             response_model=shapes.MISSING_UPLOADS)
def missing_blobs(run_id: str, body: Digests, services: ServicesDep) -> Response:
    """``missing``: the digests to send; ``uploads`` (with ``server_presigned_urls`` on
    S3): for each, a signed URL to PUT the bytes to and the token to commit them with."""
    plan = services.tracking.plan_upload(run_id, body.digests)
    uploads = {digest: {"url": url, "staged": token} for digest, (token, url) in
               plan.urls.items()}
    return answer({"missing": plan.missing, "uploads": uploads})


@router.post("/staged-blobs/{digest}", status_code=201,
             summary="Make bytes put to a signed upload URL the blob (if they hash to it)",
             response_model=shapes.BLOB)
def put_staged(digest: str, body: Staged, services: ServicesDep) -> Response:
    ref = services.tracking.put_staged(digest, body.staged, body.size)
    return answer({"digest": ref.digest, "size": ref.size}, 201)


@router.put("/blobs/{digest}", status_code=201,
            summary="Send a blob's bytes (streamed; kept only if they hash to the digest)",
            response_model=shapes.BLOB)
async def put_blob(digest: str, request: Request, services: ServicesDep) -> Response:
    length = request.headers.get("content-length")
    size = int(length) if length is not None and length.isdigit() else None
    body = cast(BinaryIO, RequestStream(request))
    ref = await anyio.to_thread.run_sync(services.tracking.put_blob, digest, body, size)
    return answer({"digest": ref.digest, "size": ref.size}, 201)


@router.post("/runs/{run_id}/artifacts", summary="Log files (whose blobs are stored) to a run",
             response_model=shapes.DONE)
def log_artifact_files(run_id: str, body: ArtifactFiles, services: ServicesDep) -> Response:
    files = [(f.path, f.digest, f.size) for f in body.files]
    services.tracking.log_artifact_files(run_id, files)
    return answer({})


@router.get("/runs/{run_id}/artifacts", summary="Files and folders directly under a folder",
            response_model=shapes.FILES)
def list_artifacts(run_id: str, services: ServicesDep, path: Folder = "") -> Response:
    return answer({"files": services.tracking.list_artifacts(run_id, path or None)})


@router.get("/runs/{run_id}/artifact-files",
            summary="Every file at or below a path: path, digest and size",
            response_model=shapes.ARTIFACT_FILES)
def artifact_files(run_id: str, services: ServicesDep, path: Folder = "") -> Response:
    return answer({"files": services.tracking.artifact_files(run_id, path)})


@router.get("/runs/{run_id}/artifacts/content",
            summary="An artifact file's bytes, streamed (HTTP Range: a part of them)",
            **shapes.not_json("application/octet-stream", description="the file's bytes"))
def read_artifact(run_id: str, request: Request, services: ServicesDep,
                  path: ArtifactPath) -> Response:
    url = services.tracking.artifact_url(run_id, path)
    if url is not None:  # the store serves it directly, ranges and all
        return RedirectResponse(url, status_code=307)
    wanted = _byte_range(request.headers.get("range"))
    start, stop = wanted if wanted is not None else (0, None)
    opened = services.tracking.open_artifact(run_id, path, start, stop)
    size = int(opened.file.size or 0)
    headers = {"accept-ranges": "bytes", "content-length": str(opened.stop - opened.start),
               "etag": f'"{opened.file.digest}"'}
    status = 200
    if wanted is not None:
        status = 206
        headers["content-range"] = f"bytes {opened.start}-{opened.stop - 1}/{size}"
    return StreamingResponse(_chunks(opened.reader), status_code=status, headers=headers,
                             media_type="application/octet-stream")


def _byte_range(header: str | None) -> tuple[int, int | None] | None:
    """(start, stop) of a single ``bytes=`` range; None for none, or one this route does
    not serve (several ranges, other units): then the whole file is sent, as HTTP allows."""
    found = _RANGE.match(header.strip()) if header else None
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if not first:  # bytes=-N: the last N bytes
        return -int(last), None
    return int(first), (int(last) + 1 if last else None)


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    """The reader's bytes, a chunk at a time (Starlette runs this in a thread)."""
    with reader:
        while chunk := reader.read(CHUNK):
            yield chunk
