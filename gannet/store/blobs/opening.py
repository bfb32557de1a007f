"""The bytes layer a store URL names: a local folder, or an fsspec filesystem.

A plain local path (or ``file:///...``) is opened without importing fsspec, which would
cost every command a few tens of milliseconds; anything else goes through fsspec.
"""

from __future__ import annotations

import os
from typing import Any

from gannet.core.errors import InvalidArgument, StoreError
from gannet.store.blobs.backend import Backend, translated
from gannet.store.blobs.local import LocalBackend
from gannet.store.blobs.remote import RemoteBackend


def open_backend(url: str, storage_options: dict[str, Any]) -> Backend:
    folder = _local_folder(url)
    if folder is not None and not storage_options:
        return _created(LocalBackend(url, None, folder))
    import fsspec.core
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
    except ImportError as exc:
        raise StoreError(
            f"cannot open the artifact store {url}: {exc}",
            "install the package for this kind of URL, e.g. pip install 'gannet-mlops[s3]'",
        ) from exc
    except ValueError as exc:
        raise InvalidArgument(
            f"the artifact store URL {url!r} is not understood: {exc}",
            "give a local folder or an fsspec URL such as s3://bucket/prefix",
        ) from exc
    if not isinstance(fs, LocalFileSystem):
        return RemoteBackend(url, fs, root)
    return _created(LocalBackend(url, fs, root))


def _created(backend: LocalBackend) -> LocalBackend:
    with translated(backend.location, "creating its folders", missing_is_failure=True):
        backend.create()
    return backend


def _local_folder(url: str) -> str | None:
    """The folder of a plain local store URL (a path, ``~/...`` or ``file:///...``), as
    fsspec would resolve it; None for anything else, which fsspec then resolves."""
    path = url.removeprefix("file://")
    if "://" in path or "::" in path or not path:
        return None
    return os.path.abspath(os.path.expanduser(path))
