"""Signing model packages with ed25519, and verifying them against trusted public keys.

What is signed is the digest of the package's ``gannet-model.yaml``, which itself lists
the digest of every other file: change any byte of any file and either a file digest or
the signature stops matching. A key's id is the first 16 hex characters of the blake3
digest of its raw public key, so a signature names the key that made it.

Layout under ``<home>/keys`` (mode 0700): ``signing.key`` (private, PEM, mode 0600) and
``trusted/<key id>.pub`` (public, PEM, 0644, in a 0700 folder). Teams share one signing
key on the machines that register, and the public keys of every signer on the machines
that load.
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

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


def create_key(
    private_path: Path, trusted_dir: Path, *, overwrite: bool = False, exist_ok: bool = False
) -> str:
    """Make a key pair: the private key at ``private_path``, its public key trusted; returns
    the key id.

    Atomic, whatever runs at the same moment: the key is written whole into a temporary
    file of its own (mode 0600 whatever the umask) and only then linked into place, never
    over an existing key (unless ``overwrite``). Of several processes making a home's
    first key at once exactly one wins; with ``exist_ok`` the others keep the winner's key
    (and make sure it is trusted), else they get ``AlreadyExists``. Its public key is
    trusted before the private key appears, so whatever it signs can be verified.
    Folders it creates are 0700.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if private_path.exists() and not overwrite:
        return _existing_key(private_path, trusted_dir, exist_ok)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_id = key_id_of(key.public_key())
    private_folder(private_path.parent)
    public = _write_public(key, trusted_dir / f"{key_id}.pub")
    tmp = _write_new(private_path.parent, pem, 0o600)
    try:
        if overwrite:
            os.replace(tmp, private_path)
        elif not _link_new(tmp, private_path):  # another process made the key first
            public.unlink(missing_ok=True)
            return _existing_key(private_path, trusted_dir, exist_ok)
    finally:
        tmp.unlink(missing_ok=True)
    return key_id


def _existing_key(private_path: Path, trusted_dir: Path, exist_ok: bool) -> str:
    if not exist_ok:
        raise AlreadyExists(
            f"a signing key already exists at {private_path}",
            "keep it (models signed with it stay verifiable) or pass --overwrite",
        )
    key = _load_private(private_path)
    _write_public(key, trusted_dir / f"{key_id_of(key.public_key())}.pub")
    return key_id_of(key.public_key())


def _link_new(source: Path, dest: Path) -> bool:
    """Give ``source`` the name ``dest`` unless ``dest`` exists (False then), atomically."""
    try:
        os.link(source, dest)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: create exclusively, then fill
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(source.read_bytes())
    return True


def _write_new(folder: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new temporary file of ``folder`` with exactly ``mode`` (not the umask's)."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".gannet-key-", suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def private_folder(folder: Path) -> None:
    """Create ``folder`` for keys: 0700 (this user only) whatever the umask. Its missing
    parents are made as usual; an existing folder is left as it is."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        return  # made by another process at the same moment
    os.chmod(folder, 0o700)


def _write_public(key: Any, dest: Path) -> Path:
    """The public key of ``key`` at ``dest`` (0644, whatever the umask), replaced atomically;
    a folder it creates is 0700."""
    from cryptography.hazmat.primitives import serialization

    private_folder(dest.parent)
    data = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    os.replace(_write_new(dest.parent, data, 0o644), dest)
    return dest


def sign(private_path: Path, manifest_digest: str) -> PackageSignature:
    key = _load_private(private_path)
    signature = key.sign(manifest_digest.encode())
    return PackageSignature(key_id_of(key.public_key()), base64.b64encode(signature).decode())


def verify(trusted: str, manifest_digest: str, signed: PackageSignature) -> None:
    """Raise unless a trusted public key with the signature's key id verifies it."""
    where = f"{trusted.split(os.pathsep)[0]}"
    verify_with(trusted_keys(trusted), manifest_digest, signed,
                f"add the signer's public key ({signed.key_id}.pub) to {where}")


def verify_with(keys: Mapping[str, Ed25519PublicKey], manifest_digest: str,
                signed: PackageSignature, hint: str) -> None:
    """Raise unless the key of ``keys`` named by the signature verifies it; ``hint`` says
    how to trust the signer when no key has its id."""
    from cryptography.exceptions import InvalidSignature

    key = keys.get(signed.key_id)
    if key is None:
        raise IntegrityError(
            f"the package was signed with key {signed.key_id}, which is not a trusted key "
            f"(trusted: {', '.join(sorted(keys)) or 'none'})",
            hint,
        )
    try:
        key.verify(base64.b64decode(signed.signature), manifest_digest.encode())
    except (InvalidSignature, ValueError) as exc:
        raise IntegrityError(
            "gannet-model.yaml changed since the package was signed (signature does not match)",
            "re-register the model from its run; do not edit a registered package",
        ) from exc


def public_pem(key: Ed25519PublicKey) -> str:
    """The PEM text of a public key (what a server publishes, what a bundle ships)."""
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(pem: str) -> Ed25519PublicKey:
    """A public key from PEM text; anything but an ed25519 public key is refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise IntegrityError(f"not a PEM public key: {exc}", "check the key's source") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise IntegrityError("not an ed25519 public key", "check the key's source")
    return key


class Verifier(Protocol):
    """What checks a package's signature: ``KeyRing`` here, a remote client's keys there."""

    def verify(self, manifest_digest: str, signed: PackageSignature) -> None:
        """Raise ``IntegrityError`` unless a trusted key made ``signed``."""
        ...


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
        """Sign with this home's key, made first when there is none (one key, however many
        processes sign their first package at once)."""
        if not self.signing_key.exists():
            create_key(self.signing_key, self.trusted_dir, exist_ok=True)
        return sign(self.signing_key, manifest_digest)

    def verify(self, manifest_digest: str, signed: PackageSignature) -> None:
        verify(self.trusted, manifest_digest, signed)

    def public_keys(self) -> list[SigningKey]:
        """The trusted keys by id, marking the one this home signs with."""
        mine = key_id_of(_load_private(self.signing_key).public_key()) if (
            self.signing_key.is_file()) else None
        trusted = trusted_keys(self.trusted)
        return [
            SigningKey(key_id, key_id == mine, self.signing_key if key_id == mine else None,
                       public_pem(trusted[key_id]))
            for key_id in sorted(trusted)
        ]
