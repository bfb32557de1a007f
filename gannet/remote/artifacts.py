"""The artifact half of ``RemoteTracking``: ``ArtifactUseCases``' calls over ``/api/v1``.

Paths are checked here with the service's own rules (``gannet.tracking.validation``)
before a byte is hashed or sent, and checked again by the server; bytes move through
``BlobClient`` (content-addressed, streamed, resumable).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from gannet.core import wire
from gannet.core.errors import InvalidArgument, NotFound
from gannet.store.blobs import BlobRef
from gannet.store.blobs.sources import scan_tree, source_size
from gannet.store.blobs.store import check_inside
from gannet.tracking import validation
from gannet.tracking.artifacts import NEVER_COMPLETED
from gannet.tracking.types import FileInfo

if TYPE_CHECKING:
    from gannet.remote.blobs import BlobClient
    from gannet.remote.transport import Transport


class RemoteArtifacts:
    """Mixed into ``RemoteTracking``, which provides ``transport`` and ``blob_client``."""

    transport: Transport
    blob_client: BlobClient

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        """Store a file (or a whole folder) under ``artifact_path`` of the run."""
        local = Path(local_path)
        prefix = validation.artifact_path(artifact_path)
        if local.is_dir():
            return self.log_artifacts(run_id, local, _join(prefix, local.name))
        if not local.is_file():
            raise NotFound(f"no file {str(local)!r} to log", "check the path")
        source_size(str(local))
        path = validation.check_artifact_file(_join(prefix, local.name))
        self.blob_client.log_files(run_id, [(path, str(local))])

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        local = Path(local_dir)
        if not local.is_dir():
            raise NotFound(f"no folder {str(local)!r} to log", "check the path")
        prefix = validation.artifact_path(artifact_path)
        files = scan_tree(str(local.resolve()))
        self.blob_client.log_files(
            run_id,
            [(validation.check_artifact_file(_join(prefix, f.relative)), f.path) for f in files],
        )

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        path = validation.artifact_path(artifact_file)
        if not path:
            raise InvalidArgument("artifact_file must name a file", "e.g. 'config.json'")
        self.blob_client.log_bytes(run_id, bytes(data), path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        found = self.transport.call("GET", f"/api/v1/runs/{_seg(run_id)}/artifacts",
                                    params={"path": validation.artifact_path(path)})
        return wire.load(list[FileInfo], found["files"])

    def artifact_files(self, run_id: str, prefix: str) -> list[tuple[str, str, int]]:
        """(path, digest, size) of every file at or below ``prefix`` of the run's artifacts."""
        found = self.transport.call("GET", f"/api/v1/runs/{_seg(run_id)}/artifact-files",
                                    params={"path": validation.artifact_path(prefix)})
        return [(str(p), str(d), int(s)) for p, d, s in found["files"]]

    def artifact_file(self, run_id: str, path: str) -> FileInfo:
        clean = validation.artifact_path(path)
        rows = self.artifact_files(run_id, clean)
        if not clean or len(rows) != 1 or rows[0][0] != clean:
            raise NotFound(f"run {run_id} has no artifact file {path!r}{NEVER_COMPLETED}",
                           f"list them: gannet artifacts list {run_id}")
        return FileInfo(clean, False, rows[0][2], rows[0][1])

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self.blob_client.read(run_id, validation.artifact_path(path))

    def download_artifacts(
        self, run_id: str, path: str | None = None, dst_path: str | os.PathLike | None = None
    ) -> Path:
        """Copy a run's artifact (file or folder) into ``dst_path`` (a new temp folder if
        None), keeping its path as the embedded call does."""
        prefix = validation.artifact_path(path)
        rows = self.artifact_files(run_id, prefix)
        if not rows:
            what = f"no artifact {path!r}" if prefix else "no artifacts"
            raise NotFound(
                f"run {run_id} has {what}{NEVER_COMPLETED}",
                f"list them: gannet artifacts list {run_id}",
            )
        dest = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="gannet-"))
        dest.mkdir(parents=True, exist_ok=True)
        real_root = os.path.realpath(dest)
        jobs = []
        for file_path, digest, size in rows:
            target = str(dest / file_path)
            check_inside(real_root, target, str(dest))
            jobs.append((file_path, target, size, digest))
        self.blob_client.download(run_id, jobs)
        return dest / prefix if prefix else dest

    # -- the steps of a content-addressed upload, for callers that do it themselves -------

    def missing_blobs(self, run_id: str, digests: Sequence[str]) -> list[str]:
        found = self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts/missing",
                                    json={"digests": list(digests)}, retry_safe=True)
        return list(found["missing"])

    def put_blob(self, digest: str, stream: BinaryIO, size: int | None = None) -> BlobRef:
        headers = {"content-type": "application/octet-stream"}
        if size is not None:
            headers["content-length"] = str(size)
        start = stream.tell() if stream.seekable() else None

        def body() -> Any:  # a retry sends the stream again from where it started
            if start is not None:
                stream.seek(start)
            return _chunks(stream)

        answer = self.transport.send("PUT", f"/api/v1/blobs/{quote(digest, safe=':')}",
                                     body=body, headers=headers).json()
        return BlobRef(answer["digest"], int(answer["size"]))

    def log_artifact_files(self, run_id: str, files: Sequence[tuple[str, str, int]]) -> None:
        self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts",
                            json={"files": [{"path": p, "digest": d, "size": s}
                                            for p, d, s in files]})


def _chunks(stream: BinaryIO) -> Any:
    while chunk := stream.read(1 << 20):
        yield chunk


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _seg(value: str) -> str:
    return quote(str(value), safe="")
