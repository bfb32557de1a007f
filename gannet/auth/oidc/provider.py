"""One OpenID Connect provider as this server (the relying party) sees it.

- ``discovery()``: its ``/.well-known/openid-configuration``, fetched once and cached for
  an hour; its ``issuer`` must be exactly the configured one (OpenID Connect Discovery
  §4.3), so a document served from elsewhere is refused.
- ``authorization_url()``: where to send the browser (authorization code flow with PKCE
  S256, a ``state`` and a ``nonce``).
- ``exchange()``: the code (and the PKCE verifier) for tokens at the token endpoint,
  authenticating with the client secret (HTTP basic, or in the form when the provider
  only takes that), or as a public client without one.
- ``verify_id_token()``: the ID token's signature against the provider's JWKS (fetched
  again once when a token names a key not seen yet: keys rotate), then ``iss``, ``aud``
  (and ``azp``), ``exp``, ``iat`` and the login's ``nonce``.

Every refusal is an ``Unauthenticated`` naming the check that failed; a provider that
cannot be reached is ``Unavailable``; a provider that answers in a way the settings must
explain (no discovery document, another issuer, a client it does not know) is a
``SettingsError`` naming the setting to check.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from gannet.core.errors import SettingsError, Unauthenticated, Unavailable

__all__ = ["IdentityProvider"]

CACHE_SECONDS = 3600.0
JWKS_REFRESH_SECONDS = 60.0  # an unknown key id fetches the JWKS again at most this often
LEEWAY_SECONDS = 60  # clock skew forgiven on exp and iat
TIMEOUT_SECONDS = 10.0
# asymmetric signatures only: an HMAC over the client secret proves nothing a public
# client could not forge, and "none" proves nothing at all
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                      "ES256", "ES384", "ES512", "EdDSA")
_AGAIN = "log in again: GET /api/v1/oidc/login (or gannet login --sso)"


class IdentityProvider:
    def __init__(self, issuer: str, client_id: str, client_secret: str = "") -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, Any] | None = None

    # -- discovery ---------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The provider's metadata (cached for an hour)."""
        with self._lock:
            if self._discovery is not None and time.monotonic() - self._discovery[0] < \
                    CACHE_SECONDS:
                return self._discovery[1]
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "its discovery document")
        if document.get("issuer") != self.issuer:
            raise SettingsError(
                f"the discovery document at {url} names the issuer "
                f"{document.get('issuer')!r}, not the configured {self.issuer!r}",
                "set oidc_issuer to exactly the issuer the provider names (mind a trailing "
                "'/')",
            )
        missing = [key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                   if not isinstance(document.get(key), str)]
        if missing:
            raise SettingsError(f"the discovery document at {url} lacks {', '.join(missing)}",
                                "check oidc_issuer names an OpenID Connect provider")
        with self._lock:
            self._discovery = (time.monotonic(), document)
        return document

    def authorization_url(self, *, redirect_uri: str, scopes: str, state: str, nonce: str,
                          code_challenge: str) -> str:
        """Where the browser goes to sign in; the provider sends it back to
        ``redirect_uri`` with a code and the ``state``."""
        endpoint = str(self.discovery()["authorization_endpoint"])
        query = urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": redirect_uri, "scope": scopes, "state": state, "nonce": nonce,
            "code_challenge": code_challenge, "code_challenge_method": "S256",
        })
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    # -- the token endpoint ------------------------------------------------------------------

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The provider's tokens for ``code``; it checks the PKCE ``verifier`` against
        the challenge of the login and that ``redirect_uri`` is the one the login used."""
        document = self.discovery()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "code_verifier": verifier}
        headers = {"accept": "application/json"}
        methods = document.get("token_endpoint_auth_methods_supported") or [
            "client_secret_basic"]
        if not self.client_secret:
            form["client_id"] = self.client_id
        elif "client_secret_basic" in methods:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        url = str(document["token_endpoint"])
        try:
            response = httpx.post(url, data=form, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise self._unreachable(url, exc) from exc
        answer = _json_object(response)
        if response.status_code >= 400:
            raise _refused_code(response.status_code, answer)
        if not isinstance(answer.get("id_token"), str):
            raise Unauthenticated(
                "the identity provider's token endpoint answered without an ID token",
                "make sure oidc_scopes includes 'openid'",
            )
        return answer

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        """The claims of the provider's userinfo endpoint for ``access_token``; None when
        the provider has none. Some providers list a user's groups only there."""
        url = self.discovery().get("userinfo_endpoint")
        if not isinstance(url, str) or not url:
            return None
        try:
            response = httpx.get(url, timeout=TIMEOUT_SECONDS, headers={
                "accept": "application/json", "authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as exc:
            raise self._unreachable(url, exc) from exc
        answer = _json_object(response)
        if response.status_code >= 400:
            raise Unauthenticated(f"the identity provider's userinfo endpoint refused the "
                                  f"access token ({response.status_code})", _AGAIN)
        return answer

    # -- the ID token ------------------------------------------------------------------------

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature and claims are checked."""
        from joserfc import jwt
        from joserfc.errors import BadSignatureError, JoseError

        algorithm = self._algorithm(id_token)
        kid = _header(id_token).get("kid")
        key = _key_for(self._keys(), kid) or _key_for(self._keys(refresh=True), kid)
        if key is None:
            raise Unauthenticated("the ID token is signed with a key the identity provider "
                                  f"does not publish ({kid!r} is not in its JWKS)", _AGAIN)
        try:
            token = jwt.decode(id_token, key, algorithms=[algorithm])
        except BadSignatureError as exc:
            raise Unauthenticated(
                "the ID token's signature does not verify with the identity provider's keys "
                "(its JWKS): it was not signed by the provider, or was changed", _AGAIN,
            ) from exc
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"the ID token cannot be read: {exc}", _AGAIN) from exc
        claims = dict(token.claims)
        self._check_claims(claims, nonce)
        return claims

    def _algorithm(self, id_token: str) -> str:
        header = _header(id_token)
        algorithm = header.get("alg")
        offered = self.discovery().get("id_token_signing_alg_values_supported") or ["RS256"]
        allowed = [a for a in offered if a in SIGNING_ALGORITHMS]
        if algorithm not in allowed:
            raise Unauthenticated(
                f"the ID token is signed with {algorithm!r}, which this server does not "
                f"accept (it accepts {', '.join(allowed) or 'none the provider offers'})",
                "sign ID tokens with an asymmetric algorithm (RS256, ES256) at the provider",
            )
        return str(algorithm)

    def _check_claims(self, claims: dict[str, Any], nonce: str) -> None:
        if claims.get("iss") != self.issuer:
            raise Unauthenticated(f"the ID token was issued by {claims.get('iss')!r}, not by "
                                  f"the configured issuer {self.issuer!r}", _AGAIN)
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.client_id not in audiences:
            raise Unauthenticated(
                f"the ID token is meant for the audience {audience!r}, not for this server's "
                f"client id {self.client_id!r}",
                "check that oidc_client_id is the client registered for Gannet at the provider",
            )
        if len(audiences) > 1 and claims.get("azp", self.client_id) != self.client_id:
            raise Unauthenticated(f"the ID token was issued to the client {claims['azp']!r} "
                                  f"(azp), not to {self.client_id!r}", _AGAIN)
        now = time.time()
        expires, issued = _number(claims.get("exp")), _number(claims.get("iat"))
        if expires is None or issued is None:
            raise Unauthenticated("the ID token lacks a numeric exp or iat claim", _AGAIN)
        if expires <= now - LEEWAY_SECONDS:
            raise Unauthenticated(
                f"the ID token expired at {_when(expires)} ({int(now - expires)} s ago)",
                "log in again; if it keeps happening, check that the clocks of this server "
                "and the identity provider agree",
            )
        if issued > now + LEEWAY_SECONDS:
            raise Unauthenticated(f"the ID token was issued in the future ({_when(issued)})",
                                  "check that the clocks of this server and the identity "
                                  "provider agree")
        if claims.get("nonce") != nonce:
            raise Unauthenticated("the ID token's nonce is not this login's: it was made for "
                                  "another login (replayed or injected)", _AGAIN)
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthenticated("the ID token names no subject (sub)", _AGAIN)

    def _keys(self, *, refresh: bool = False) -> Any:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        with self._lock:
            cached = self._jwks
        if cached is not None:
            age = time.monotonic() - cached[0]
            if age < (JWKS_REFRESH_SECONDS if refresh else CACHE_SECONDS):
                return cached[1]
        url = str(self.discovery()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(self._get_json(url, "its keys (JWKS)"))  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated(f"the identity provider's JWKS at {url} cannot be read: "
                                  f"{exc}", "check the provider's key configuration") from exc
        with self._lock:
            self._jwks = (time.monotonic(), keys)
        return keys

    # -- HTTP --------------------------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, headers={"accept": "application/json"},
                                 timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise self._unreachable(url, exc) from exc
        if response.status_code >= 500:
            raise Unavailable(f"the identity provider failed to serve {what}: {url} answered "
                              f"{response.status_code}", "try again in a moment")
        answer = _json_object(response)
        if response.status_code >= 400 or not answer:
            raise SettingsError(
                f"the identity provider serves no {what} at {url} (it answered "
                f"{response.status_code})", "check that oidc_issuer is the provider's issuer URL")
        return answer

    def _unreachable(self, url: str, exc: Exception) -> Unavailable:
        return Unavailable(f"cannot reach the identity provider at {url}: {exc}",
                           "check that oidc_issuer is right and the provider is up")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _refused_code(status: int, answer: dict[str, Any]) -> Exception:
    error = str(answer.get("error") or f"HTTP {status}")
    described = f"{error}: {answer['error_description']}" if answer.get(
        "error_description") else error
    if error == "invalid_client":
        return SettingsError(
            f"the identity provider does not accept this server's client credentials "
            f"({described})", "check oidc_client_id and oidc_client_secret")
    return Unauthenticated(f"the identity provider refused the login's code ({described})",
                           _AGAIN)


def _key_for(keys: Any, kid: Any) -> Any:
    """The key of ``keys`` (a JWKS) that ``kid`` names; without a ``kid``, the only key."""
    found = list(keys.keys)
    if kid is None:
        return found[0] if len(found) == 1 else None
    return next((key for key in found if key.kid == kid), None)


def _header(id_token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWT, unverified (to pick the key and check ``alg``)."""
    first = id_token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    except ValueError as exc:
        raise Unauthenticated("the ID token is not a JWT (its header cannot be read)",
                              _AGAIN) from exc
    if not isinstance(header, dict):
        raise Unauthenticated("the ID token's header is not a JSON object", _AGAIN)
    return header


def _number(value: Any) -> float | None:
    """A JSON number as a float (None: not a finite number)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
