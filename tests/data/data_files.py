"""Helpers of the data tests: trees of files, and files made to look old."""

import os


def make_tree(root, files: dict[str, bytes | str]):
    """Write ``files`` (relative path -> content) under ``root``; returns ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def age(root, seconds: float = 10.0) -> None:
    """Set every file's mtime ``seconds`` back (out of the stat cache's racy window)."""
    paths = [os.fspath(root)] if os.path.isfile(root) else []
    for here, _, names in os.walk(root):
        paths.extend(os.path.join(here, name) for name in names)
    for path in paths:
        info = os.stat(path)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))
