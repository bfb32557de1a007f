"""A version's files: ``checkout`` into a folder, ``local_path`` (a verified cache),
``open`` as a path, DataFrame or Arrow dataset, and ``diff`` of two versions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gannet.core.errors import Conflict, InvalidArgument
from gannet.data import checkout
from gannet.data.table_repository import diff_tables, is_table
from gannet.data.types import FILE, CheckoutResult, DatasetVersion, FileChange, VersionDiff
from gannet.store.blobs import Manifest

if TYPE_CHECKING:
    from gannet.core.settings import Settings
    from gannet.data.packs import PackIndex
    from gannet.store.blobs import BlobStore

OPEN_AS = ("path", "pandas", "polars", "arrow")


class VersionFiles:
    blobs: BlobStore
    settings: Settings
    cache: Path

    def resolve(self, ref: str) -> DatasetVersion:
        raise NotImplementedError

    def packs(self) -> PackIndex:
        raise NotImplementedError

    def checkout(self, ref: str, dest: str | os.PathLike[str], *,
                 force: bool = False) -> CheckoutResult:
        """Put the version's files in ``dest`` (a folder; for a one-file version, a file
        path or a folder to put it in), verified. A non-empty ``dest`` is refused unless
        ``force`` (or it is this version's interrupted checkout, which is completed)."""
        version = self.resolve(ref)
        manifest = _manifest(version)
        root = os.path.abspath(os.fspath(dest))
        if version.kind == FILE:
            (name, entry), = manifest.entries.items()
            target = os.path.join(root, name) if os.path.isdir(root) else root
            if os.path.lexists(target) and not force and not checkout._already(target, entry):
                raise Conflict(f"{target} exists and is not {version.ref}'s file",
                               "pass --force to replace it, or choose another destination")
            folder, manifest = os.path.dirname(target), Manifest({os.path.basename(target):
                                                                  entry})
            tally = checkout.materialise(self.packs(), manifest, folder, self._threads)
            return _result(version, target, tally)
        self._claim(root, version, force)
        tally = checkout.materialise(self.packs(), manifest, root, self._threads)
        os.unlink(os.path.join(root, checkout.MARKER))
        return _result(version, root, tally)

    def _claim(self, root: str, version: DatasetVersion, force: bool) -> None:
        if os.path.lexists(root) and not os.path.isdir(root):
            raise Conflict(f"{root} is a file, and {version.ref} is a folder",
                           "choose a folder (new or empty) as the destination")
        marker = os.path.join(root, checkout.MARKER)
        ours = os.path.isfile(marker) and Path(marker).read_text() == version.manifest_digest
        if os.path.isdir(root) and os.listdir(root) and not ours and not force:
            raise Conflict(
                f"{root} is not empty; nothing was written",
                "choose an empty or new folder, or pass --force to write the version's "
                "files into it (files of the same names are replaced, others are kept)",
            )
        os.makedirs(root, exist_ok=True)
        Path(marker).write_text(version.manifest_digest)

    def local_path(self, ref: str) -> Path:
        """A verified local copy of the version (its folder, or its one file) in the cache
        under the home, made once (reflinked where the filesystem can) and read-only: every
        ``open`` of the version shares it."""
        version = self.resolve(ref)
        hex_digest = version.manifest_digest.split(":", 1)[1]
        root = self.cache / "versions" / hex_digest
        done = root.with_name(hex_digest + ".complete")
        if not done.exists():
            checkout.materialise(self.packs(), _manifest(version), str(root), self._threads)
            for relative, entry in _manifest(version).entries.items():  # shared: read-only
                os.chmod(root.joinpath(*relative.split("/")), entry.mode & ~0o222)
            done.touch()
        if version.kind == FILE:
            return root / next(iter(_manifest(version).entries))
        return root

    def open(self, ref: str, as_: str = "path") -> Any:
        """The version as a ``path``, a ``pandas`` or ``polars`` DataFrame, or an ``arrow``
        dataset (over its Parquet, CSV or Arrow files, read lazily)."""
        if as_ not in OPEN_AS:
            raise InvalidArgument(f"cannot open a dataset as {as_!r}",
                                  f"choose one of: {', '.join(OPEN_AS)}")
        path = self.local_path(ref)
        if as_ == "path":
            return path
        dataset = _arrow_dataset(path, ref)
        if as_ == "arrow":
            return dataset
        table = dataset.to_table()
        if as_ == "pandas":
            return table.to_pandas()
        import polars

        return polars.from_arrow(table)

    def diff(self, old: str, new: str, *, key: list[str] | None = None) -> VersionDiff:
        """Files added, removed and changed from ``old`` to ``new``; the table files that
        changed (or the two tables of one-file versions) compared by schema and rows."""
        a, b = self.resolve(old), self.resolve(new)
        before, after = _manifest(a).entries, _manifest(b).entries
        added = [FileChange(p, None, e.size) for p, e in after.items() if p not in before]
        removed = [FileChange(p, e.size, None) for p, e in before.items() if p not in after]
        changed = [FileChange(p, e.size, after[p].size) for p, e in before.items()
                   if p in after and after[p].digest != e.digest]
        pairs = [(c.path, c.path) for c in changed if is_table(c.path)]
        if a.kind == b.kind == FILE and not changed and a.manifest_digest != b.manifest_digest:
            pairs = [(next(iter(before)), next(iter(after)))]
        tables = []
        if pairs:
            root_a, root_b = self._root(a.ref), self._root(b.ref)
            for path_a, path_b in pairs:
                if is_table(path_a) and is_table(path_b):
                    tables.append(diff_tables(str(root_a / path_a), str(root_b / path_b),
                                              key, path_b))
        elif key:
            raise InvalidArgument(f"no table file changed from {a.ref} to {b.ref}",
                                  "--key compares tables (Parquet, CSV, Arrow) that changed")
        return VersionDiff(a.ref, b.ref, added, removed, changed, tables)

    def _root(self, ref: str) -> Path:
        path = self.local_path(ref)
        return path if path.is_dir() else path.parent

    @property
    def _threads(self) -> int:
        return self.settings.transfer_threads


def _manifest(version: DatasetVersion) -> Manifest:
    assert version.manifest is not None, "resolve() reads the manifest"
    return version.manifest


def _result(version: DatasetVersion, dest: str, tally: checkout.Tally) -> CheckoutResult:
    return CheckoutResult(version, dest, tally.written, tally.reflinked, tally.present,
                          tally.bytes_written)


def _arrow_dataset(path: Path, ref: str) -> Any:
    import pyarrow.dataset as ds

    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    formats = {fmt for p in files if (fmt := _format(p))}
    if len(formats) != 1:
        raise InvalidArgument(
            f"{ref} has {'no' if not formats else 'mixed'} table files "
            f"({', '.join(sorted(formats)) or 'none'})",
            "open it as a path (as_='path'), or version tables of one format",
        )
    fmt = formats.pop()
    return ds.dataset([str(p) for p in files if _format(p) == fmt], format=fmt)


def _format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".arrow": "ipc",
            ".feather": "ipc", ".ipc": "ipc"}.get(suffix)
