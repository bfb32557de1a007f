"""Registry's plain domain types: what the service returns and the faces show."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from gannet.auth.types import AuditEntry
from gannet.models.manifest import ModelMeta


class VersionStatus(StrEnum):
    READY = "READY"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"  # a tombstone: hidden everywhere, its number never reused
    PURGED = "PURGED"  # a tombstone whose package garbage collection may remove

    @classmethod
    def live(cls) -> tuple[VersionStatus, ...]:
        return (cls.READY, cls.ARCHIVED)


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)  # alias -> version
    latest_version: int | None = None
    policy: str | None = None
    project: str = "default"  # the project that owns it (team mode's permissions)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    status: VersionStatus
    description: str
    source: str
    run_id: str | None
    package_digest: str
    manifest_digest: str
    flavor: str
    signature: dict[str, Any] | None
    signing_key_id: str | None
    package_signature: str | None
    git_commit: str | None
    metrics: dict[str, float]
    card: dict[str, str]
    user_id: str
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class Approval:
    user_id: str
    roles: tuple[str, ...]
    comment: str
    time: int




@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Promotion:
    """What ``promote`` did: whether the alias moved, from where, and each gate's result."""

    name: str
    version: int
    alias: str
    promoted: bool
    previous_version: int | None
    results: list[GateResult]


@dataclass(frozen=True)
class VersionReport:
    """A responsible-AI report of a version: its explanation or its fairness results."""

    name: str
    version: int
    kind: str  # explanation | fairness
    report: dict[str, Any]  # the numbers (JSON)
    plots: dict[str, str]  # format (png, html) -> blob digest
    data_source: str  # the dataset reference or file it was computed on
    user_id: str
    creation_time: int


@dataclass(frozen=True)
class Evidence:
    """What the promotion gates look at."""

    candidate: ModelVersion
    current: ModelVersion | None  # the version the alias points at now
    run_tags: dict[str, str]  # tags of the candidate's run ({} without a run)
    approvals: list[Approval]
    reports: dict[str, VersionReport] = field(default_factory=dict)  # the candidate's, by kind


@dataclass(frozen=True)
class StoredPackage:
    """A model package in the blob store."""

    package_digest: str  # the blob of the file manifest (path -> digest of every file)
    manifest_digest: str  # gannet-model.yaml: what gets signed
    meta: ModelMeta


@dataclass(frozen=True)
class PackageSignature:
    key_id: str
    signature: str  # base64 of the 64-byte ed25519 signature


@dataclass(frozen=True)
class SigningKey:
    """A trusted public key, and whether this home signs with it. ``path`` is the private
    key's file (only where it is: a server publishes ``public_key``, never a path)."""

    key_id: str
    is_signing_key: bool
    path: Path | None = None
    public_key: str | None = None  # PEM


@dataclass(frozen=True)
class CardInputs:
    """Everything a model card shows."""

    model: RegisteredModel
    version: ModelVersion
    params: dict[str, str]
    validation: str | None
    promotions: list[AuditEntry]
    reports: dict[str, VersionReport] = field(default_factory=dict)  # by kind
    datasets: list[dict[str, Any]] = field(default_factory=list)  # what its run used
