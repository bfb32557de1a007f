"""Cache keys: a step's result is reused when nothing it depends on changed.

The key is a digest of the step's source code and that of the functions of its own module
it calls (directly or not), its constant inputs (the parameters), the digests of its
input values (a dataset version's: its manifest's), and its declared environment (the
Python version and the installed versions of the step's ``requirements``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
import types
from collections.abc import Callable
from importlib import metadata
from typing import Any

from gannet.data.types import DatasetVersion
from gannet.pipelines.materializers import StoredValue

_code_digests: dict[Any, str] = {}


def code_digest(fn: Callable[..., Any]) -> str:
    """The digest of ``fn``'s source and of the same-module functions it reaches."""
    found = _code_digests.get(fn)
    if found is None:
        h = hashlib.blake2b(digest_size=16)
        for source in _sources(fn):
            h.update(source.encode())
            h.update(b"\0")
        found = _code_digests[fn] = h.hexdigest()
    return found


def _sources(fn: Callable[..., Any]) -> list[str]:
    module = getattr(fn, "__module__", None)
    seen: dict[str, str] = {}
    todo = [fn]
    while todo:
        item = todo.pop()
        f = inspect.unwrap(getattr(item, "fn", item))
        key = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', repr(f))}"
        if key in seen:
            continue
        seen[key] = _source_of(f)
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        globals_ = getattr(f, "__globals__", {})
        for name in _names(code):
            value = globals_.get(name)
            target = getattr(value, "fn", value)  # a Step called by a step: its function
            if isinstance(target, types.FunctionType) and target.__module__ == module:
                todo.append(target)
    return [seen[k] for k in sorted(seen)]


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def _source_of(f: Any) -> str:
    try:
        return inspect.getsource(f)
    except (OSError, TypeError):  # no source file (an interactive definition): its bytecode
        code = getattr(f, "__code__", None)
        return code.co_code.hex() if code is not None else repr(f)


def environment_of(requirements: tuple[str, ...]) -> dict[str, str]:
    """The declared environment: Python's version and the requirements' installed versions."""
    found = {"python": platform.python_version()}
    for name in requirements:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def cache_key(
    code: str, constants: dict[str, Any], inputs: dict[str, Any], environment: dict[str, str]
) -> str:
    """The digest of everything a step's result depends on."""
    document = {
        "code": code,
        "parameters": constants,
        "inputs": digests_of(inputs),
        "environment": environment,
    }
    text = json.dumps(document, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def digests_of(value: Any) -> Any:
    """An input with every stored value replaced by its digest (a dataset version: its
    manifest's)."""
    if isinstance(value, StoredValue):
        return value.digest
    if isinstance(value, DatasetVersion):
        return value.manifest_digest
    if isinstance(value, list | tuple):
        return [digests_of(v) for v in value]
    if isinstance(value, dict):
        return {k: digests_of(v) for k, v in value.items()}
    return value
