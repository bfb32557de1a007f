"""Model packages between a client and a team server: a folder up, a version down, and
the keys that vouch for what comes down.

Up (``upload_folder``): the folder is checked here as the server would (its
``gannet-model.yaml`` lists exactly its files), each file digested, the server asked which
blobs it lacks, and only those uploaded, streamed from disk (nothing is held in memory).

Down (``fetch``): into the same content-addressed cache a local load uses,
``<home>/cache/models/<package hex>``, atomically. Nothing the server sends is taken on its
word: the file list must digest to the version's package digest, each file to its digest
as it streams to disk; then loading checks every file against the signed
``gannet-model.yaml`` and the signature against trusted keys (``packages.load_checked``),
the same rules as embedded loading.

Trusted keys (``ServerTrust``): this home's ``trusted_keys``, and the public keys the
server publishes (``GET /api/v1/signing-keys``, asked only when a version's key is not
trusted here already). The server is the registry's authority: a key it trusts signs what
it registers; the signature then guards the bytes between its signing and this load (the
object store, the network, this cache).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from gannet.core.digests import CHUNK, digest_bytes, digest_file, format_digest, hasher, hex_part
from gannet.core.errors import IntegrityError, InvalidArgument, NotFound, Unavailable
from gannet.models.manifest import MANIFEST
from gannet.models.package import read_meta, verify_files
from gannet.registry import signing
from gannet.registry.types import ModelVersion, PackageSignature
from gannet.remote.transport import Transport, error_of
from gannet.store.blobs import Manifest, ManifestEntry
from gannet.store.blobs.sources import scan_tree

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["FileBody", "ServerTrust", "download_file", "fetch", "missing_folder", "upload_folder"]

PREFIX = "/api/v1"


class FileBody:
    """A file as a request body, read in chunks each time it is sent (so a retried upload
    reads it again from the start; a generator could be sent only once)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk


def upload_folder(transport: Transport, folder: Path) -> list[dict[str, Any]]:
    """Upload what the server lacks of a package folder; its files as the register route
    takes them (path, digest, size)."""
    if not (folder / MANIFEST).is_file():
        raise InvalidArgument(
            f"{folder} is not a model package (no {MANIFEST})",
            "save one with gannet.log_model(...) in a run, or gannet.models.save_model(...)",
        )
    verify_files(folder, read_meta(folder))
    files, paths = [], {}
    for source in scan_tree(str(folder)):
        digest, size = digest_file(source.path)
        files.append({"path": source.relative, "digest": digest, "size": size})
        paths[digest] = source.path
    asked = transport.call("POST", f"{PREFIX}/model-packages/missing",
                           json={"digests": sorted(paths)}, retry_safe=True)
    for digest in asked["missing"]:
        transport.send("PUT", f"{PREFIX}/blobs/{digest}",
                       content=FileBody(paths[digest]),
                       headers={"content-type": "application/octet-stream"})
    return files


def fetch(transport: Transport, version: ModelVersion, cache_root: Path) -> Path:
    """The version's package in the local cache (downloaded once, atomically), its file
    list and every file checked against the version's digests."""
    dest = cache_root / hex_part(version.package_digest)
    if dest.is_dir():
        return dest
    cache_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache_root))
    try:
        base = _version_path(version) + "/package"
        manifest = _manifest(transport.call("GET", base)["files"], version)
        root = tmp / "package"
        for path, entry in manifest.entries.items():
            target = root.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            download_file(transport, f"{base}/{quote(path)}", target, entry)
            os.chmod(target, entry.mode & 0o777)
        try:
            os.rename(root, dest)
        except OSError:
            if not dest.is_dir():  # not "another process won the race"
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _version_path(version: ModelVersion) -> str:
    return (f"{PREFIX}/registered-models/{quote(version.name, safe='')}"
            f"/versions/{int(version.version)}")


def _manifest(files: list[dict[str, Any]], version: ModelVersion) -> Manifest:
    """The file list the server sent, refused unless it is the version's own."""
    manifest = Manifest({
        f["path"]: ManifestEntry(digest=f["digest"], size=int(f["size"]), mode=int(f["mode"]))
        for f in files
    })
    if digest_bytes(manifest.to_bytes()) != version.package_digest:
        raise IntegrityError(
            f"the server sent a file list for {version.ref} that is not its package "
            f"({version.package_digest})",
            "the server's store is damaged or the answer was altered; ask its operator",
        )
    return manifest


def download_file(transport: Transport, path: str, target: Path, entry: ManifestEntry) -> None:
    """One file to ``target``, retried while the server cannot be reached; refused unless
    its bytes have the entry's digest and size."""
    attempt = 0
    while True:
        try:
            digest, size = _stream_to(transport.client, path, target)
            break
        except httpx.TransportError as exc:  # includes a response cut short
            attempt += 1
            if attempt > transport.retries:
                raise Unavailable(f"cannot download {path} from {transport.uri}: {exc}",
                                  "check that the server runs, then load again") from exc
            time.sleep(min(2.0, 0.05 * 2**attempt))
    if (digest, size) != (entry.digest, entry.size):
        target.unlink(missing_ok=True)
        raise IntegrityError(
            f"{target.name} arrived with digest {digest} ({size} bytes), not the registered "
            f"{entry.digest} ({entry.size} bytes)",
            "load again; if it persists, the server's store is damaged",
        )


def _stream_to(client: httpx.Client, path: str, target: Path) -> tuple[str, int]:
    digest, size = hasher(), 0
    with client.stream("GET", path) as response:
        if response.status_code >= 400:
            response.read()
            raise error_of(response)
        with open(target, "wb") as out:
            for chunk in response.iter_bytes(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    return format_digest(digest.hexdigest()), size


class ServerTrust:
    """The keys a remote client trusts: its own ``trusted_keys``, then the server's."""

    def __init__(self, transport: Transport, trusted_keys: str) -> None:
        self.transport = transport
        self.trusted_keys = trusted_keys

    def verify(self, manifest_digest: str, signed: PackageSignature) -> None:
        keys: dict[str, Ed25519PublicKey] = signing.trusted_keys(self.trusted_keys)
        if signed.key_id not in keys:
            keys = {**self.server_keys(), **keys}
        where = self.trusted_keys.split(os.pathsep)[0]
        signing.verify_with(
            keys, manifest_digest, signed,
            f"neither the server at {self.transport.uri} nor {where} trusts key "
            f"{signed.key_id}: add its public key ({signed.key_id}.pub) to {where}, or "
            "re-register the version so the server's key signs it")

    def server_keys(self) -> dict[str, Ed25519PublicKey]:
        """The public keys the server publishes, each checked to have the id it claims."""
        found = {}
        for key in self.transport.call("GET", f"{PREFIX}/signing-keys")["signing_keys"]:
            public = signing.load_public_pem(key.get("public_key") or "")
            if signing.key_id_of(public) != key["key_id"]:
                raise IntegrityError(f"the server's key {key['key_id']} is not the key it "
                                     "sends", "ask the server's operator")
            found[key["key_id"]] = public
        return found


def missing_folder(text: str) -> NotFound:
    """What registering from a source that is neither a run nor a folder here raises (the
    embedded service's words)."""
    return NotFound(
        f"{text!r} is neither a run id, a runs:/ URI nor an existing folder",
        "pass the run id that logged the model, or the path of a model package folder",
    )
