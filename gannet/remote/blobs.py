"""Files to and from a team server's blob store, streamed and content-addressed.

Up: the files are hashed here (blake3, in parallel threads), the server is asked which
blobs it lacks, only those are sent (each a streamed ``PUT /api/v1/blobs/{digest}``,
read from disk a chunk at a time), then the run's files are logged by path, digest and
size. Down: each file is streamed into a temporary file beside its destination, hashed
on the way, and renamed into place only when it is the blob its digest names; a
connection that drops half-way is resumed with an HTTP ``Range`` from where it stopped.
A file of any size therefore never sits in memory, on either side.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from gannet.core.digests import digest_bytes, digest_file, format_digest, hasher
from gannet.core.errors import IntegrityError, InvalidState, Unavailable
from gannet.remote.transport import Transport
from gannet.store.blobs.transfer import Tracker, run_parallel

__all__ = ["BlobClient", "LocalFile"]

CHUNK = 1 << 20
LocalFile = tuple[str, str]  # (path in the run's artifacts, file on this machine)


class BlobClient:
    def __init__(self, transport: Transport, *, threads: int = 8, progress: bool = True) -> None:
        self.transport = transport
        self.threads = threads
        self.progress = progress

    # -- up ------------------------------------------------------------------------------

    def log_files(self, run_id: str, files: Sequence[LocalFile]) -> None:
        """Send the files the server lacks, then log all of them to the run."""
        hashed = run_parallel(lambda f: digest_file(f[1]), list(files), self.threads)
        sources = {digest: local for (_, local), (digest, _) in zip(files, hashed, strict=True)}
        sizes = dict(hashed)
        entries = [{"path": path, "digest": digest, "size": size}
                   for (path, _), (digest, size) in zip(files, hashed, strict=True)]
        for attempt in range(2):
            missing = self._missing(run_id, list(sources))
            total = sum(sizes[digest] for digest in missing)
            with Tracker(f"sending {len(missing)} files", enabled=self.progress, total=total,
                         files=len(missing)) as tracker:
                run_parallel(lambda d: self._put_file(d, sources[d], sizes[d], tracker),
                             missing, self.threads)
            try:
                self._log(run_id, entries)
                return
            except InvalidState:  # a blob went (garbage collection) between the calls
                if attempt:
                    raise

    def log_bytes(self, run_id: str, data: bytes, path: str) -> None:
        digest = digest_bytes(data)
        if self._missing(run_id, [digest]):
            self.transport.send("PUT", _blob(digest), content=data, headers=_octets(len(data)))
        self._log(run_id, [{"path": path, "digest": digest, "size": len(data)}])

    def _missing(self, run_id: str, digests: list[str]) -> list[str]:
        found = self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts/missing",
                                    json={"digests": digests})
        return list(found["missing"])

    def _put_file(self, digest: str, local: str, size: int, tracker: Tracker) -> None:
        def body() -> Iterator[bytes]:
            with open(local, "rb", buffering=0) as source:
                while chunk := source.read(CHUNK):
                    tracker.advance(len(chunk))
                    yield chunk

        self.transport.send("PUT", _blob(digest), body=body, headers=_octets(size))

    def _log(self, run_id: str, entries: list[dict[str, Any]]) -> None:
        self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts",
                            json={"files": entries})

    # -- down ----------------------------------------------------------------------------

    def read(self, run_id: str, path: str) -> bytes:
        response = self.transport.send("GET", _content(run_id), params={"path": path})
        return response.content

    def download(self, run_id: str, files: Sequence[tuple[str, str, int, str]]) -> None:
        """Fetch (path in the run, destination, size, digest) files, in parallel."""
        with Tracker(f"fetching {len(files)} files", enabled=self.progress,
                     total=sum(f[2] for f in files), files=len(files)) as tracker:
            run_parallel(lambda f: self._fetch(run_id, *f, tracker), list(files), self.threads)

    def _fetch(self, run_id: str, path: str, dest: str, size: int, digest: str,
               tracker: Tracker) -> None:
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(dest)}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            with open(tmp, "xb") as out:
                got = _Download(self.transport, run_id, path, size, digest)
                got.into(out, tracker.advance)
            os.replace(tmp, dest)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


class _Download:
    """One file's bytes, from where the last connection stopped, hashed as they come."""

    def __init__(self, transport: Transport, run_id: str, path: str, size: int,
                 digest: str) -> None:
        self.transport = transport
        self.run_id = run_id
        self.path = path
        self.size = size
        self.digest = digest
        self.hash = hasher()
        self.done = 0

    def into(self, out: Any, advance: Callable[[int], None]) -> None:
        drops = 0
        while True:
            try:
                self._rest(out, advance)
                break
            except (httpx.TransportError, Unavailable):
                drops += 1
                if drops > self.transport.retries:
                    raise
                time.sleep(min(2.0, 0.05 * 2**drops) * (0.5 + random.random()))
        actual = format_digest(self.hash.hexdigest())
        if self.done != self.size or actual != self.digest:
            raise IntegrityError(
                f"artifact {self.path!r} of run {self.run_id} arrived as {self.done} bytes "
                f"hashing to {actual}, not the {self.size} bytes of {self.digest}",
                "download it again; if it fails again the server's copy is damaged",
            )

    def _rest(self, out: Any, advance: Callable[[int], None]) -> None:
        if self.done >= self.size and self.size:
            return
        headers = {"range": f"bytes={self.done}-"} if self.done else {}
        response = self.transport.send("GET", _content(self.run_id), params={"path": self.path},
                                       headers=headers, stream=True)
        try:
            if self.done and response.status_code != 206:  # the whole file again: start over
                out.seek(0)
                out.truncate()
                self.hash, self.done = hasher(), 0
            for chunk in response.iter_raw(CHUNK):
                out.write(chunk)
                self.hash.update(chunk)
                self.done += len(chunk)
                advance(len(chunk))
        finally:
            response.close()


def _blob(digest: str) -> str:
    return f"/api/v1/blobs/{quote(digest, safe=':')}"


def _content(run_id: str) -> str:
    return f"/api/v1/runs/{_seg(run_id)}/artifacts/content"


def _octets(size: int) -> dict[str, str]:
    return {"content-type": "application/octet-stream", "content-length": str(size)}


def _seg(value: str) -> str:
    return quote(str(value), safe="")
