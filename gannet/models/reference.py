"""Model references: how people name a model version (``churn/3``, ``churn@champion``,
``churn@latest``, also with MLflow's ``models:/`` prefix) and how names are checked.

The grammar lives with the package format, below the registry, so that
``gannet.models.load_model`` can tell a reference from a folder without asking the
registry (``locate``); the registry resolves them. A folder is never mistaken for a
reference, nor a reference for a folder: a string written as a reference that is also a
folder in the working directory is refused as ambiguous.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gannet.core.errors import InvalidArgument

__all__ = [
    "FILE_PREFIX", "ModelRef", "check_alias", "check_model_name", "is_reference", "locate",
    "parse_ref",
]

FILE_PREFIX = "file:"
MODELS_PREFIX = "models:/"


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: ``name/3``, ``name@alias``, ``name@latest`` (``models:/`` optional)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return (
            f"{self.name}/{self.version}"
            if self.version is not None
            else f"{self.name}@{self.alias}"
        )


_NAME = re.compile(r"^[A-Za-z0-9][\w\-.]{0,255}$")
ALIAS = re.compile(r"^[A-Za-z_][\w\-]{0,254}$")
_VERSION_LIKE = re.compile(r"^[vV]?\d+$")


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid model name {name!r}",
            "start with a letter or digit; use letters, digits, '_', '-', '.' (up to 256)",
        )
    return name


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not ALIAS.match(alias) or _VERSION_LIKE.match(alias):
        raise InvalidArgument(
            f"invalid alias {alias!r}",
            "use a name like 'champion' (letters, digits, '_', '-'; not a version like 'v3')",
        )
    if alias == "latest":
        raise InvalidArgument(
            "'latest' is reserved: it always means the newest version", "choose another alias"
        )
    return alias


def parse_ref(ref: str) -> ModelRef:
    """``churn/3``, ``churn@champion``, ``churn@latest``, also with MLflow's ``models:/``."""
    if not isinstance(ref, str):
        raise InvalidArgument(
            f"model reference must be a string, got {ref!r}", "e.g. 'churn@champion'"
        )
    text = ref.removeprefix(MODELS_PREFIX)
    if "@" in text:
        name, _, alias = text.partition("@")
        check_model_name(name)
        if alias != "latest":
            check_alias(alias)
        return ModelRef(name, alias=alias)
    name, sep, version = text.rpartition("/")
    if sep and version.isdigit() and int(version) > 0:
        return ModelRef(check_model_name(name), version=int(version))
    raise InvalidArgument(
        f"cannot read the model reference {ref!r}",
        "write name/<version> (churn/3), name@<alias> (churn@champion) or name@latest",
    )


_REFERENCE = re.compile(
    r"^(models:/)?[A-Za-z0-9][\w\-.]{0,255}(@[A-Za-z_][\w\-]{0,254}|/[1-9]\d*)$"
)


def is_reference(text: object) -> bool:
    """Whether ``text`` is written as a model reference (it may still name nothing)."""
    return isinstance(text, str) and bool(_REFERENCE.match(text))


def locate(ref: str | os.PathLike[str]) -> Path | str:
    """What ``ref`` names: a package folder (a ``Path``) or a registry reference (a ``str``).

    A ``Path`` (any path-like), ``file:<path>`` and a string not written as a reference
    (``./churn``, ``/models/churn``) name a folder; ``models:/...`` always names the
    registry; any other reference (``churn/3``, ``churn@champion``) names the registry
    too, unless a folder of that name exists in the working directory: that is ambiguous,
    and refused rather than guessed.
    """
    if not isinstance(ref, str):
        return Path(os.fspath(ref))
    if ref.startswith(FILE_PREFIX):
        return _file_path(ref)
    if not is_reference(ref):
        return Path(ref)
    if not ref.startswith(MODELS_PREFIX) and Path(ref).is_dir():
        raise InvalidArgument(
            f"{ref!r} is ambiguous: it is written as a model reference, and {os.getcwd()} "
            "has a folder of that name",
            hint=f"write ./{ref} or {FILE_PREFIX}{ref} for the folder, or {MODELS_PREFIX}{ref} "
            "for the registry",
        )
    return ref


def _file_path(ref: str) -> Path:
    """The path of ``file:<path>`` (also ``file:///abs``); a URL naming a host is refused."""
    text = ref.removeprefix(FILE_PREFIX)
    if text.startswith("//"):
        if not text.startswith("///"):
            raise InvalidArgument(f"{ref!r} names a host; only local folders can be loaded",
                                  hint="write file:/absolute/path or file:relative/path")
        text = text[2:]
    if not text:
        raise InvalidArgument(f"{ref!r} names no folder", hint="write file:./churn")
    return Path(text)
