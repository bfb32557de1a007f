"""A small OpenID Connect provider for tests, on a real socket on 127.0.0.1.

``running_provider()`` serves it in uvicorn on a thread and yields it with its ``issuer``
URL set. It does what a real provider does for the authorization code flow with PKCE,
and no more:

- ``/.well-known/openid-configuration`` (discovery) and ``/jwks`` (an RSA key made with
  ``cryptography`` when the provider is made);
- ``/authorize``: no login page; it signs in as ``provider.person`` (the test sets who,
  and their groups) and redirects back to ``redirect_uri`` with a one-use code and the
  ``state``, or with ``error`` when ``provider.refuse`` says so;
- ``/token``: checks the client's id and secret (HTTP basic or the form), that the code is
  known, unused and fresh, the ``redirect_uri`` is the authorization's, and the PKCE
  verifier hashes to its challenge; answers an ID token and an access token.

Tests make it misbehave on purpose: ``audience`` (another ``aud``), ``lifetime`` (negative:
already expired), ``foreign_key`` (signed by a key it does not publish, under the same key
id). ``hits`` counts requests per endpoint (discovery is cached by the server).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["OidcProvider", "Person", "running_provider"]

CODE_SECONDS = 60
KEY_ID = "gannet-test-key"


@dataclass
class Person:
    """Who the provider signs in as: ``groups`` None leaves the groups claim out."""

    username: str
    groups: list[str] | None = field(default_factory=list)
    email: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)  # any more (or overriding) claims


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    person: Person
    issued: float
    used: bool = False


class OidcProvider:
    def __init__(self, client_id: str = "gannet", client_secret: str = "gannet-secret",
                 groups_claim: str = "groups") -> None:
        self.client_id = client_id
        self.client_secret = client_secret  # "": a public client (no secret checked)
        self.groups_claim = groups_claim
        self.issuer = ""  # set once it listens
        self.person = Person("ana", ["ml-team"])
        self.audience: str | None = None
        self.lifetime = 300  # seconds the ID token is valid
        self.foreign_key = False
        self.refuse: str | None = None  # an OAuth error code to answer instead of a code
        # where the groups are: in the ID token, or only at the userinfo endpoint (as some
        # providers do when a user has many)
        self.groups_in = "id_token"
        self.userinfo_sub: str | None = None  # a different sub at userinfo (a mix-up)
        self.hits: Counter[str] = Counter()
        self._key = _new_key()
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, Person] = {}  # access token -> who it was issued for
        self._lock = threading.Lock()

    # -- the endpoints -----------------------------------------------------------------------

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self._discovery),
            Route("/jwks", self._jwks),
            Route("/authorize", self._authorize),
            Route("/token", self._token, methods=["POST"]),
            Route("/userinfo", self._userinfo),
        ])

    async def _discovery(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        self.hits["discovery"] += 1
        return JSONResponse({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "groups"],
        })

    async def _jwks(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        self.hits["jwks"] += 1
        public = self._key.as_dict(private=False)
        return JSONResponse({"keys": [{**public, "kid": KEY_ID, "use": "sig",
                                       "alg": "RS256"}]})

    async def _authorize(self, request: Any) -> Any:
        from starlette.responses import JSONResponse, RedirectResponse

        self.hits["authorize"] += 1
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "redirect_uri"}, status_code=400)
        state = q.get("state", "")
        problem = self.refuse or _authorize_problem(q)
        if problem:
            return RedirectResponse(_with(redirect_uri, error=problem, state=state,
                                          error_description=f"test provider: {problem}"), 302)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(self.client_id, redirect_uri, q["code_challenge"],
                                        q.get("nonce", ""), self.person, time.time())
        return RedirectResponse(_with(redirect_uri, code=code, state=state), 302)

    async def _token(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        self.hits["token"] += 1
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        problem = self._client_problem(request.headers.get("authorization", ""), form)
        if problem:
            return JSONResponse({"error": "invalid_client", "error_description": problem},
                                status_code=401)
        grant, problem = self._redeem(form)
        if grant is None:
            return JSONResponse({"error": "invalid_grant", "error_description": problem},
                                status_code=400)
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = grant.person
        return JSONResponse({"access_token": access, "token_type": "Bearer",
                             "expires_in": 300, "id_token": self._id_token(grant)},
                            headers={"cache-control": "no-store"})

    async def _userinfo(self, request: Any) -> Any:
        from starlette.responses import JSONResponse

        self.hits["userinfo"] += 1
        scheme, _, access = request.headers.get("authorization", "").partition(" ")
        person = self._access.get(access) if scheme.lower() == "bearer" else None
        if person is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        claims: dict[str, Any] = {"sub": self.userinfo_sub or f"sub-{person.username}",
                                  "preferred_username": person.username}
        if person.groups is not None:
            claims[self.groups_claim] = list(person.groups)
        return JSONResponse(claims)

    # -- the checks --------------------------------------------------------------------------

    def _client_problem(self, authorization: str, form: dict[str, Any]) -> str:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            pair = base64.b64decode(value).decode()
            client_id, _, secret = (unquote(p) for p in pair.partition(":"))
        if client_id != self.client_id:
            return f"unknown client {client_id!r}"
        if self.client_secret and secret != self.client_secret:
            return "wrong client secret"
        return ""

    def _redeem(self, form: dict[str, Any]) -> tuple[_Grant | None, str]:
        if form.get("grant_type") != "authorization_code":
            return None, "grant_type must be authorization_code"
        with self._lock:
            grant = self._grants.get(str(form.get("code")))
            if grant is None or grant.used:
                return None, "unknown or used code"
            grant.used = True
        if time.time() - grant.issued > CODE_SECONDS:
            return None, "the code expired"
        if form.get("redirect_uri") != grant.redirect_uri:
            return None, "redirect_uri differs from the authorization request's"
        verifier = str(form.get("code_verifier") or "")
        if _challenge(verifier) != grant.challenge:
            return None, "PKCE verifier does not match the code challenge"
        return grant, ""

    def _id_token(self, grant: _Grant) -> str:
        from joserfc import jwt

        person, now = grant.person, int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": f"sub-{person.username}",
            "aud": self.audience or grant.client_id, "iat": now,
            "exp": now + self.lifetime, "nonce": grant.nonce,
            "preferred_username": person.username,
        }
        if person.email:
            claims["email"] = person.email
        if person.groups is not None and self.groups_in == "id_token":
            claims[self.groups_claim] = list(person.groups)
        claims.update(person.claims)
        key = _new_key() if self.foreign_key else self._key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)


def _authorize_problem(q: Any) -> str:
    if q.get("response_type") != "code":
        return "unsupported_response_type"
    if "openid" not in q.get("scope", "").split():
        return "invalid_scope"
    if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
        return "invalid_request"
    return ""


def _new_key() -> Any:
    """An RSA key made with ``cryptography``, as joserfc signs with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from joserfc.jwk import RSAKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return RSAKey.import_key(pem, {"kid": KEY_ID})


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _with(url: str, **values: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *values.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


@contextmanager
def running_provider(**options: Any) -> Iterator[OidcProvider]:
    """An ``OidcProvider(**options)`` on a free port of 127.0.0.1 until the block ends."""
    import uvicorn

    from gannet.serving.server.tcp import bind_socket

    provider = OidcProvider(**options)
    sock = bind_socket("127.0.0.1", 0)
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(provider.app(), lifespan="off", access_log=False,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="gannet-test-oidc-provider")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test OpenID Connect provider did not start")
        time.sleep(0.01)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
