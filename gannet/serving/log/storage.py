"""Where the inference log's files live: a local folder or any fsspec URL (``s3://...``).

Every replica of a deployment writes its own files into one shared place, and a laptop
reads them from there. ``LogStorage`` is the log's whole view of that place, in paths
relative to its root (``deployment=churn/version=3/date=2026-11-30``):

- ``write_table`` makes a file appear whole or not at all: locally under a hidden
  temporary name, synced, then renamed; on an object store as one PUT (which S3 and its
  peers make visible atomically), so a reader never sees half a file;
- ``files`` and ``folders`` list what is there (never temporary files);
- ``local_copies`` gives local paths for reading with DuckDB: the files themselves when
  the log is local, else copies in a cache folder, fetched once (files never change once
  written, so a cached copy is never stale; copies of files gone from the store go too).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gannet.core.errors import InvalidArgument

__all__ = ["TEMP_SUFFIX", "LogStorage"]

TEMP_SUFFIX = ".tmp"


class LogStorage:
    """The log's files under ``url`` (a folder path or an fsspec URL)."""

    def __init__(self, url: str | os.PathLike[str], storage_options: dict[str, Any] | None = None
                 ) -> None:
        import fsspec

        text = os.fspath(url)
        if not text:
            raise InvalidArgument("the inference log has no location",
                                  hint="set inference_log_url (GANNET_INFERENCE_LOG_URL)")
        self.url = text
        self.local = "://" not in text or text.startswith("file://")
        if self.local:
            self.root = str(Path(text.removeprefix("file://")).expanduser().absolute())
            self.fs: Any = None
        else:
            self.fs, root = fsspec.core.url_to_fs(text, **(storage_options or {}))
            self.root = root.rstrip("/")

    def __repr__(self) -> str:
        return f"LogStorage({self.url!r})"

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    # -- writing -------------------------------------------------------------------------

    def write_table(self, folder: str, name: str, table: pa.Table, *,
                    compression: str | None = "zstd",
                    metadata: dict[bytes, bytes] | None = None) -> str:
        """``table`` as ``folder/name``, whole or not at all; returns the relative path."""
        if metadata:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
        relative = f"{folder}/{name}"
        if self.local:
            _write_local(Path(self.path(folder)), name, table, compression)
        else:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression=compression or "none")
            self.fs.pipe_file(self.path(relative), sink.getvalue().to_pybytes())
        return relative

    def write_bytes_once(self, relative: str, data: bytes) -> bytes:
        """Write ``data`` at ``relative`` unless a file is there; what is there after.

        Locally two writers agree on one (a hard link cannot replace a file); on an object
        store the last of two simultaneous first writers wins, and both read that back."""
        if self.local:
            path = Path(self.path(relative))
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                temp = path.with_name(f"{path.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(fd, "wb") as stream:
                        stream.write(data)
                        stream.flush()
                        os.fsync(stream.fileno())
                    try:
                        os.link(temp, path)
                    except FileExistsError:
                        pass  # another process made it first: use theirs
                finally:
                    temp.unlink(missing_ok=True)
            return path.read_bytes()
        target = self.path(relative)
        if not self.fs.exists(target):
            self.fs.pipe_file(target, data)
        return bytes(self.fs.cat_file(target))

    def delete(self, relatives: Iterable[str]) -> int:
        """Delete these files (gone already: fine); how many were asked."""
        paths = [self.path(r) for r in relatives]
        if not paths:
            return 0
        if self.local:
            for path in paths:
                Path(path).unlink(missing_ok=True)
        else:
            self.fs.rm(paths)
        return len(paths)

    # -- listing and reading -------------------------------------------------------------

    def exists(self, relative: str) -> bool:
        if self.local:
            return Path(self.path(relative)).exists()
        return bool(self.fs.exists(self.path(relative)))

    def folders(self, relative: str, prefix: str) -> list[str]:
        """Names of the sub-folders of ``relative`` that start with ``prefix``."""
        if self.local:
            base = Path(self.path(relative))
            if not base.is_dir():
                return []
            return sorted(p.name for p in base.iterdir()
                          if p.is_dir() and p.name.startswith(prefix))
        try:
            entries = self.fs.ls(self.path(relative), detail=True, refresh=True)
        except FileNotFoundError:
            return []
        names = (e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries
                 if e.get("type") == "directory")
        return sorted(n for n in names if n.startswith(prefix))

    def files(self, relative: str, suffix: str = ".parquet") -> list[str]:
        """Names of the finished files in folder ``relative`` ending in ``suffix``."""
        if self.local:
            base = Path(self.path(relative))
            if not base.is_dir():
                return []
            names = [e.name for e in os.scandir(base) if e.is_file()]
        else:
            try:
                entries = self.fs.ls(self.path(relative), detail=True, refresh=True)
            except FileNotFoundError:
                return []
            names = [e["name"].rsplit("/", 1)[-1] for e in entries if e.get("type") == "file"]
        return sorted(n for n in names if n.endswith(suffix) and not n.startswith("."))

    def read_table(self, relative: str) -> pa.Table:
        if self.local:
            return pq.read_table(self.path(relative))
        with self.fs.open(self.path(relative), "rb") as stream:
            return pq.read_table(stream)

    def read_metadata(self, relative: str) -> dict[bytes, bytes]:
        """The key-value metadata of a Parquet file (its footer only)."""
        if self.local:
            return pq.read_metadata(self.path(relative)).metadata or {}
        with self.fs.open(self.path(relative), "rb") as stream:
            return pq.read_metadata(stream).metadata or {}

    def local_copies(self, relatives: list[str], cache: Path | None) -> list[str]:
        """Local paths of these files, for DuckDB: cached copies when the log is remote."""
        if self.local:
            return [self.path(r) for r in relatives]
        if cache is None:
            raise InvalidArgument(f"reading the inference log at {self.url} needs a cache folder")
        paths = []
        for relative in relatives:
            local = cache / relative
            if not local.exists():
                local.parent.mkdir(parents=True, exist_ok=True)
                temp = local.with_name(f".{local.name}.{uuid.uuid4().hex}{TEMP_SUFFIX}")
                self.fs.get_file(self.path(relative), str(temp))
                os.replace(temp, local)
            paths.append(str(local))
        return paths


def _write_local(folder: Path, name: str, table: pa.Table, compression: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{name}{TEMP_SUFFIX}"
    try:
        with open(temp, "wb") as stream:
            pq.write_table(table, stream, compression=compression or "none")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, folder / name)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
