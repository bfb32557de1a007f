"""Pipeline parameters: read from the pipeline function's signature, given as Python values
or as text (``--param lr=0.1``) converted by the declared type."""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gannet.core.errors import InvalidArgument

_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class Parameter:
    name: str
    annotation: Any = Any
    default: Any = _NO_DEFAULT

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    @property
    def type_name(self) -> str:
        a = self.annotation
        return a.__name__ if isinstance(a, type) else str(a).replace("typing.", "")

    @classmethod
    def of_function(cls, fn: Callable[..., Any]) -> list[Parameter]:
        try:
            hints = typing.get_type_hints(fn)
        except Exception:
            hints = {}
        return [
            cls(p.name, hints.get(p.name, Any), p.default)
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``["lr=0.1", "model=gbm"]`` as a dict; a pair without ``=`` is refused."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument(
                f"--param {pair!r} is not NAME=VALUE", "e.g. --param lr=0.1 --param model=gbm"
            )
        found[key.strip()] = value
    return found


def bind_parameters(
    pipeline: str, declared: Sequence[Parameter], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Every parameter's value: given (text converted to its type) or its default."""
    known = {p.name: p for p in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidArgument(
            f"pipeline {pipeline!r} has no parameter {', '.join(map(repr, unknown))}",
            f"its parameters are: {', '.join(known) or 'none'}",
        )
    values: dict[str, Any] = {}
    for p in declared:
        if p.name in given:
            values[p.name] = convert(pipeline, p, given[p.name])
        elif p.required:
            raise InvalidArgument(
                f"pipeline {pipeline!r} needs parameter {p.name!r} ({p.type_name})",
                f"give it, e.g. --param {p.name}=...",
            )
        else:
            values[p.name] = p.default
    return values


def convert(pipeline: str, p: Parameter, value: Any) -> Any:
    """``value`` as the parameter's declared type (text is parsed), or a clear error."""
    target = p.annotation
    try:
        return _as_type(value, target)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidArgument(
            f"parameter {p.name!r} of pipeline {pipeline!r} is {p.type_name}; "
            f"{value!r} is not one",
            f"e.g. --param {p.name}={_example(target)}",
        ) from None


def _as_type(value: Any, target: Any) -> Any:
    if target is Any or target is inspect.Parameter.empty:
        return value
    origin = typing.get_origin(target)
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(target)
        empty = value is None or (isinstance(value, str) and value.lower() in ("none", "null"))
        if empty and type(None) in members:
            return None
        for member in (m for m in members if m is not type(None)):
            try:
                return _as_type(value, member)
            except (ValueError, TypeError, json.JSONDecodeError):
                continue
        raise ValueError(value)
    if origin is typing.Literal:
        for choice in typing.get_args(target):
            if value == choice or str(value) == str(choice):
                return choice
        raise ValueError(value)
    if origin in (list, tuple, dict) or target in (list, tuple, dict):
        parsed = json.loads(value) if isinstance(value, str) else value
        kind = origin or target
        if not isinstance(parsed, list if kind is tuple else kind):
            raise TypeError(value)
        return tuple(parsed) if kind is tuple else parsed
    return _scalar(value, target)


def _scalar(value: Any, target: Any) -> Any:
    if target is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(value)
    if target is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise TypeError(value)
        return int(value)
    if target is float:
        if isinstance(value, bool):
            raise TypeError(value)
        return float(value)
    if target is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if target is Path:
        return Path(value)
    if isinstance(target, type) and isinstance(value, target):
        return value
    if isinstance(target, type) and isinstance(value, str):
        return target(value)  # enums and other types built from text
    raise TypeError(value)


def _example(target: Any) -> str:
    return {int: "3", float: "0.1", bool: "true", str: "text"}.get(target, "...")
