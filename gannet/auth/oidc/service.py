"""``OidcService``: single sign-on with OpenID Connect (authorization code + PKCE).

1. ``begin_login`` makes a ``state``, a ``nonce`` and a PKCE verifier, keeps them in the
   store for ten minutes (a callback may reach another replica: replicas share nothing
   but the store), and answers the provider's authorization URL to send the browser to.
2. ``take_login`` finds the login of a callback's ``state`` and deletes it: a state is
   good once.
3. ``finish_login`` exchanges the code (with the verifier) at the provider's token
   endpoint, verifies the ID token (``IdentityProvider``), reads the user name and the
   groups, and then, in one transaction: creates the user (without a password) or
   checks they are not disabled, replaces their SSO-managed memberships and
   administrator role by what ``oidc_group_roles`` gives their groups (memberships given
   by hand stay), makes an API token valid for ``oidc_token_ttl``, and writes the login
   to the audit log. A login that fails stores nothing (but uses up its state).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import math
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from gannet.auth import team_repository
from gannet.auth.base import check_name
from gannet.auth.credentials import new_token_secret, token_digest
from gannet.auth.oidc import repository
from gannet.auth.oidc.groups import Grant, GroupRoles, parse_group_roles
from gannet.auth.oidc.provider import IdentityProvider
from gannet.auth.oidc.types import LoginState, SsoLogin
from gannet.auth.service import AuthService
from gannet.auth.tokens import make_token
from gannet.auth.types import NewToken
from gannet.core.actor import Actor, acting_as
from gannet.core.clock import now_ms
from gannet.core.durations import parse_duration
from gannet.core.errors import (
    GannetError,
    InvalidArgument,
    NotSupported,
    SettingsError,
    Unauthenticated,
)
from gannet.core.settings import Settings
from gannet.store.metadata import MetadataStore

__all__ = ["LOGIN_SECONDS", "OidcService"]

LOGIN_SECONDS = 600  # how long a login may take between the redirect and the callback
_AGAIN = "log in again: GET /api/v1/oidc/login (or gannet login --sso)"
_FALLBACK_CLAIMS = ("email", "sub")


API_CALLBACK = "/api/v1/oidc/callback"
UI_CALLBACK = "/ui/login/sso/callback"


class OidcService:
    def __init__(self, metadata: MetadataStore, auth: AuthService, settings: Settings) -> None:
        self.metadata = metadata
        self.auth = auth
        self.settings = settings
        self._provider: IdentityProvider | None = None
        self._roles: GroupRoles | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.settings.oidc_issuer.strip())

    def check_settings(self) -> None:
        """Refuse SSO settings that cannot work, naming the setting (the server calls
        this as it starts, so a typo stops it there rather than at someone's login)."""
        if not self.enabled:
            return
        s = self.settings
        issuer = urlsplit(s.oidc_issuer)
        if issuer.scheme != "https" and not (issuer.scheme == "http"
                                              and _is_loopback(issuer.hostname)):
            raise SettingsError(f"oidc_issuer {s.oidc_issuer!r} must be an https:// URL",
                                "plain http is accepted only for a provider on this machine")
        if not s.oidc_client_id.strip():
            raise SettingsError("oidc_client_id is empty, and oidc_issuer is set",
                                "give the client id registered for Gannet at the provider")
        if "openid" not in s.oidc_scopes.split():
            raise SettingsError(f"oidc_scopes {s.oidc_scopes!r} lacks 'openid'",
                                "OpenID Connect needs it: e.g. 'openid profile email groups'")
        for name in ("oidc_groups_claim", "oidc_username_claim"):
            if not getattr(s, name).strip():
                raise SettingsError(f"{name} is empty", "name the ID token's claim")
        if s.oidc_redirect_uri and urlsplit(s.oidc_redirect_uri).scheme not in ("http",
                                                                                 "https"):
            raise SettingsError(f"oidc_redirect_uri {s.oidc_redirect_uri!r} is not an "
                                "http(s) URL", "give the URL of /api/v1/oidc/callback as "
                                "the provider reaches it, or leave it empty")
        self._token_seconds()
        self._group_roles()

    # -- 1. to the identity provider ---------------------------------------------------------

    def begin_login(self, callback_url: str, client_redirect: str | None = None, *,
                    ui: bool = False) -> str:
        """The provider's authorization URL for a new login. ``callback_url`` is this
        server's ``/api/v1/oidc/callback`` as the request reached it (``oidc_redirect_uri``
        overrides it); ``client_redirect`` a loopback URL (``gannet login``) that the
        token goes to instead of a page. ``ui``: the web UI's login, whose callback is
        ``/ui/login/sso/callback`` beside the one ``oidc_redirect_uri`` names."""
        provider = self._provider_or_refuse()
        if client_redirect:
            _check_loopback(client_redirect)
        verifier = secrets.token_urlsafe(64)
        state, nonce, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), now_ms()
        login = LoginState(
            state_sha256=_digest(state), nonce=nonce, code_verifier=verifier,
            redirect_uri=self._redirect_uri(callback_url, ui),
            client_redirect=client_redirect or None, created=now,
            expires=now + LOGIN_SECONDS * 1000)
        url = provider.authorization_url(
            redirect_uri=login.redirect_uri, scopes=self.settings.oidc_scopes, state=state,
            nonce=nonce, code_challenge=_challenge(verifier))
        with self.metadata.write() as conn:
            repository.delete_expired_logins(conn, now)
            repository.insert_login(conn, login)
        return url

    def _redirect_uri(self, callback_url: str, ui: bool) -> str:
        """Where the provider sends the browser back: ``oidc_redirect_uri`` (the server as
        the provider reaches it, behind a proxy) or its UI sibling, else ``callback_url``."""
        configured = self.settings.oidc_redirect_uri
        if not configured:
            return callback_url
        if ui and configured.endswith(API_CALLBACK):
            return configured[: -len(API_CALLBACK)] + UI_CALLBACK
        return callback_url if ui else configured

    # -- 2. back from it ---------------------------------------------------------------------

    def take_login(self, state: str) -> LoginState:
        """The login a callback's ``state`` belongs to, used up by this call."""
        self._provider_or_refuse()
        if not state:
            raise Unauthenticated("the callback carries no state", _AGAIN)
        with self.metadata.write() as conn:
            login = repository.take_login(conn, _digest(state))
        if login is None:
            raise Unauthenticated("this login's state is unknown or was used already (a "
                                  "callback is good once)", _AGAIN)
        if login.expires <= now_ms():
            raise Unauthenticated(f"this login took longer than {LOGIN_SECONDS // 60} "
                                  "minutes and has expired", _AGAIN)
        return login

    def finish_login(self, login: LoginState, *, code: str = "", error: str = "",
                     error_description: str = "", address: str | None = None) -> SsoLogin:
        """Check what the provider sent back for ``login`` and sign the user in."""
        provider = self._provider_or_refuse()
        if error:
            detail = f"{error}: {error_description}" if error_description else error
            raise Unauthenticated(f"the identity provider refused the login ({detail})",
                                  _AGAIN)
        if not code:
            raise Unauthenticated("the callback carries no code", _AGAIN)
        tokens = provider.exchange(code, login.code_verifier, login.redirect_uri)
        claims = provider.verify_id_token(tokens["id_token"], login.nonce)
        user = self._user_name(claims)
        groups = self._groups(self._with_userinfo_groups(provider, claims, tokens))
        return self._sign_in(user, groups, self._group_roles().grant_for(groups), address)

    def _sign_in(self, user: str, groups: tuple[str, ...], grant: Grant,
                 address: str | None) -> SsoLogin:
        now = now_ms()
        secret = new_token_secret()
        token = make_token(user, f"sso-{datetime.now(UTC):%Y-%m-%d}",
                           now + math.ceil(self._token_seconds() * 1000))
        with acting_as(Actor(user=user, address=address, via="oidc")), \
                self.metadata.write() as conn:
            created = self._ensure_user(conn, user)
            for project in sorted(grant.projects):
                if team_repository.insert_project(conn, project, "", now):
                    self.auth.record(conn, "project.create", f"project:{project}",
                                     {"by": "oidc"})
            projects = repository.replace_sso_memberships(conn, user, grant.projects)
            admin = repository.set_sso_admin(conn, user, grant.admin, now)
            team_repository.insert_token(conn, token, token_digest(secret))
            self.auth.record(conn, "user.login", f"user:{user}", {
                "via": "oidc", "issuer": self.settings.oidc_issuer, "groups": list(groups),
                "admin": admin, "projects": projects, "token": token.id,
                "expires": token.expires})
        return SsoLogin(user=user, token=NewToken(token, secret), groups=groups, admin=admin,
                        projects=projects, created_user=created)

    def _ensure_user(self, conn: Connection, user: str) -> bool:
        """Create ``user`` (no password) unless they exist; a disabled one is refused."""
        found = team_repository.password_hash(conn, user)
        if found is not None:
            if found[1]:
                raise Unauthenticated(f"the user {user!r} is disabled",
                                      "ask an administrator to enable them")
            return False
        team_repository.insert_user(conn, user, None, now_ms())
        self.auth.record(conn, "user.create", f"user:{user}", {"via": "oidc"})
        return True

    # -- what the ID token says --------------------------------------------------------------

    def _user_name(self, claims: dict[str, Any]) -> str:
        """The ``oidc_username_claim``, else ``email``, else ``sub``."""
        chosen = self.settings.oidc_username_claim
        for claim in (chosen, *(c for c in _FALLBACK_CLAIMS if c != chosen)):
            value = claims.get(claim)
            if isinstance(value, str) and value.strip():
                try:
                    return check_name(value, "user name", 256)
                except GannetError as exc:
                    raise Unauthenticated(
                        f"the ID token's {claim} {value!r} cannot be a Gannet user name "
                        f"({exc.message})",
                        "set oidc_username_claim to a claim without ':', '/' or '\\' "
                        "(preferred_username, email)") from exc
        raise Unauthenticated("the ID token names the user in none of the claims "
                              f"{chosen}, email or sub", "set oidc_username_claim")

    def _with_userinfo_groups(self, provider: IdentityProvider, claims: dict[str, Any],
                              tokens: dict[str, Any]) -> dict[str, Any]:
        """``claims``, with the groups claim read from the userinfo endpoint when the ID
        token has none (providers that keep big group lists out of the token do so). The
        userinfo's ``sub`` must be the ID token's, or its claims are somebody else's."""
        name = self.settings.oidc_groups_claim
        access = tokens.get("access_token")
        if name in claims or not isinstance(access, str) or not self._group_roles().groups:
            return claims
        info = provider.userinfo(access)
        if info is None or name not in info:
            return claims
        if info.get("sub") != claims.get("sub"):
            raise Unauthenticated("the identity provider's userinfo is about another user "
                                  f"(sub {info.get('sub')!r}, not {claims.get('sub')!r})",
                                  _AGAIN)
        return {**claims, name: info[name]}

    def _groups(self, claims: dict[str, Any]) -> tuple[str, ...]:
        """The user's groups (``oidc_groups_claim``); its absence is an error when the
        group mapping is set, since nobody could get a role."""
        name = self.settings.oidc_groups_claim
        value = claims.get(name)
        if value is None:
            if not self._group_roles().groups:
                return ()
            raise _no_groups(name, claims)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Unauthenticated(f"the ID token's {name!r} claim is not a list of group "
                                  f"names: {str(value)[:200]}",
                                  "set oidc_groups_claim to the claim that lists them")
        return tuple(value)

    # -- settings ----------------------------------------------------------------------------

    def _provider_or_refuse(self) -> IdentityProvider:
        if not self.enabled:
            raise NotSupported("single sign-on is not set up on this server",
                               "set oidc_issuer, oidc_client_id (and oidc_client_secret) on "
                               "the server; or log in with an API token")
        if self._provider is None:
            self.check_settings()
            s = self.settings
            self._provider = IdentityProvider(s.oidc_issuer, s.oidc_client_id,
                                              s.oidc_client_secret)
        return self._provider

    def _group_roles(self) -> GroupRoles:
        if self._roles is None:
            self._roles = parse_group_roles(self.settings.oidc_group_roles)
        return self._roles

    def _token_seconds(self) -> float:
        try:
            seconds = parse_duration(self.settings.oidc_token_ttl)
        except InvalidArgument as exc:
            raise SettingsError(f"oidc_token_ttl: {exc.message}", exc.hint) from exc
        if seconds <= 0:
            raise SettingsError("oidc_token_ttl must be positive", "e.g. 12h or 7d")
        return seconds


def _no_groups(name: str, claims: dict[str, Any]) -> Unauthenticated:
    names = claims.get("_claim_names")
    if isinstance(names, dict) and name in names:  # Azure AD's "groups overage"
        return Unauthenticated(
            f"the identity provider left the {name!r} claim out of the ID token: the user is "
            "in too many groups (Azure AD's 'groups overage')",
            "emit only the groups assigned to the application (Azure AD: "
            "groupMembershipClaims 'ApplicationGroup')")
    return Unauthenticated(
        f"the ID token has no {name!r} claim, so no group can give this user a role",
        f"make the identity provider put the groups in the ID token as {name!r} (Keycloak: "
        "a 'Group Membership' mapper; Okta: a groups claim; Azure AD: groupMembershipClaims),"
        " or set oidc_groups_claim to the claim it uses")


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_loopback(url: str) -> None:
    """A CLI's ``redirect_uri`` may only be an http URL on this machine's loopback: the
    token goes there, and a program anywhere else must never receive it."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if (parts.scheme != "http" or not _is_loopback(parts.hostname) or port is None
            or parts.username or parts.password or parts.fragment):
        raise InvalidArgument(
            f"redirect_uri {url[:200]!r} is not a loopback URL with a port",
            "only http://127.0.0.1:PORT/..., http://[::1]:PORT/... or http://localhost:PORT/... "
            "may receive a token (gannet login --sso makes one); leave it out to see the "
            "token on a page")
