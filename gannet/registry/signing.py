"""Signing model packages with ed25519, and verifying them against trusted public keys.

What is signed is the digest of the package's ``gannet-model.yaml``, which itself lists
the digest of every other file: change any byte of any file and either a file digest or
the signature stops matching. A key's id is the first 16 hex characters of the blake3
digest of its raw public key, so a signature names the key that made it.

Layout under ``<home>/keys``: ``signing.key`` (private, PEM, mode 0600) and
``trusted/<key id>.pub`` (public, PEM). Teams share one signing key on the machines that
register, and the public keys of every signer on the machines that load.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING

from gannet.core.digests import digest_bytes, hex_part
from gannet.core.errors import AlreadyExists, IntegrityError, InvalidArgument, NotFound
from gannet.registry.types import PackageSignature, SigningKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def key_id_of(public_key: object) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hex_part(digest_bytes(raw))[:16]


def create_key(private_path: Path, trusted_dir: Path, *, overwrite: bool = False) -> str:
    """Make a key pair: the private key at ``private_path``, its public key trusted."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if private_path.exists() and not overwrite:
        raise AlreadyExists(
            f"a signing key already exists at {private_path}",
            "keep it (models signed with it stay verifiable) or pass --overwrite",
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = private_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.replace(tmp, private_path)
    key_id = key_id_of(key.public_key())
    export_public_key(private_path, trusted_dir / f"{key_id}.pub")
    return key_id


def export_public_key(private_path: Path, dest: Path) -> str:
    from cryptography.hazmat.primitives import serialization

    key = _load_private(private_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key_id_of(key.public_key())


def sign(private_path: Path, manifest_digest: str) -> PackageSignature:
    key = _load_private(private_path)
    signature = key.sign(manifest_digest.encode())
    return PackageSignature(key_id_of(key.public_key()), base64.b64encode(signature).decode())


def verify(trusted: str, manifest_digest: str, signed: PackageSignature) -> None:
    """Raise unless a trusted public key with the signature's key id verifies it."""
    from cryptography.exceptions import InvalidSignature

    keys = trusted_keys(trusted)
    key = keys.get(signed.key_id)
    if key is None:
        raise IntegrityError(
            f"the package was signed with key {signed.key_id}, which is not a trusted key "
            f"(trusted: {', '.join(sorted(keys)) or 'none'})",
            f"add the signer's public key ({signed.key_id}.pub) to {trusted.split(os.pathsep)[0]}",
        )
    try:
        key.verify(base64.b64decode(signed.signature), manifest_digest.encode())
    except (InvalidSignature, ValueError) as exc:
        raise IntegrityError(
            "gannet-model.yaml changed since the package was signed (signature does not match)",
            "re-register the model from its run; do not edit a registered package",
        ) from exc


def trusted_keys(trusted: str) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, from folders of ``*.pub`` files and single files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    found: dict[str, Ed25519PublicKey] = {}
    for entry in filter(None, trusted.split(os.pathsep)):
        path = Path(entry).expanduser()
        files = sorted(path.glob("*.pub")) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            try:
                key = serialization.load_pem_public_key(file.read_bytes())
            except ValueError as exc:
                raise InvalidArgument(
                    f"{file} is not a PEM public key: {exc}", "remove it or replace it"
                ) from exc
            if isinstance(key, Ed25519PublicKey):
                found[key_id_of(key)] = key
    return found


def _load_private(path: Path):  # noqa: ANN202 - Ed25519PrivateKey, imported lazily
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.is_file():
        raise NotFound(f"no signing key at {path}", "create one with `gannet keys create`")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidArgument(
            f"{path} is not an ed25519 private key", "create one with `gannet keys create`"
        )
    return key


class KeyRing:
    """This home's signing key and the keys it trusts, where the settings put them.

    The constructor only remembers the paths; a home without a signing key gets one the
    first time it signs (its public key joins the first trusted folder).
    """

    def __init__(self, signing_key: str, trusted: str) -> None:
        self.signing_key = Path(signing_key).expanduser()
        self.trusted = trusted
        self.trusted_dir = Path(trusted.split(os.pathsep)[0]).expanduser()

    def create(self, *, overwrite: bool = False) -> str:
        """Make the signing key (and trust its public key); returns its key id."""
        return create_key(self.signing_key, self.trusted_dir, overwrite=overwrite)

    def sign(self, manifest_digest: str) -> PackageSignature:
        if not self.signing_key.exists():
            self.create()
        return sign(self.signing_key, manifest_digest)

    def verify(self, manifest_digest: str, signed: PackageSignature) -> None:
        verify(self.trusted, manifest_digest, signed)

    def public_keys(self) -> list[SigningKey]:
        """The trusted keys by id, marking the one this home signs with."""
        mine = key_id_of(_load_private(self.signing_key).public_key()) if (
            self.signing_key.is_file()) else None
        return [
            SigningKey(key_id, key_id == mine, self.signing_key if key_id == mine else None)
            for key_id in sorted(trusted_keys(self.trusted))
        ]
