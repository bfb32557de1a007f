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
from gannet.core.errors import IntegrityError, InvalidState, StoreError, Unavailable
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
        self._direct: httpx.Client | None = None

    @property
    def direct(self) -> httpx.Client:
        """A client without the server's credentials, for the object store's signed URLs."""
        if self._direct is None:
            self._direct = httpx.Client(timeout=self.transport.client.timeout)
        return self._direct

    # -- up ------------------------------------------------------------------------------

    def log_files(self, run_id: str, files: Sequence[LocalFile]) -> None:
        """Send the files the server lacks, then log all of them to the run."""
        hashed = run_parallel(lambda f: digest_file(f[1]), list(files), self.threads)
        sources = {digest: local for (_, local), (digest, _) in zip(files, hashed, strict=True)}
        sizes = dict(hashed)
        entries = [{"path": path, "digest": digest, "size": size}
                   for (path, _), (digest, size) in zip(files, hashed, strict=True)]
        for attempt in range(2):
            missing, signed = self._missing(run_id, list(sources))
            self._send(missing, signed, sources, sizes)
            try:
                self._log(run_id, entries)
                return
            except InvalidState:  # a blob went (garbage collection) between the calls
                if attempt:
                    raise

    def _send(self, missing: list[str], signed: dict[str, Any], sources: dict[str, str],
              sizes: dict[str, int]) -> None:
        total = sum(sizes[digest] for digest in missing)
        with Tracker(f"sending {len(missing)} files", enabled=self.progress, total=total,
                     files=len(missing)) as tracker:
            run_parallel(lambda d: self._put_file(d, sources[d], sizes[d], tracker,
                                                  signed.get(d)), missing, self.threads)

    def log_bytes(self, run_id: str, data: bytes, path: str) -> None:
        digest = digest_bytes(data)
        missing, signed = self._missing(run_id, [digest])
        if missing:
            self._put(digest, lambda: data, len(data), signed.get(digest))
        self._log(run_id, [{"path": path, "digest": digest, "size": len(data)}])

    def _missing(self, run_id: str, digests: list[str]) -> tuple[list[str], dict[str, Any]]:
        """The digests to send, and the signed uploads offered for them."""
        found = self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts/missing",
                                    json={"digests": digests}, retry_safe=True)
        return list(found["missing"]), dict(found.get("uploads") or {})

    def _put_file(self, digest: str, local: str, size: int, tracker: Tracker,
                  signed: dict[str, str] | None) -> None:
        def body() -> Iterator[bytes]:
            with open(local, "rb", buffering=0) as source:
                while chunk := source.read(CHUNK):
                    tracker.advance(len(chunk))
                    yield chunk

        self._put(digest, body, size, signed)

    def _put(self, digest: str, body: Callable[[], Any], size: int,
             signed: dict[str, str] | None) -> None:
        """Through the server, or to the object store's signed URL and then committed."""
        if signed is None:
            self.transport.send("PUT", _blob(digest), body=body, headers=_octets(size))
            return
        for attempt in range(self.transport.retries + 1):
            try:
                sent = self.direct.put(signed["url"], content=body(), headers=_octets(size))
            except httpx.TransportError:
                if attempt == self.transport.retries:
                    raise
            else:
                if sent.status_code < 500 or attempt == self.transport.retries:
                    break
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        if sent.status_code >= 300:
            raise StoreError(f"the object store refused the upload of blob {digest}: "
                             f"{sent.status_code} {sent.text[:200]}",
                             "check the store's credentials and the server's clock")
        self.transport.call("POST", f"/api/v1/staged-blobs/{quote(digest, safe=':')}",
                            json={"staged": signed["staged"], "size": size}, retry_safe=True)

    def _log(self, run_id: str, entries: list[dict[str, Any]]) -> None:
        self.transport.call("POST", f"/api/v1/runs/{_seg(run_id)}/artifacts",
                            json={"files": entries}, retry_safe=True)

    # -- down ----------------------------------------------------------------------------

    def read(self, run_id: str, path: str) -> bytes:
        response = self.transport.send("GET", _content(run_id), params={"path": path})
        if response.is_redirect:  # a signed URL of the object store
            response = self.direct.get(response.headers["location"])
            response.raise_for_status()
        return response.content

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()

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
                got = _Download(self, run_id, path, size, digest)
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

    def __init__(self, blobs: BlobClient, run_id: str, path: str, size: int,
                 digest: str) -> None:
        self.blobs = blobs
        self.transport = blobs.transport
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
        if response.is_redirect:  # a signed URL of the object store, which takes ranges too
            response.close()
            direct = self.blobs.direct
            request = direct.build_request("GET", response.headers["location"], headers=headers)
            response = direct.send(request, stream=True)
            if response.status_code >= 400:
                response.close()
                raise Unavailable(f"the object store answered {response.status_code}", "retry")
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
