"""``gannet-model.yaml``: the manifest of a model package, a format that outlives the code.

It says which flavor wrote the package and how to load it, the signature, the Python and
library versions at save time, the pip requirements, and the blake3 digest of every other
file. The registry signs the manifest, so a verified manifest plus ``verify_files``
vouches for every byte a loader will read. Nothing here imports a flavor, so flavors and
the package module can both use ``ModelMeta`` without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from gannet.core.digests import is_digest
from gannet.core.errors import IntegrityError, InvalidArgument
from gannet.models.signature import Signature

__all__ = ["FORMAT_VERSION", "INPUT_EXAMPLE", "MANIFEST", "ModelMeta", "check_relative"]

MANIFEST = "gannet-model.yaml"
FORMAT_VERSION = 1
INPUT_EXAMPLE = "input_example.json"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster when there
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_REQUIRED = ("flavor", "loader", "python_version", "libraries", "requirements", "files")


@dataclass(frozen=True)
class ModelMeta:
    flavor: str
    loader: str  # the flavor's load entry, "module:function"
    signature: Signature | None
    python_version: str
    libraries: dict[str, str]  # distribution -> version at save time
    requirements: tuple[str, ...]  # pip requirement lines needed to load it
    files: dict[str, str]  # relative posix path -> "blake3:<hex>", every file but the manifest
    run_id: str | None = None
    serialization: str = ""  # "skops", "pickle", "lightgbm-text", "xgboost-ubj", "onnx", ...
    created: str = ""  # ISO-8601 UTC
    extra: dict = field(default_factory=dict)  # flavor specifics

    def to_yaml(self) -> str:
        doc = {
            "format": FORMAT_VERSION,
            "flavor": self.flavor,
            "loader": self.loader,
            "serialization": self.serialization,
            "created": self.created,
            "run_id": self.run_id,
            "python_version": self.python_version,
            "libraries": dict(sorted(self.libraries.items())),
            "requirements": list(self.requirements),
            "signature": self.signature.to_dict() if self.signature else None,
            "extra": self.extra,
            "files": dict(sorted(self.files.items())),
        }
        return yaml.dump(doc, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)

    @classmethod
    def from_yaml(cls, text: str) -> ModelMeta:
        try:
            doc = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise IntegrityError(f"{MANIFEST} is not valid YAML: {exc}") from exc
        if not isinstance(doc, dict):
            raise IntegrityError(f"{MANIFEST} is not a mapping")
        version = doc.get("format")
        if version != FORMAT_VERSION:
            raise InvalidArgument(
                f"{MANIFEST} has format version {version!r}; this Gannet reads version "
                f"{FORMAT_VERSION}",
                hint="upgrade gannet to load packages written by a newer version",
            )
        missing = [key for key in _REQUIRED if key not in doc]
        if missing:
            raise IntegrityError(f"{MANIFEST} lacks {', '.join(missing)}")
        files = doc["files"]
        if not isinstance(files, dict):
            raise IntegrityError(f"{MANIFEST}: 'files' must map paths to digests")
        for path, digest in files.items():
            check_relative(path)
            if not isinstance(digest, str) or not is_digest(digest):
                raise IntegrityError(f"{MANIFEST}: file {path!r} has no valid digest: {digest!r}")
        signature = doc.get("signature")
        return cls(
            flavor=str(doc["flavor"]),
            loader=str(doc["loader"]),
            signature=Signature.from_dict(signature) if signature else None,
            python_version=str(doc["python_version"]),
            libraries={str(k): str(v) for k, v in (doc["libraries"] or {}).items()},
            requirements=tuple(str(r) for r in doc["requirements"] or ()),
            files=dict(files),
            run_id=doc.get("run_id"),
            serialization=str(doc.get("serialization") or ""),
            created=str(doc.get("created") or ""),
            extra=dict(doc.get("extra") or {}),
        )


def check_relative(path: Any) -> None:
    """Refuse a manifest path that could reach outside the package (or is not portable)."""
    text = path if isinstance(path, str) else ""
    unsafe = (
        not text or "\\" in text or ":" in text or text.startswith("/") or text == MANIFEST
        or any(segment in ("", ".", "..") for segment in text.split("/"))
    )
    if unsafe:
        raise IntegrityError(
            f"{MANIFEST} lists an unsafe path {path!r}",
            hint="paths must be relative to the package, use '/' and never '..'",
        )
