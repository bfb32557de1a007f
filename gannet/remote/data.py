"""``RemoteData``: ``DataService``'s calls against a team server.

Files are hashed here and only the blobs the server lacks are sent (``data_files``); the
version is then committed by its file list. Reading a version's files (``open``,
``local_path``, ``checkout``, ``gannet data pull``) fills the same local cache an embedded
``open`` uses, verified file by file; ``diff`` of tables runs on the server, which holds
both versions. The server checks roles: readers read, editors write.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gannet.core import wire
from gannet.core.digests import digest_file
from gannet.core.errors import Conflict, IntegrityError, InvalidArgument, InvalidState
from gannet.core.settings import Settings
from gannet.data import checkout as placing
from gannet.data import scan
from gannet.data.files import VersionFiles
from gannet.data.refs import check_name, check_tag, parse_ref
from gannet.data.service import _write_parquet, table_columns
from gannet.data.types import (
    FILE,
    AddResult,
    CheckoutResult,
    Dataset,
    DatasetVersion,
    FeatureViewEntry,
    Usage,
    VersionDiff,
)
from gannet.remote import data_files
from gannet.remote.transport import Transport
from gannet.store.blobs import Manifest, ManifestEntry

if TYPE_CHECKING:
    from gannet.data.service import DataService

__all__ = ["RemoteData"]

PREFIX = "/api/v1"


class RemoteData(VersionFiles):
    def __init__(self, transport: Transport, settings: Settings) -> None:
        self.transport = transport
        self.settings = settings
        self.cache = settings.home / "cache" / "data"

    # -- adding ------------------------------------------------------------------------------

    def add(self, source: str | os.PathLike[str], name: str, *, message: str = "",
            tags: Sequence[str] = (), progress: scan.Progress | None = None,
            stat_cache: bool = True, described_as: str | None = None) -> AddResult:
        """As ``DataService.add``: the files hashed here, the ones the server lacks sent."""
        check_name(name)
        checked_tags = [check_tag(tag) for tag in tags]
        started, path = time.perf_counter(), os.fspath(source)
        found = scan.scan_known(path, self.cache / "stat-remote", use_cache=stat_cache)
        kind, files, cache, digests, todo = (found.kind, found.files, found.cache,
                                             found.digests, found.todo)
        digests.update(data_files.hash_files(todo, self._threads, progress))
        body = {
            "kind": kind, "message": message, "tags": checked_tags,
            "files": [{"path": f.relative, "digest": digests[f.relative], "size": f.size,
                       "mode": f.mode} for f in files],
            "columns": list(table_columns(f.path for f in files)),
            "source": described_as or os.path.abspath(path),
        }
        sources = data_files.sources_of(files, digests)
        done = self._commit(name, body, lambda: data_files.upload(self.transport, sources,
                                                                   self._threads))
        version = replace(DatasetVersion.from_dict(done["version"]), manifest=Manifest({
            f.relative: ManifestEntry(digests[f.relative], f.size, f.mode) for f in files}))
        if stat_cache:
            cache.save(files, digests, found.scanned_ns, version.manifest_digest)
        return AddResult(version, bool(done["created"]), len(files), len(todo),
                         sum(f.size for f in todo), time.perf_counter() - started)

    def _commit(self, name: str, body: dict[str, Any],
                send: Callable[[], object]) -> dict[str, Any]:
        """Send what the server lacks, then commit the file list (again, once, if a blob
        went between the calls: garbage collection)."""
        for attempt in (1, 2):
            send()
            try:
                done: dict[str, Any] = self.transport.call(
                    "POST", _dataset(name) + "/versions", json=body)
                return done
            except InvalidState:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def push(self, local: DataService, ref: str, *, name: str | None = None) -> AddResult:
        """Copy the version ``ref`` of this machine's own store (``local``) to the server,
        as a new version of ``name`` (default: the same name) with its message and tags;
        only the blobs the server lacks are sent. Unchanged: no new version."""
        started = time.perf_counter()
        version = local.resolve(ref)
        manifest = data_files.checked_manifest(version)
        target = check_name(name or version.name)
        body = {
            "kind": version.kind, "message": version.message, "tags": list(version.tags),
            "files": [{"path": p, "digest": e.digest, "size": e.size, "mode": e.mode}
                      for p, e in manifest.entries.items()],
            "columns": list(version.columns), "source": f"{version.ref} from {version.source}",
        }
        sent: list[int] = []
        done = self._commit(target, body, lambda: sent.append(data_files.upload_stored(
            self.transport, local.packs(), manifest, self._threads)))
        return AddResult(DatasetVersion.from_dict(done["version"]), bool(done["created"]),
                         len(manifest.entries), sum(sent), 0, time.perf_counter() - started)

    def add_table(self, table: Any, name: str, **options: Any) -> AddResult:
        """A pandas or polars DataFrame, or an Arrow table, as one Parquet file."""
        check_name(name)
        with tempfile.TemporaryDirectory(prefix="gannet-table-") as folder:
            target = Path(folder) / "data.parquet"
            kind = _write_parquet(table, target)
            return self.add(target, name, stat_cache=False, described_as=f"a {kind}", **options)

    # -- versions ----------------------------------------------------------------------------

    def resolve(self, ref: str) -> DatasetVersion:
        parsed = parse_ref(ref)
        selector = parsed.version if parsed.version is not None else parsed.tag
        found = self.transport.call("GET", data_files.version_path(parsed.name, selector))
        return DatasetVersion.from_dict(found["version"])

    def log(self, name: str, *, deleted: bool = False) -> list[DatasetVersion]:
        check_name(name)
        found = self.transport.call("GET", _dataset(name) + "/versions",
                                    params={"deleted": str(deleted).lower()})
        return [DatasetVersion.from_dict(v) for v in found["versions"]]

    def tag(self, ref: str, tag: str) -> DatasetVersion:
        check_tag(tag)
        parsed = parse_ref(ref)
        selector = parsed.version if parsed.version is not None else parsed.tag
        done = self.transport.call("PUT", f"{_dataset(parsed.name)}/tags/{quote(tag, safe='')}",
                                   json={"version": str(selector)})
        return DatasetVersion.from_dict(done["version"])

    def delete_tag(self, name: str, tag: str) -> None:
        check_name(name)
        self.transport.call("DELETE", f"{_dataset(name)}/tags/{quote(tag, safe='')}")

    def delete(self, ref: str) -> DatasetVersion:
        if "@" not in ref:
            raise InvalidArgument(f"{ref!r} names a whole dataset, not a version",
                                  f"delete one version at a time: {ref}@3 or {ref}@latest")
        parsed = parse_ref(ref)
        selector = parsed.version if parsed.version is not None else parsed.tag
        done = self.transport.call("DELETE", data_files.version_path(parsed.name, selector))
        return DatasetVersion.from_dict(done["version"])

    # -- the catalogue and lineage -------------------------------------------------------------

    def get_dataset(self, name: str) -> Dataset:
        check_name(name)
        return Dataset.from_dict(self.transport.call("GET", _dataset(name))["dataset"])

    def list_datasets(self) -> list[Dataset]:
        found = self.transport.call("GET", f"{PREFIX}/datasets")
        return [Dataset.from_dict(d) for d in found["datasets"]]

    def describe(self, name: str, *, description: str | None = None, owner: str | None = None,
                 keywords: list[str] | None = None,
                 columns: dict[str, str] | None = None) -> Dataset:
        body = {"description": description, "owner": owner, "keywords": keywords,
                "columns": columns}
        return Dataset.from_dict(self.transport.call("PATCH", _dataset(name), json=body)[
            "dataset"])

    def search(self, text: str | None = None, *, owner: str | None = None,
               tag: str | None = None, column: str | None = None) -> list[Dataset]:
        params = {k: v for k, v in (("text", text), ("owner", owner), ("tag", tag),
                                    ("column", column)) if v is not None}
        found = self.transport.call("GET", f"{PREFIX}/datasets", params=params)
        return [Dataset.from_dict(d) for d in found["datasets"]]

    def catalogue(self, text: str | None = None) -> tuple[list[Dataset], list[FeatureViewEntry]]:
        params = {"text": text} if text is not None else {}
        found = self.transport.call("GET", f"{PREFIX}/catalogue", params=params)
        return ([Dataset.from_dict(d) for d in found["datasets"]],
                [FeatureViewEntry(**v) for v in found["feature_views"]])

    def feature_views(self, text: str | None = None) -> list[FeatureViewEntry]:
        return self.catalogue(text)[1]

    def log_input(self, run_id: str, ref: str, context: str = "") -> DatasetVersion:
        done = self.transport.call("POST", f"{PREFIX}/dataset-inputs",
                                   json={"run_id": run_id, "ref": ref, "context": context})
        return DatasetVersion.from_dict(done["version"])

    def usage(self, ref: str) -> Usage:
        found = self.transport.call("GET", f"{PREFIX}/dataset-lineage", params={"ref": ref})
        return wire.load(Usage, found["usage"])

    def diff(self, old: str, new: str, *, key: list[str] | None = None) -> VersionDiff:
        params: dict[str, Any] = {"old": old, "new": new}
        if key:
            params["key"] = key
        found = self.transport.call("GET", f"{PREFIX}/dataset-diff", params=params)
        return wire.load(VersionDiff, found["diff"])

    # -- files -------------------------------------------------------------------------------

    def local_path(self, ref: str) -> Path:
        """The version in the local cache (downloaded once, verified, read-only)."""
        return self._pulled(self.resolve(ref))

    def _pulled(self, version: DatasetVersion) -> Path:
        hex_digest = version.manifest_digest.split(":", 1)[1]
        root = self.cache / "versions" / hex_digest
        done = root.with_name(hex_digest + ".complete")
        if not done.exists():
            if not root.is_dir():
                data_files.download_version(self.transport, version, root, self._threads)
            done.touch()
        if version.kind == FILE:
            return root / next(iter(data_files.checked_manifest(version).entries))
        return root

    def checkout(self, ref: str, dest: str | os.PathLike[str], *,
                 force: bool = False) -> CheckoutResult:
        """As embedded: the files put in ``dest`` from the verified local cache."""
        version = self.resolve(ref)
        manifest = data_files.checked_manifest(version)
        cached = self._pulled(version)
        source_root = cached.parent if version.kind == FILE else cached
        root = os.path.abspath(os.fspath(dest))
        if version.kind == FILE:
            (name, entry), = manifest.entries.items()
            target = os.path.join(root, name) if os.path.isdir(root) else root
            if os.path.lexists(target) and not force and not placing._already(target, entry):
                raise Conflict(f"{target} exists and is not {version.ref}'s file",
                               "pass --force to replace it, or choose another destination")
            tally = _copy(source_root, Manifest({name: entry}), {name: target})
            return CheckoutResult(version, target, *tally)
        self._claim(root, version, force)
        targets = {p: os.path.join(root, *p.split("/")) for p in manifest.entries}
        tally = _copy(source_root, manifest, targets)
        os.unlink(os.path.join(root, placing.MARKER))
        return CheckoutResult(version, root, *tally)


def _copy(source_root: Path, manifest: Manifest,
          targets: dict[str, str]) -> tuple[int, int, int, int]:
    """(written, reflinked, present, bytes written): each file copied from the cache to a
    temporary name, checked against its digest, then renamed into place."""
    written = present = nbytes = 0
    for relative, entry in manifest.entries.items():
        target = targets[relative]
        if placing._already(target, entry):
            present += 1
            continue
        _copy_one(source_root.joinpath(*relative.split("/")), target, entry)
        written += 1
        nbytes += entry.size
    return written, 0, present, nbytes


def _copy_one(source: Path, target: str, entry: ManifestEntry) -> None:
    import shutil
    import uuid

    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = os.path.join(os.path.dirname(target),
                       f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        shutil.copyfile(source, tmp)
        if digest_file(tmp) != (entry.digest, entry.size):
            raise IntegrityError(f"the cached copy of {source.name} does not match "
                                 f"{entry.digest}; nothing was written to {target}",
                                 f"delete {source.parent} (the local cache) and try again")
        os.chmod(tmp, entry.mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _dataset(name: str) -> str:
    return f"{PREFIX}/datasets/{quote(name, safe='')}"
