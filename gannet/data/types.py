"""The data capability's plain types: datasets, versions, and what adding, checking out and
diffing report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gannet.store.blobs import Manifest

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
