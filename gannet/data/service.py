"""``DataService``: versions of files and folders (add, resolve, log, tag, delete) and
their files (checkout, local_path, open, diff). The catalogue and lineage are in
``catalogue``, garbage collection's side in ``gc``."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.clock import now_ms
from gannet.core.digests import digest_bytes
from gannet.core.errors import InvalidArgument, NotFound
from gannet.core.settings import Settings
from gannet.data import repository, scan
from gannet.data.catalogue import Catalogue
from gannet.data.feature_catalogue import DeployedFeatures, FeatureViewCatalogue
from gannet.data.files import VersionFiles
from gannet.data.gc import DatasetReferences
from gannet.data.packs import PackIndex
from gannet.data.refs import LATEST, check_name, check_tag, parse_ref
from gannet.data.table_repository import columns_of, is_table
from gannet.data.transfer import VersionTransfers, may_read, may_write, set_tags
from gannet.data.types import FILE, AddResult, DatasetVersion
from gannet.data.unchanged import stat_cache_folder
from gannet.store.blobs import BlobStore, Manifest, ManifestEntry
from gannet.store.gc.leases import BlobLeases
from gannet.store.metadata import MetadataStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from gannet.features.service import FeatureStore
    from gannet.lineage.service import LineageService
    from gannet.registry.service import RegistryService
    from gannet.tracking.service import TrackingService

COLUMN_FILES = 20  # table files whose columns a version records (for search)


class DataService(VersionFiles, Catalogue, FeatureViewCatalogue, DatasetReferences,
                  VersionTransfers):
    def __init__(
        self,
        metadata: MetadataStore,
        blobs: BlobStore,
        settings: Settings,
        *,
        tracking: Callable[[], TrackingService],
        registry: Callable[[], RegistryService],
        lineage: LineageService,
        features: Callable[[], FeatureStore] | None = None,
        deployed_features: DeployedFeatures | None = None,
    ) -> None:
        self.metadata = metadata
        self.blobs = blobs
        self.settings = settings
        self._tracking = tracking  # made on first use: adding data needs neither
        self._registry = registry
        self.lineage = lineage
        self._features = features  # feature views in the catalogue
        self._deployed_features = deployed_features
        self.leases = BlobLeases(metadata)
        self.cache = settings.home / "cache" / "data"

    @property
    def tracking(self) -> TrackingService:
        return self._tracking()

    @property
    def registry(self) -> RegistryService:
        return self._registry()

    # -- adding ------------------------------------------------------------------------

    def add(
        self,
        source: str | os.PathLike[str],
        name: str,
        *,
        message: str = "",
        tags: tuple[str, ...] | list[str] = (),
        progress: scan.Progress | None = None,
        stat_cache: bool = True,
        described_as: str | None = None,
    ) -> AddResult:
        """A new version of ``name`` holding the file or folder ``source``; when its files
        are those of the latest version, no version is made (``created`` is False) and the
        tags are set on the latest one."""
        may_write(f"add versions of dataset {name!r}")
        check_name(name)
        tags = [check_tag(tag) for tag in tags]
        started, path = time.perf_counter(), os.fspath(source)
        found = scan.scan_known(path, stat_cache_folder(self.settings), use_cache=stat_cache)
        kind, files, cache, digests, todo = (found.kind, found.files, found.cache,
                                             found.digests, found.todo)
        unchanged = cache.manifest_of(files, digests)
        version = None if unchanged is None else self._latest_if_same(name, unchanged)
        manifest = None
        if version is None:  # something changed (or the stat cache cannot tell)
            with self.leases.hold():
                packs = self.packs()
                with self.blobs.batched() as blobs:  # durable all at once, at the end
                    stored = scan.store_files(blobs, todo, self.settings.transfer_threads,
                                              progress, found.hints, packs)
                packs.record()
                digests.update({relative: ref.digest for relative, ref in stored.items()})
                manifest = Manifest({
                    f.relative: ManifestEntry(digests[f.relative], f.size, f.mode)
                    for f in files
                })
                body = manifest.to_bytes()
                manifest_digest = digest_bytes(body)
                version = self._latest_if_same(name, manifest_digest)
                if version is None:
                    self._restore_missing([f for f in files if f.relative not in stored],
                                          digests, packs)
                    self.blobs.put_bytes(body)
                    version = self._insert(name, manifest, manifest_digest, kind, message,
                                           described_as or os.path.abspath(path),
                                           table_columns(f.path for f in files))
            if stat_cache:
                cache.save(files, digests, found.scanned_ns, manifest_digest)
        created = version.manifest is not None
        version = self._with_tags(version, tags)
        return AddResult(replace(version, manifest=manifest), created, len(files), len(todo),
                         sum(f.size for f in todo), time.perf_counter() - started)

    def add_table(self, table: Any, name: str, **options: Any) -> AddResult:
        """Add a pandas or polars DataFrame, or an Arrow table, as one Parquet file."""
        check_name(name)
        with tempfile.TemporaryDirectory(prefix="gannet-table-") as folder:
            target = Path(folder) / "data.parquet"
            kind = _write_parquet(table, target)
            return self.add(target, name, stat_cache=False, described_as=f"a {kind}", **options)

    def _with_tags(self, version: DatasetVersion, tags: list[str]) -> DatasetVersion:
        return set_tags(self.metadata, version, tags)

    def _latest_if_same(self, name: str, manifest_digest: str) -> DatasetVersion | None:
        with self.metadata.read() as conn:
            latest = repository.latest_version(conn, name)
        if latest is not None and latest.manifest_digest == manifest_digest:
            return latest
        return None

    def _restore_missing(self, known: list[scan.Found], digests: dict[str, str],
                         packs: PackIndex) -> None:
        """Files the stat cache knew, whose blobs are gone (collected): store them again."""
        missing = set(packs.missing([digests[f.relative] for f in known]))
        again = [f for f in known if digests[f.relative] in missing]
        if again:
            with self.blobs.batched() as blobs:
                scan.store_files(blobs, again, self.settings.transfer_threads, None,
                                 packs=packs)
            packs.record()

    def packs(self) -> PackIndex:
        """The versions' files as stored (own blobs, or parts of packs), for one task."""
        return PackIndex(self.metadata, self.blobs)

    def _insert(self, name: str, manifest: Manifest, manifest_digest: str, kind: str,
                message: str, source: str, columns: tuple[str, ...]) -> DatasetVersion:
        now = now_ms()

        def work(conn: Connection) -> DatasetVersion:
            repository.insert_dataset(conn, name, now)
            version = DatasetVersion(
                name=name, version=repository.next_version(conn, name),
                manifest_digest=manifest_digest, kind=kind,
                file_count=len(manifest.entries), size=manifest.total_size, message=message,
                columns=columns, source=source, creation_time=now, manifest=manifest,
            )
            repository.insert_version(conn, version)
            return version

        return self.metadata.transaction(work)

    # -- versions ----------------------------------------------------------------------

    def resolve(self, ref: str) -> DatasetVersion:
        """The live version ``ref`` names (``churn``, ``churn@3``, ``@latest``, ``@TAG``),
        with its manifest (read from the store, verified)."""
        version = self._find(ref)
        return replace(version, manifest=self.blobs.read_manifest(version.manifest_digest))

    def _find(self, ref: str) -> DatasetVersion:
        may_read()
        parsed = parse_ref(ref)
        with self.metadata.read() as conn:
            if repository.get_dataset(conn, parsed.name) is None:
                raise NotFound(f"no dataset named {parsed.name!r}",
                               "see the datasets with: gannet data list")
            if parsed.version is not None:
                found = repository.get_version(conn, parsed.name, parsed.version)
            elif parsed.tag == LATEST:
                found = repository.latest_version(conn, parsed.name)
            else:
                number = repository.tagged_version(conn, parsed.name, parsed.tag)
                found = None if number is None else repository.get_version(
                    conn, parsed.name, number)
            live = [v.version for v in repository.versions(conn, parsed.name)]
        if found is None or found.deleted:
            what = "was deleted" if found is not None else "does not exist"
            raise NotFound(
                f"dataset version {ref!r} {what}",
                f"{parsed.name} has versions {_numbers(live)}; see gannet data log "
                f"{parsed.name}" if live else f"{parsed.name} has no live version",
            )
        return found

    def log(self, name: str, *, deleted: bool = False) -> list[DatasetVersion]:
        """The versions of ``name``, newest first."""
        may_read()
        check_name(name)
        with self.metadata.read() as conn:
            if repository.get_dataset(conn, name) is None:
                raise NotFound(f"no dataset named {name!r}",
                               "see the datasets with: gannet data list")
            return repository.versions(conn, name, deleted=deleted)

    def tag(self, ref: str, tag: str) -> DatasetVersion:
        """Point ``NAME@tag`` at the version ``ref`` (moving it from where it was)."""
        may_write(f"tag versions of {ref!r}")
        check_tag(tag)
        version = self._find(ref)
        with self.metadata.write() as conn:
            repository.set_tag(conn, version.name, tag, version.version)
        return self._find(version.ref)

    def delete_tag(self, name: str, tag: str) -> None:
        may_write(f"remove tags of dataset {name!r}")
        check_name(name)
        with self.metadata.write() as conn:
            if not repository.delete_tag(conn, name, tag):
                raise NotFound(f"dataset {name!r} has no tag {tag!r}",
                               f"see its tags with: gannet data log {name}")

    def delete(self, ref: str) -> DatasetVersion:
        """Delete a version (its tags go with it); ``gannet gc`` may then free the blobs
        only it used, once the grace period has passed."""
        may_write(f"delete dataset version {ref!r}")
        if "@" not in ref:
            raise InvalidArgument(f"{ref!r} names a whole dataset, not a version",
                                  f"delete one version at a time: {ref}@3 or {ref}@latest")
        version = self._find(ref)
        with self.metadata.write() as conn:
            repository.mark_deleted(conn, version.name, version.version, now_ms())
        return version


def table_columns(paths: Iterable[str]) -> tuple[str, ...]:
    """The column names of the first ``COLUMN_FILES`` table files among ``paths`` (what a
    version records, for search by column)."""
    tables = sorted(p for p in paths if is_table(p))[:COLUMN_FILES]
    return tuple(dict.fromkeys(c for path in tables for c in columns_of(path)))


def _numbers(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in sorted(numbers)[-10:])
    return shown if len(numbers) <= 10 else f"... {shown}"


def _write_parquet(table: Any, target: Path) -> str:
    module = type(table).__module__.split(".")[0]
    if module == "pandas" and hasattr(table, "to_parquet"):
        table.to_parquet(target)
        return "pandas DataFrame"
    if module == "polars" and hasattr(table, "write_parquet"):
        table.write_parquet(target)
        return "polars DataFrame"
    if module == "pyarrow" and hasattr(table, "schema"):
        import pyarrow.parquet as pq

        pq.write_table(table, target)
        return "Arrow table"
    raise InvalidArgument(
        f"cannot add a {type(table).__name__} as a dataset",
        "pass a path, a pandas or polars DataFrame, or a pyarrow Table",
    )


__all__ = ["FILE", "DataService", "table_columns"]
