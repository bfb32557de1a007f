"""Tracking's artifacts: the files a run logs (bytes in the blob store, an index row per
file), and what garbage collection needs to know of them.

Every write of blobs happens under a write lease (``BlobLeases.hold``) that ends only
after the index rows referencing them are committed, so ``gannet gc`` never removes a
blob that a run is about to reference. ``TrackingService`` inherits these use cases.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from gannet.core.actor import EDITOR, require_anywhere
from gannet.core.errors import InvalidArgument, InvalidState, NotFound, RangeNotSatisfiable
from gannet.store.blobs import presigned
from gannet.tracking import artifact_repository, logged_model_repository, validation
from gannet.tracking.types import FileInfo, OpenedArtifact, Run, UploadPlan

if TYPE_CHECKING:
    import sqlalchemy as sa

    from gannet.core.settings import Settings
    from gannet.store.blobs import BlobRef, BlobStore
    from gannet.store.gc import BlobLeases
    from gannet.store.metadata import MetadataStore


# Streamed files up to this size are stored inside the transaction that indexes them (one
# transaction per file: what many small uploads cost); longer ones under a write lease.
SMALL_STREAM = 1 << 20

# An artifact appears only once all its bytes are stored, so "missing" may mean "its
# upload was interrupted": say so, since the person asking may have seen it start.
NEVER_COMPLETED = (
    ": it was never logged, or its upload did not complete (an artifact appears only once "
    "all of its bytes are stored)"
)


class ArtifactUseCases:
    """Artifacts of runs; needs ``metadata``, ``blobs``, ``leases`` and the run checks."""

    metadata: MetadataStore
    blobs: BlobStore
    leases: BlobLeases
    settings: Settings

    def get_run(self, run_id: str) -> Run:
        raise NotImplementedError

    def check_run_active(self, run_id: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _require_active(conn: sa.Connection, run_id: str) -> None:
        raise NotImplementedError

    def _may_runs(self, run_ids: Collection[str], role: str, what: str) -> None:
        raise NotImplementedError

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        """Store a file (or a whole folder) under ``artifact_path`` of the run."""
        local = Path(local_path)
        prefix = validation.artifact_path(artifact_path)
        self.check_run_active(run_id)
        if local.is_dir():
            return self.log_artifacts(run_id, local, _join(prefix, local.name))
        if not local.is_file():
            raise NotFound(f"no file {str(local)!r} to log", "check the path")
        path = validation.check_artifact_file(_join(prefix, local.name))
        with self.leases.hold():
            ref = self.blobs.put_file(local)
            self._index(run_id, [(path, ref.digest, ref.size)])

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike, artifact_path: str | None = None
    ) -> None:
        local = Path(local_dir)
        if not local.is_dir():
            raise NotFound(f"no folder {str(local)!r} to log", "check the path")
        prefix = validation.artifact_path(artifact_path)
        self.check_run_active(run_id)
        with self.leases.hold():
            _, manifest = self.blobs.put_tree(local)
            self._index(
                run_id,
                [(_join(prefix, p), e.digest, e.size) for p, e in manifest.entries.items()],
            )

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        path = validation.artifact_path(artifact_file)
        if not path:
            raise InvalidArgument("artifact_file must name a file", "e.g. 'config.json'")
        self.check_run_active(run_id)
        with self.leases.hold():
            ref = self.blobs.put_bytes(data)
            self._index(run_id, [(path, ref.digest, ref.size)])

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly under ``path`` (MLflow's listing shape)."""
        self.get_run(run_id)
        prefix = validation.artifact_path(path)
        with self.metadata.read() as conn:
            rows = artifact_repository.artifact_rows(conn, run_id, prefix)
        return listing(rows, prefix)

    def log_artifact_stream(self, run_id: str, stream: BinaryIO, artifact_file: str) -> FileInfo:
        """Store what ``stream`` holds, read in chunks (never whole in memory), as the run's
        file ``artifact_file`` (replacing one of that path). The file appears only once all
        of it is stored: a stream that fails midway leaves nothing."""
        path = validation.check_artifact_file(_file_path(artifact_file))
        self._may_runs([run_id], EDITOR, "log to")

        def index(conn: sa.Connection, ref: BlobRef) -> None:
            self._require_active(conn, run_id)
            artifact_repository.index_artifacts(conn, run_id, [(path, ref.digest, ref.size)])

        ref = self._store_stream(stream, check=lambda: self.check_run_active(run_id),
                                index=index)
        return FileInfo(path, False, ref.size, ref.digest)

    def _store_stream(self, stream: BinaryIO, *, check: Callable[[], None],
                     index: Callable[[sa.Connection, BlobRef], None]) -> BlobRef:
        """Store what ``stream`` holds, read in chunks (never whole in memory), and
        ``index`` it in a write transaction that sees it; nothing is indexed when the
        stream fails midway. A small stream is stored inside that transaction (one per
        file: what many small uploads cost); a long one under a write lease, after
        ``check`` said it may be (before gigabytes are read, not after)."""
        head = read_up_to(stream, SMALL_STREAM + 1)
        if len(head) <= SMALL_STREAM:
            with self.metadata.write() as conn:
                self.leases.guard(conn)
                ref = self.blobs.put_bytes(head)
                index(conn, ref)
            return ref
        check()
        with self.leases.hold():
            ref = self.blobs.put_stream(rejoined(head, stream))
            with self.metadata.write() as conn:
                index(conn, ref)
        return ref

    def delete_artifacts(self, run_id: str, path: str) -> int:
        """Forget the run's artifact file, or every file of the folder, at ``path`` (their
        bytes wait for ``gannet gc``); returns how many files went."""
        clean = _file_path(path)
        self._may_runs([run_id], EDITOR, "delete artifacts of")
        with self.metadata.write() as conn:
            self._require_active(conn, run_id)
            return artifact_repository.delete_artifacts(conn, run_id, clean)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        found = self.artifact_file(run_id, path)
        assert found.digest is not None
        return self.blobs.get_bytes(found.digest)

    def download_artifacts(
        self, run_id: str, path: str | None = None, dst_path: str | os.PathLike | None = None
    ) -> Path:
        """Copy a run's artifact (file or folder) into ``dst_path`` (a new temp folder if None).

        As MLflow does, the artifact keeps its path: ``download_artifacts(id, "a/b", d)``
        writes ``d/a/b`` and returns that path.
        """
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
        self.blobs.get_files([(digest, dest / p) for p, digest, _ in rows], within=dest)
        return dest / prefix if prefix else dest

    def artifact_files(self, run_id: str, prefix: str) -> list[tuple[str, str, int]]:
        """(path, digest, size) of every file at or below ``prefix`` of the run's artifacts."""
        prefix = validation.artifact_path(prefix)
        self.get_run(run_id)
        with self.metadata.read() as conn:
            return artifact_repository.artifact_rows(conn, run_id, prefix)

    # -- artifacts sent through the team server: digests first, then the missing bytes ------

    def missing_blobs(self, run_id: str, digests: Sequence[str]) -> list[str]:
        """Which of the files about to be logged to ``run_id`` (by digest) the store lacks:
        only those need sending (``put_blob``) before ``log_artifact_files``."""
        self.check_run_active(run_id)
        return self.blobs.missing(digests)

    def plan_upload(self, run_id: str, digests: Sequence[str]) -> UploadPlan:
        """``missing_blobs``, and, with the ``server_presigned_urls`` setting on an S3
        store, a signed URL for each missing blob to be put to (then ``put_staged``)."""
        missing = self.missing_blobs(run_id, digests)
        urls: dict[str, tuple[str, str]] = {}
        if self.settings.server_presigned_urls:
            for digest in missing:
                signed = presigned.upload_url(self.blobs)
                if signed is None:
                    break
                urls[digest] = signed
        return UploadPlan(missing, urls)

    def put_staged(self, digest: str, token: str, size: int | None = None) -> BlobRef:
        """Make the bytes put to a signed upload URL the blob ``digest``, if they are."""
        require_anywhere(EDITOR, "upload files")
        return presigned.commit_staged(self.blobs, token, digest, size)

    def artifact_url(self, run_id: str, path: str) -> str | None:
        """A signed URL the file can be read from directly (``server_presigned_urls`` on
        an S3 store), else None."""
        if not self.settings.server_presigned_urls:
            return None
        found = self.artifact_file(run_id, path)
        assert found.digest is not None
        return presigned.download_url(self.blobs, found.digest)

    def put_blob(self, digest: str, stream: BinaryIO, size: int | None = None) -> BlobRef:
        """Store bytes sent as the blob ``digest``: kept only if they hash to it (only an
        editor somewhere may: a blob is sent before the files that name it)."""
        require_anywhere(EDITOR, "upload files")
        return self.blobs.put_expected(stream, digest, size)

    def log_artifact_files(self, run_id: str, files: Sequence[tuple[str, str, int]]) -> None:
        """Index (path, digest, size) files under the run's artifacts; their blobs must be
        stored already, with those sizes (checked while garbage collection is held off, so
        none can go between the check and the index)."""
        self.check_run_active(run_id)
        rows = []
        for path, digest, size in files:
            clean = validation.artifact_path(path)
            if not clean:
                raise InvalidArgument(f"artifact path {path!r} names no file",
                                      "give each file a path such as 'plots/roc.png'")
            rows.append((clean, digest, size))
        with self.metadata.write() as conn:
            self._require_active(conn, run_id)
            self.leases.guard(conn)
            stored = self.blobs.sizes([d for _, d, _ in rows])
            wrong = [(d, s) for _, d, s in rows if stored[d] != s]
            if wrong:
                digest, size = wrong[0]
                raise InvalidState(
                    f"{len(wrong)} of the files are not in the artifact store, e.g. blob "
                    f"{digest} of {size} bytes; nothing was logged",
                    "send each missing blob first (PUT /api/v1/blobs/<digest>), then log "
                    "the files again",
                )
            artifact_repository.index_artifacts(conn, run_id, rows)

    def artifact_file(self, run_id: str, path: str) -> FileInfo:
        """The one file at ``path`` of the run's artifacts (a folder is not a file)."""
        clean = validation.artifact_path(path)
        rows = self.artifact_files(run_id, clean)
        if not clean or len(rows) != 1 or rows[0][0] != clean:
            raise NotFound(f"run {run_id} has no artifact file {path!r}{NEVER_COMPLETED}",
                           f"list them: gannet artifacts list {run_id}")
        return FileInfo(clean, False, rows[0][2], rows[0][1])

    def open_artifact(
        self, run_id: str, path: str, start: int = 0, stop: int | None = None
    ) -> OpenedArtifact:
        """A reader of the file's bytes ``start`` to ``stop`` (excluded; None: the end;
        a negative ``start``: that many last bytes). The whole file is verified against its
        digest as it is read; a part cannot be."""
        found = self.artifact_file(run_id, path)
        size = int(found.size or 0)
        first = max(0, size + start) if start < 0 else start
        last = size if stop is None else min(stop, size)
        if first >= last and not (start == 0 and stop is None):  # an empty file, whole
            raise RangeNotSatisfiable(
                f"bytes {start}-{'' if stop is None else stop - 1} are outside artifact "
                f"{found.path!r} of run {run_id}, which has {size} bytes",
                "ask for a range inside the file, or for the whole file",
            )
        assert found.digest is not None
        if first == 0 and last == size:
            return OpenedArtifact(found, self.blobs.open_blob(found.digest), 0, size)
        return OpenedArtifact(found, self.blobs.open_range(found.digest, first, last), first, last)

    def _index(self, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Index stored files (checked first: a file name from disk may be too long, or
        not UTF-8, for the index; its blob then waits for garbage collection)."""
        rows = [(validation.check_artifact_file(path), d, size) for path, d, size in files]
        with self.metadata.write() as conn:
            self._require_active(conn, run_id)
            artifact_repository.index_artifacts(conn, run_id, rows)

    # -- garbage collection (gannet.store.gc.BlobReferences) ---------------------------------

    def purge_deleted(self, before_ms: int, *, dry_run: bool) -> dict[str, int]:
        """Remove runs deleted before ``before_ms`` for good, 500 per transaction (so an
        interrupted collection keeps what it did)."""
        with self.metadata.read() as conn:
            doomed = artifact_repository.runs_deleted_before(conn, before_ms)
        if not dry_run:
            for start in range(0, len(doomed), 500):
                with self.metadata.write() as conn:
                    artifact_repository.purge_runs(conn, doomed[start : start + 500])
        return {"runs": len(doomed)}

    def referenced_blobs(self, deleted_since_ms: int) -> set[str]:
        """What runs kept (live or deleted lately) and logged models reference."""
        with self.metadata.read() as conn:
            return artifact_repository.referenced_digests(
                conn, deleted_since_ms) | logged_model_repository.digests(conn)

    def recheck_blobs(self, digests: Collection[str], since_ms: int) -> set[str]:
        with self.metadata.read() as conn:
            return artifact_repository.digests_in_use(
                conn, list(digests)) | logged_model_repository.digests_in_use(conn, list(digests))


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


def _file_path(path: str) -> str:
    clean = validation.artifact_path(path)
    if not clean:
        raise InvalidArgument("an artifact path must name a file or folder, not the root",
                              "e.g. 'plots/roc.png'")
    return clean


def read_up_to(stream: BinaryIO, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream`` (a read may return less than asked)."""
    parts, held = [], 0
    while held < limit and (chunk := stream.read(limit - held)):
        parts.append(chunk)
        held += len(chunk)
    return b"".join(parts)


def rejoined(head: bytes, stream: BinaryIO) -> BinaryIO:
    """``head`` (already read from ``stream``) followed by the rest of ``stream``."""
    return _Rejoined(head, stream)  # type: ignore[return-value]


class _Rejoined(io.RawIOBase):
    """``head`` (already read from ``stream``) followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head, self.stream = head, stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            data = self.head if size < 0 else self.head[:size]
            self.head = self.head[len(data):]
            return data
        return self.stream.read(size)


def listing(rows: Iterable[tuple[str, str, int]], prefix: str) -> list[FileInfo]:
    """The files and folders directly under ``prefix`` among ``rows`` (path, digest, size)
    of the files at or below it; ``prefix`` naming a file lists that one file."""
    entries: dict[str, FileInfo] = {}
    for file_path, digest, size in rows:
        if file_path == prefix:
            return [FileInfo(file_path, False, size, digest)]
        rest = file_path[len(prefix) + 1 :] if prefix else file_path
        head, _, tail = rest.partition("/")
        child = _join(prefix, head)
        entries[child] = FileInfo(child, True) if tail else FileInfo(child, False, size, digest)
    return sorted(entries.values(), key=lambda f: f.path)
