"""Model packages in the blob store: storing a version's files, and getting them back
verified, into a local content-addressed cache.

A version's package is a manifest blob (path -> digest of every file) plus the file
blobs themselves. The files usually already sit in the blob store (the run logged them),
so registering one only writes the small manifest. Loading copies the files into
``<home>/cache/models/<package hex>`` once (atomically), and on every load checks them
against the manifest that was signed, so what runs is exactly what was registered.
Unsigned loading (``allow_unsigned``) never extends to a package that runs code of its own
(a Python class, a plain pickle): that takes a verified signature or ``trust=True``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from gannet.core.digests import digest_file, hex_part
from gannet.core.errors import IntegrityError, InvalidArgument, NotFound, PermissionDenied
from gannet.models import flavors
from gannet.models.manifest import MANIFEST, ModelMeta
from gannet.models.package import (
    LoadedModel,
    allowed_flavor,
    load_package,
    read_meta,
    save_model,
    verify_files,
)
from gannet.registry.signing import Verifier
from gannet.registry.types import ModelVersion, PackageSignature, StoredPackage
from gannet.store.blobs import BlobStore, Manifest, ManifestEntry


class RunArtifacts(Protocol):
    """What ``log_to_run`` needs of tracking: the service, or its remote twin."""

    def log_artifacts(self, run_id: str, local_dir: Any, artifact_path: str | None = None
                      ) -> None: ...

    def log_batch(self, run_id: str, *, tags: Any = None) -> None: ...


def log_to_run(tracking: RunArtifacts, run_id: str, model: Any, name: str, *,
               signature: Any = None, input_example: Any = None,
               requirements: Sequence[str] | None = None) -> ModelMeta:
    """Save ``model`` as a package in a temporary folder, log it as the run's artifacts
    ``name`` and tag the run with its flavor (``gannet.model.<name>``): ``log_model``,
    embedded or through a team server (which then receives only the files it lacks)."""
    with tempfile.TemporaryDirectory(prefix="gannet-model-") as tmp:
        meta = save_model(
            model,
            Path(tmp) / "package",
            signature=signature,
            input_example=input_example,
            requirements=list(requirements) if requirements is not None else None,
            run_id=run_id,
        )
        tracking.log_artifacts(run_id, Path(tmp) / "package", name)
    tracking.log_batch(run_id, tags={f"gannet.model.{name}": meta.flavor})
    return meta


def store_folder(blobs: BlobStore, folder: Path) -> StoredPackage:
    """Store a package folder (checked against its own gannet-model.yaml first)."""
    if not (folder / MANIFEST).is_file():
        raise InvalidArgument(
            f"{folder} is not a model package (no {MANIFEST})",
            "save one with gannet.log_model(...) in a run, or gannet.models.save_model(...)",
        )
    meta = read_meta(folder)
    verify_files(folder, meta)
    ref, manifest = blobs.put_tree(folder)
    return StoredPackage(ref.digest, manifest.entries[MANIFEST].digest, meta)


def store_from_run_files(
    blobs: BlobStore, files: list[tuple[str, str, int]], prefix: str, where: str
) -> StoredPackage:
    """Make a package of files a run already logged under ``prefix`` (no bytes are copied)."""
    entries = {
        path[len(prefix) + 1 :]: ManifestEntry(digest=digest, size=size, mode=0o644)
        for path, digest, size in files
        if path.startswith(prefix + "/")
    }
    if MANIFEST not in entries:
        raise NotFound(
            f"{where} has no model at {prefix!r} (no {prefix}/{MANIFEST})",
            "log one in the run with gannet.log_model(model, name=...) and register that name",
        )
    meta = ModelMeta.from_yaml(blobs.get_bytes(entries[MANIFEST].digest).decode("utf-8"))
    listed = {path: digest for path, digest in meta.files.items()}
    logged = {path: e.digest for path, e in entries.items() if path != MANIFEST}
    if listed != logged:
        differing = sorted(set(listed.items()) ^ set(logged.items()))
        raise IntegrityError(
            f"the files of {where} under {prefix!r} do not match its {MANIFEST}: "
            + ", ".join(sorted({p for p, _ in differing})),
            "log the model again; never edit a logged model's files",
        )
    manifest = Manifest(entries)
    ref = blobs.put_bytes(manifest.to_bytes())
    return StoredPackage(ref.digest, entries[MANIFEST].digest, meta)


def materialize(blobs: BlobStore, package_digest: str, cache_root: Path) -> Path:
    """The package's files in the local cache (fetched once, atomically)."""
    dest = cache_root / hex_part(package_digest)
    if not dest.is_dir():
        cache_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache_root))
        try:
            blobs.get_tree(package_digest, tmp / "package")
            try:
                os.rename(tmp / "package", dest)
            except OSError:
                if not dest.is_dir():  # not "another process won the race"
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def check_cached(folder: Path, manifest_digest: str) -> ModelMeta:
    """The cached files are exactly the signed ones: the manifest's digest, then each file."""
    found, _ = digest_file(folder / MANIFEST)
    if found != manifest_digest:
        raise IntegrityError(
            f"{MANIFEST} in {folder} changed since the model was registered",
            f"delete {folder} so Gannet fetches the package again",
        )
    meta = read_meta(folder)
    verify_files(folder, meta)
    return meta


def load_verified(
    blobs: BlobStore,
    keys: Verifier,
    version: ModelVersion,
    cache_root: Path,
    *,
    allow_unsigned: bool,
    trust: bool = False,
) -> LoadedModel:
    """Load a registered version: its signature by a trusted key, then every cached file.

    With ``allow_unsigned``, a version whose signature cannot be verified still loads,
    but not one whose loading runs code of the package's own (a Python class, a plain
    pickle): nobody vouched for that code, so it runs only with ``trust=True`` too.
    """
    return load_checked(
        version,
        unverified(keys, version),
        lambda: materialize(blobs, version.package_digest, cache_root),
        allow_unsigned=allow_unsigned,
        trust=trust,
    )


def load_checked(
    version: ModelVersion,
    why_unverified: IntegrityError | None,
    fetch: Callable[[], Path],
    *,
    allow_unsigned: bool,
    trust: bool = False,
) -> LoadedModel:
    """The trust rules of loading, wherever the package comes from: refuse an unverified
    signature unless ``allow_unsigned``; ``fetch`` the package folder (a local cache);
    check every file against the signed manifest; run code of the package's own only
    when the signature verified or with ``trust``."""
    if why_unverified is not None and not allow_unsigned:
        raise why_unverified
    folder = fetch()
    meta = check_cached(folder, version.manifest_digest)
    code = flavors.code_run_by(allowed_flavor(meta, version.ref), meta)
    if why_unverified is not None and code is not None and not trust:
        raise PermissionDenied(
            f"{version.ref} runs code from its package when it loads ({code}), and its "
            f"signature cannot be verified ({why_unverified.message}); allow_unsigned never "
            "lets such a version load",
            hint=f"re-register {version.ref} from its run so a trusted key signs it, or add "
            "its signer's public key to the trusted keys (gannet keys list); pass "
            "trust=True only if you trust where it came from",
        )
    return load_package(folder, trust=trust or why_unverified is None, verify=False)


def unverified(keys: Verifier, version: ModelVersion) -> IntegrityError | None:
    """Why the version's signature does not verify against a trusted key, or None."""
    try:
        if not version.signing_key_id or not version.package_signature:
            raise IntegrityError(
                f"{version.ref} is not signed",
                "re-register it, or load with allow_unsigned=True",
            )
        keys.verify(
            version.manifest_digest,
            PackageSignature(version.signing_key_id, version.package_signature),
        )
    except IntegrityError as exc:
        return exc
    return None
