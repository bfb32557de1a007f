"""Secrets and how they travel: argon2 password hashes, API token secrets, and the
``Authorization`` header that carries either.

A password is hashed with argon2id (``argon2-cffi``: slow on purpose, salted, its
parameters stored in the hash, so they can be raised later and old hashes still verify).
A token's secret is 32 random bytes: guessing it is hopeless whatever the hash, so it is
stored as its SHA-256, which a request checks with one indexed lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gannet.core.errors import InvalidArgument, Unauthenticated

TOKEN_PREFIX = "gnt_"  # tells a token from a password in HTTP basic's password field
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class Credentials:
    """What a request presented: a token (``user`` given only by HTTP basic), or a user's
    password."""

    secret: str
    user: str | None = None
    is_token: bool = True


def new_token_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@lru_cache(maxsize=1)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidArgument(
            f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters",
            "choose a longer one (a passphrase is best), or use tokens only",
        )
    return password


def hash_password(password: str) -> str:
    return str(_hasher().hash(check_password(password)))


@lru_cache(maxsize=1)
def _decoy() -> str:
    """A hash to verify against when there is no user, so that the answer takes as long
    as for a wrong password (the time would otherwise tell which names exist)."""
    return str(_hasher().hash(secrets.token_hex(16)))


def verify_password(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored or _decoy(), password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def parse_authorization(header: str | None) -> Credentials:
    """The credentials in an ``Authorization`` header: ``Bearer <token>``, or ``Basic``
    with ``user:password`` or ``user:<token>`` (MLflow's client sends either)."""
    if header is None or not header.strip():
        raise Unauthenticated(
            "this server needs credentials, and the request sent none",
            "send an API token: Authorization: Bearer <token> (GANNET_TOKEN for Gannet's "
            "SDK and CLI, MLFLOW_TRACKING_TOKEN for MLflow's client)",
        )
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return Credentials(value)
    if scheme.lower() == "basic" and value:
        try:
            user, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep, user, secret = "", "", ""
        if sep and user and secret:
            return Credentials(secret, user, secret.startswith(TOKEN_PREFIX))
    raise Unauthenticated(
        f"the Authorization header is not understood (scheme {scheme[:20]!r})",
        "send 'Bearer <token>', or 'Basic' with base64 of user:password or user:token",
    )
