"""Single sign-on's plain types: a login under way, and a login done."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gannet.auth.types import NewToken


@dataclass(frozen=True)
class LoginState:
    """A login between the redirect to the identity provider and its callback. Only the
    SHA-256 of the ``state`` is kept; the nonce and the PKCE verifier are secrets that
    leave the server only for the provider's token endpoint."""

    state_sha256: str
    nonce: str
    code_verifier: str
    redirect_uri: str  # the callback URL given to the provider (sent again with the code)
    client_redirect: str | None  # a CLI's loopback URL to hand the token to (None: a page)
    created: int
    expires: int


@dataclass(frozen=True)
class SsoLogin:
    """A login that succeeded: who (``user``), with which groups, what they may now do
    (``admin``, ``projects``: project -> role, hand-given ones included), and the API
    token made for them (its secret shown once)."""

    user: str
    token: NewToken
    groups: tuple[str, ...] = ()
    admin: bool = False
    projects: Mapping[str, str] = field(default_factory=dict)
    created_user: bool = False
