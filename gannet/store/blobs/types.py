"""What the blob store hands out: references to blobs, and manifests of directories.

A manifest is one of the formats that outlive the code (ARCHITECTURE.md): its bytes are
stored as a blob and its digest is written into run, dataset and model records, so the
same directory must always serialise to the same bytes. ``to_bytes`` is therefore
canonical JSON, and ``from_bytes`` treats its input as untrusted: a manifest decides
where files land on restore, so a path that could escape the destination is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gannet.core.digests import is_digest
from gannet.core.errors import InvalidArgument

FORMAT = "gannet.manifest/1"
_DRIVE = re.compile(r"^[A-Za-z]:$")
_PATH_RULE = (
    "manifest paths are relative POSIX paths: no leading '/', no '..' or '.' parts, "
    "no empty parts, no backslashes"
)


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A stored blob: its ``blake3:<hex>`` digest and its size in bytes."""

    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of a directory: its content and its permission bits (e.g. ``0o644``)."""

    digest: str
    size: int
    mode: int


@dataclass(frozen=True)
class Manifest:
    """A directory: relative POSIX path -> entry, kept sorted by path."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, entry in self.entries.items():
            check_path(path)
            _check_entry(path, entry)
        _check_no_file_is_a_folder(self.entries)
        object.__setattr__(self, "entries", dict(sorted(self.entries.items())))

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.entries.values())

    def to_bytes(self) -> bytes:
        """Canonical JSON: the same directory always gives the same bytes, hence digest."""
        document = {
            "format": FORMAT,
            "entries": {
                path: {"digest": e.digest, "mode": e.mode, "size": e.size}
                for path, e in self.entries.items()
            },
        }
        try:  # the same bytes as the json module's, ten times sooner (tests/store pin it)
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # an integer beyond 64 bits, from an untrusted input
            text = json.dumps(document, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)
            return text.encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidArgument(
                f"these bytes are not a Gannet manifest: {exc}",
                "pass the digest of a manifest (put_tree returns it), not of a file",
            ) from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise InvalidArgument(
                f"these bytes are not a Gannet manifest (expected format {FORMAT!r})",
                "pass the digest of a manifest (put_tree returns it), not of a file",
            )
        raw = document.get("entries")
        if not isinstance(raw, dict):
            raise InvalidArgument("manifest has no 'entries' object", "the manifest is damaged")
        return cls({path: _entry_from_json(path, value) for path, value in raw.items()})


def check_path(path: str) -> None:
    """Refuse a manifest path that could land outside the folder it is restored into."""
    reason = _path_problem(path)
    if reason:
        raise InvalidArgument(f"manifest path {path!r} is not allowed: {reason}", _PATH_RULE)


def _path_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return "it is empty or not a string"
    if "\\" in path:
        return "it contains a backslash"
    if "\x00" in path:
        return "it contains a NUL character"
    if path.startswith("/"):
        return "it is absolute"
    parts = path.split("/")
    if _DRIVE.match(parts[0]):
        return "it starts with a drive letter"
    if "" in parts:
        return "it has an empty part"
    if ".." in parts:
        return "it has a '..' part"
    if "." in parts:
        return "it has a '.' part"
    return None


def _check_entry(path: str, entry: ManifestEntry) -> None:
    def bad(what: str) -> InvalidArgument:
        return InvalidArgument(
            f"manifest entry {path!r} has {what}",
            "digest 'blake3:<64 hex>', size an integer >= 0, mode within 0o777",
        )

    if not isinstance(entry, ManifestEntry):
        raise bad(f"the value {entry!r} instead of a ManifestEntry")
    if not isinstance(entry.digest, str) or not is_digest(entry.digest):
        raise bad(f"the malformed digest {entry.digest!r}")
    if not _is_int(entry.size) or entry.size < 0:
        raise bad(f"the invalid size {entry.size!r}")
    if not _is_int(entry.mode) or not 0 <= entry.mode <= 0o777:
        raise bad(f"the invalid mode {entry.mode!r}")


def _check_no_file_is_a_folder(entries: Mapping[str, ManifestEntry]) -> None:
    folders = {path.rsplit("/", i)[0] for path in entries for i in range(1, path.count("/") + 1)}
    clash = sorted(folders.intersection(entries))
    if clash:
        raise InvalidArgument(
            f"manifest path {clash[0]!r} is both a file and a folder",
            "a manifest describes one directory tree; remove one of the two entries",
        )


def _entry_from_json(path: str, value: Any) -> ManifestEntry:
    if not isinstance(value, dict) or set(value) != {"digest", "mode", "size"}:
        raise InvalidArgument(
            f"manifest entry {path!r} is malformed: {value!r}",
            "each entry has exactly the keys digest, mode and size",
        )
    return ManifestEntry(digest=value["digest"], size=value["size"], mode=value["mode"])


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object as the storage lists it: its name (a digest, or a temporary upload's
    path), its size and when it was last written (seconds since the epoch)."""

    name: str
    size: int
    modified: float
