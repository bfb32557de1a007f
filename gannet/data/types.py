"""The data capability's plain types: datasets, versions, and what adding, checking out and
diffing report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gannet.store.blobs import Manifest, ManifestEntry

FILE = "file"  # a version of one file: its manifest has one entry, the file's name
FOLDER = "folder"


@dataclass(frozen=True)
class DatasetVersion:
    """Version ``version`` of dataset ``name``: a manifest (path -> digest, size, mode)."""

    name: str
    version: int
    manifest_digest: str
    kind: str  # FILE | FOLDER
    file_count: int
    size: int
    message: str
    columns: tuple[str, ...]  # column names of its table files (Parquet, CSV, Arrow)
    source: str  # the path it was added from
    creation_time: int
    deleted_time: int | None = None
    tags: tuple[str, ...] = ()
    manifest: Manifest | None = field(default=None, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def deleted(self) -> bool:
        return self.deleted_time is not None

    def to_dict(self, *, files: bool = False) -> dict[str, Any]:
        """The version as JSON (the REST API's and ``--json``'s), its files if asked."""
        out: dict[str, Any] = {
            "name": self.name, "version": self.version, "ref": self.ref, "kind": self.kind,
            "manifest_digest": self.manifest_digest, "file_count": self.file_count,
            "size": self.size, "message": self.message, "tags": list(self.tags),
            "columns": list(self.columns), "source": self.source,
            "creation_time": self.creation_time, "deleted_time": self.deleted_time}
        if files and self.manifest is not None:
            out["files"] = [{"path": p, "digest": e.digest, "size": e.size, "mode": e.mode}
                            for p, e in self.manifest.entries.items()]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetVersion:
        """What ``to_dict`` wrote (with ``files``: the manifest, checked as any is)."""
        files = data.get("files")
        manifest = None if files is None else Manifest({
            f["path"]: ManifestEntry(f["digest"], int(f["size"]), int(f["mode"]))
            for f in files})
        return cls(
            name=data["name"], version=int(data["version"]),
            manifest_digest=data["manifest_digest"], kind=data["kind"],
            file_count=int(data["file_count"]), size=int(data["size"]),
            message=data["message"], columns=tuple(data["columns"]), source=data["source"],
            creation_time=int(data["creation_time"]), deleted_time=data["deleted_time"],
            tags=tuple(data["tags"]), manifest=manifest)


@dataclass(frozen=True)
class Dataset:
    """A dataset's catalogue entry and its newest live version (None: all deleted)."""

    name: str
    description: str
    owner: str
    keywords: tuple[str, ...]
    column_descriptions: dict[str, str]
    creation_time: int
    last_update_time: int
    latest: DatasetVersion | None = None
    version_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "owner": self.owner,
                "keywords": list(self.keywords),
                "column_descriptions": self.column_descriptions,
                "creation_time": self.creation_time, "last_update_time": self.last_update_time,
                "version_count": self.version_count,
                "latest": self.latest.to_dict() if self.latest else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dataset:
        latest = data.get("latest")
        return cls(
            name=data["name"], description=data["description"], owner=data["owner"],
            keywords=tuple(data["keywords"]),
            column_descriptions=dict(data["column_descriptions"]),
            creation_time=int(data["creation_time"]),
            last_update_time=int(data["last_update_time"]),
            latest=DatasetVersion.from_dict(latest) if latest else None,
            version_count=int(data["version_count"]))


@dataclass(frozen=True)
class AddResult:
    """What ``add`` did: the version (new, or the unchanged latest one) and the work done."""

    version: DatasetVersion
    created: bool  # False: the data was unchanged, no version was made
    files: int
    hashed: int  # files read and hashed (the others were known to the stat cache)
    hashed_bytes: int
    seconds: float


@dataclass(frozen=True)
class CheckoutResult:
    version: DatasetVersion
    dest: str
    written: int  # files written (copied or reflinked, then verified)
    reflinked: int
    present: int  # files already there with the right bytes (a rerun's finished part)
    bytes_written: int


@dataclass(frozen=True)
class FileChange:
    path: str
    old_size: int | None  # None: added
    new_size: int | None  # None: removed


@dataclass(frozen=True)
class VersionDiff:
    """Files added, removed and changed from ``old`` to ``new``; tables compared too."""

    old: str
    new: str
    added: list[FileChange]
    removed: list[FileChange]
    changed: list[FileChange]
    tables: list[dict[str, Any]] = field(default_factory=list)  # one per compared table

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True)
class Usage:
    """Lineage of a dataset version, run or model version, both ways."""

    ref: str
    kind: str  # dataset_version | run | model_version
    datasets: list[dict[str, Any]]  # dataset versions it used (run, model version)
    runs: list[dict[str, Any]]  # runs that used it (dataset version) or its run
    model_versions: list[str]  # model versions trained on it, or made by the run
    # what a dataset version was made from (a training set: its feature views at their
    # versions and their source dataset versions): {"kind", "id", "context", "at"}
    derived_from: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FeatureViewEntry:
    """A feature view as the data catalogue shows it: what it is, who owns it, how fresh
    its online values are, and which model versions and deployments use it."""

    name: str
    version: int
    description: str
    owner: str
    tags: dict[str, str]
    entities: list[str]
    features: list[str]
    source: str
    updated_time: int  # when its newest version was registered (ms)
    staleness_s: float | None  # age of its newest online value (None: never materialized)
    model_versions: list[str]  # trained on a training set read from it, or deployed with it
    deployments: list[str]  # deployments that look its features up when serving
    training_sets: list[str]  # dataset versions saved from it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
