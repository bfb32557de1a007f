"""API tokens, and who a request is: ``authenticate`` turns an ``Authorization`` header
into the ``Actor`` the request runs as.

A token is shown once, when made (only its SHA-256 is kept), has a name (what it is for),
an optional expiry, and can be revoked; listings show names, expiry and last use, never
secrets. Anyone makes and revokes their own tokens; administrators anyone's.

Every refusal says which check failed (no credentials, a header not understood, an
unknown, expired or revoked token, a wrong password) without telling whether a user of
that name exists. Failed attempts count per user and per client address
(``FailureLimiter``): past ten a minute, both are refused with 429 for a while.
"""

from __future__ import annotations

import math

from gannet.auth import team_repository
from gannet.auth.base import AuthBase, check_name
from gannet.auth.credentials import (
    Credentials,
    new_token_secret,
    parse_authorization,
    token_digest,
    verify_password,
)
from gannet.auth.ratelimit import FailureLimiter
from gannet.auth.types import ApiToken, NewToken
from gannet.core.actor import Actor, current_actor
from gannet.core.clock import now_ms
from gannet.core.durations import parse_duration
from gannet.core.errors import InvalidArgument, NotFound, Unauthenticated
from gannet.core.ids import new_id

LAST_USED_EVERY_MS = 60_000  # a token's last use is written at most this often
BASIC = "password"


def make_token(user: str, name: str, expires: int | None) -> ApiToken:
    return ApiToken(id=new_id(), user=user, name=name, created=now_ms(), expires=expires)


class TokenUseCases(AuthBase):
    limiter: FailureLimiter

    def create_token(self, name: str, *, user: str | None = None,
                     expires_in: str | float | None = None) -> NewToken:
        """A new API token of ``user`` (default: who acts) called ``name``, valid for
        ``expires_in`` (``30d``, seconds; None: until revoked). Its secret is in the
        answer, and nowhere else ever again."""
        name = check_name(name, "token name")
        owner = check_name(user, "user name", 256) if user is not None else self.current_user
        self._own_or_admin(owner, "make a token for")
        expires = None
        if expires_in is not None:
            seconds = parse_duration(expires_in)
            if seconds <= 0:
                raise InvalidArgument("a token's expiry must be in the future",
                                      "give a positive duration, e.g. 30d")
            expires = now_ms() + math.ceil(seconds * 1000)
        secret = new_token_secret()
        token = make_token(owner, name, expires)
        with self.metadata.write() as conn:
            if team_repository.password_hash(conn, owner) is None:
                raise NotFound(f"no user named {owner!r}",
                               f"create the user first: gannet users create {owner}")
            team_repository.insert_token(conn, token, token_digest(secret))
            self.record(conn, "token.create", f"user:{owner}",
                        {"token": token.id, "name": name, "expires": expires})
        return NewToken(token, secret)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        """``user``'s tokens (default: who acts; None as an administrator or embedded:
        everyone's), newest first, without secrets."""
        actor = current_actor()
        if user is None and actor is not None and not actor.admin:
            user = actor.user
        if user is not None:
            self._own_or_admin(user, "list the tokens of")
        with self.metadata.read() as conn:
            return team_repository.token_rows(conn, user=user)

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token at once (its owner's, or any as an administrator)."""
        with self.metadata.write() as conn:
            found = team_repository.token_rows(conn, token_id=str(token_id))
            actor = current_actor()
            if not found or (actor is not None and not actor.admin
                             and found[0].user != actor.user):
                raise NotFound(f"no token with id {token_id!r}",
                               "list your tokens: gannet tokens list")
            if found[0].revoked is None:
                team_repository.update_token(conn, found[0].id, revoked=now_ms())
                self.record(conn, "token.revoke", f"user:{found[0].user}",
                            {"token": found[0].id, "name": found[0].name})
            return team_repository.token_rows(conn, token_id=found[0].id)[0]

    def _own_or_admin(self, user: str, doing: str) -> None:
        actor = current_actor()
        if actor is not None and actor.user != user:
            self._admin_only(f"{doing} {user!r}")

    # -- authentication ----------------------------------------------------------------

    def authenticate(self, authorization: str | None, address: str | None) -> Actor:
        """The actor an ``Authorization`` header proves (the server's middleware calls
        this for every request); ``Unauthenticated`` (401) or ``RateLimited`` (429)."""
        known = self.recall(authorization, address)
        if known is not None:
            return known
        credentials = parse_authorization(authorization)
        token = None
        try:
            if credentials.is_token:
                token = self._valid_token(credentials)
                user, via = token.user, "token"
            else:
                user, via = self._password_user(credentials), BASIC
        except Unauthenticated:
            self.limiter.failed(address, _user_key(credentials.user))
            raise
        with self.metadata.read() as conn:
            admin, roles = team_repository.permissions(conn, user)
        actor = Actor(user=user, address=address, via=via, admin=admin, roles=roles)
        if token is not None:
            self.recent.put(token_digest(credentials.secret), actor, token.expires)
        return actor

    def recall(self, authorization: str | None, address: str | None) -> Actor | None:
        """The actor a token proved in the last ``auth_cache_seconds`` (no store read: the
        middleware asks this before it sends ``authenticate`` to a thread); else None."""
        credentials = parse_authorization(authorization)
        self.limiter.check(address, _user_key(credentials.user))
        if not credentials.is_token:
            return None
        return self.recent.get(token_digest(credentials.secret), credentials.user, address)

    def _valid_token(self, credentials: Credentials) -> ApiToken:
        with self.metadata.read() as conn:
            found = team_repository.token_by_secret(conn, token_digest(credentials.secret))
        now = now_ms()
        if found is None or (credentials.user is not None
                             and found[0].user != credentials.user):
            raise Unauthenticated("the API token is not valid",
                                  "check it, or make a new one: gannet tokens create NAME")
        token, disabled = found
        if token.revoked is not None:
            raise Unauthenticated(f"the API token {token.name!r} was revoked",
                                  "make a new one: gannet tokens create NAME")
        if token.expires is not None and token.expires <= now:
            raise Unauthenticated(f"the API token {token.name!r} has expired",
                                  "make a new one: gannet tokens create NAME --expires 30d "
                                  "(or sign in again: gannet login --sso)")
        if disabled:
            raise Unauthenticated(f"the user of the API token {token.name!r} is disabled",
                                  "ask an administrator")
        if token.last_used is None or now - token.last_used > LAST_USED_EVERY_MS:
            with self.metadata.write() as conn:
                team_repository.update_token(conn, token.id, last_used=now)
        return token

    def _password_user(self, credentials: Credentials) -> str:
        user = credentials.user or ""
        with self.metadata.read() as conn:
            found = team_repository.password_hash(conn, user)
        stored, disabled = found if found is not None else (None, False)
        if not verify_password(stored, credentials.secret):
            raise Unauthenticated("wrong user name or password",
                                  "check them, or log in with an API token instead")
        if disabled:
            raise Unauthenticated(f"the user {user!r} is disabled", "ask an administrator")
        return user


def _user_key(user: str | None) -> str | None:
    return None if user is None else f"user:{user}"
