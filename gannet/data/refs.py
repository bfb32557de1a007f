"""Dataset names and references: ``churn``, ``churn@3``, ``churn@latest``, ``churn@prod``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gannet.core.errors import InvalidArgument

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]{0,99}$")
LATEST = "latest"


@dataclass(frozen=True, slots=True)
class DataRef:
    """A parsed reference: ``version`` (a number) or ``tag`` (``latest`` or a tag name)."""

    name: str
    version: int | None = None
    tag: str = LATEST


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"{name!r} is not a dataset name",
            "a dataset name is 1 to 200 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no '/', '\\' or '@'), e.g. churn or churn-2024",
        )
    return name


def check_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG.match(tag) or tag == LATEST:
        raise InvalidArgument(
            f"{tag!r} is not a version tag",
            "a tag starts with a letter or '_', then letters, digits, '.', '_' or '-' (up "
            "to 100), and is not 'latest' (which always names the newest version)",
        )
    return tag


def parse_ref(ref: str) -> DataRef:
    """``NAME``, ``NAME@N``, ``NAME@latest`` or ``NAME@TAG``."""
    if not isinstance(ref, str):
        raise InvalidArgument(f"{ref!r} is not a dataset reference", "e.g. churn@3")
    name, at, rest = ref.partition("@")
    check_name(name)
    if not at or rest == LATEST:
        return DataRef(name)
    if rest.isdigit():
        return DataRef(name, version=int(rest))
    if _TAG.match(rest):
        return DataRef(name, tag=rest)
    raise InvalidArgument(
        f"{ref!r} is not a dataset reference",
        "write NAME, NAME@3 (a version), NAME@latest or NAME@TAG",
    )
