"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/<path>``) and the
tracking-side listing (``/mlflow/artifacts/list``), over run artifacts, logged models'
files and model versions' packages (``locations`` says which a path names).

Uploads stream: the body is read in chunks, hashed and written to the blob store as it
arrives (``put_stream``, in a worker thread that pulls each chunk from the event loop),
so a file of any size never sits in memory, and it is indexed only once all of it is
stored (a client that goes away midway leaves nothing). Downloads stream the blob,
verified against its digest as it is read. A listing answers what MLflow's client
expects: the entries directly under a folder, by base name; nothing for a file (the
client tells files from folders that way).
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from gannet.core.errors import ClientClosedRequest, InvalidArgument
from gannet.server.deps import ServicesDep
from gannet.server.mlflow.locations import Place, locate, run_root
from gannet.server.mlflow.messages import RunMessage, ok
from gannet.tracking.artifacts import listing
from gannet.tracking.types import FileInfo

if TYPE_CHECKING:
    from gannet.bootstrap import Services

proxy = APIRouter(tags=["mlflow: artifacts"])
router = APIRouter(tags=["mlflow: artifacts"])

READ_CHUNK = 1 << 20


@proxy.put("/artifacts/{path:path}", summary="Upload a file (the body is its bytes)")
async def upload_artifact(path: str, request: Request) -> Response:
    services: Services = request.app.state.services
    place = locate(path)
    body: BinaryIO = _Body(request.stream())  # type: ignore[assignment]
    if place.kind == "run" and place.path:
        await anyio.to_thread.run_sync(services.tracking.log_artifact_stream, place.owner,
                                       body, place.path)
    elif place.kind == "model" and place.path:
        await anyio.to_thread.run_sync(services.tracking.log_logged_model_stream,
                                       place.owner, body, place.path)
    else:
        raise _not_writable(path)
    return ok()


@proxy.get("/artifacts", summary="List a folder (path: the folder)")
def list_proxy_artifacts(services: ServicesDep, path: str = "") -> Response:
    place = locate(path)
    files = [] if place.kind == "folder" else _listing(services, place)
    return ok({"files": [_file(f, base_only=True) for f in files]})


@proxy.get("/artifacts/{path:path}", summary="Download a file")
def download_artifact(path: str, services: ServicesDep) -> Response:
    place = locate(path)
    if place.kind == "run":
        opened = services.tracking.open_artifact(place.owner, place.path)
        reader, size = opened.reader, opened.stop
    elif place.kind == "model":
        reader, size = services.tracking.open_logged_model_artifact(place.owner, place.path)
    elif place.kind == "version":
        reader, size = services.registry.open_version_file(place.owner, place.version,
                                                           place.path)
    else:
        raise InvalidArgument(f"{path!r} is a folder of folders, not a file",
                              "download a file of a run, logged model or model version")
    name = place.path.rsplit("/", 1)[-1]
    return StreamingResponse(
        _chunks(reader), media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        headers={"content-length": str(size),
                 "content-disposition": f'attachment; filename="{_header_safe(name)}"'})


@proxy.delete("/artifacts/{path:path}", summary="Delete a file or folder")
def delete_artifact(path: str, services: ServicesDep) -> Response:
    place = locate(path)
    if place.kind == "run" and place.path:
        services.tracking.delete_artifacts(place.owner, place.path)
    elif place.kind == "model" and place.path:
        services.tracking.delete_logged_model_artifacts(place.owner, place.path)
    else:
        raise _not_writable(path)
    return ok()


@router.get("/artifacts/list", summary="List a run's artifacts (paths from its root)")
def list_artifacts(services: ServicesDep, run_id: str | None = None,
                   run_uuid: str | None = None, path: str | None = None) -> Response:
    run = services.tracking.get_run(RunMessage(run_id=run_id, run_uuid=run_uuid).run)
    files = _listing(services, Place("run", run.run_id, _checked(path)))
    return ok({"root_uri": run_root(run.info.experiment_id, run.run_id),
               "files": [_file(f, base_only=False) for f in files]})


def _checked(path: str | None) -> str:
    return locate(f"0/0/artifacts/{path or ''}").path


def _listing(services: Services, place: Place) -> list[FileInfo]:
    if place.kind == "run":
        found = services.tracking.list_artifacts(place.owner, place.path or None)
    elif place.kind == "model":
        found = services.tracking.list_logged_model_artifacts(place.owner, place.path or None)
    else:
        rows = services.registry.version_files(place.owner, place.version)
        found = listing(rows, place.path)
    if len(found) == 1 and not found[0].is_dir and found[0].path == place.path:
        return []  # a file, not a folder: MLflow lists nothing for it
    return found


def _file(info: FileInfo, *, base_only: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "path": info.path.rsplit("/", 1)[-1] if base_only else info.path,
        "is_dir": info.is_dir,
    }
    if not info.is_dir and info.size is not None:
        shape["file_size"] = info.size
    return shape


def _not_writable(path: str) -> InvalidArgument:
    return InvalidArgument(
        f"cannot write to {path!r}: files go under a run's artifacts "
        "(<experiment id>/<run id>/artifacts/<file>) or a logged model's "
        "(<experiment id>/models/<model id>/artifacts/<file>)",
        "use the artifact_uri of the run or logged model")


def _header_safe(name: str) -> str:
    return "".join(c if c.isprintable() and c not in '"\\' else "_" for c in name)


def _chunks(reader: BinaryIO) -> Iterator[bytes]:
    with reader:
        while chunk := reader.read(READ_CHUNK):
            yield chunk


class _Body(io.RawIOBase):
    """The request body as a blocking stream, for a worker thread: a read pulls chunks
    from the event loop (``anyio.from_thread``) until it has what was asked for (one hop
    per read, not per network chunk)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._held = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if (size < 0 or len(self._held) < size) and not self._done:
            self._held += anyio.from_thread.run(self._pull, size - len(self._held))
        if size < 0:
            data, self._held = self._held, b""
        else:
            data, self._held = self._held[:size], self._held[size:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    async def _pull(self, size: int) -> bytes:
        parts: list[bytes] = []
        held = 0
        while size < 0 or held < size:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._done = True
                break
            except ClientDisconnect:
                raise ClientClosedRequest(
                    "the client went away before its upload was complete; nothing was stored",
                    "upload the file again") from None
            parts.append(chunk)
            held += len(chunk)
        return b"".join(parts)
