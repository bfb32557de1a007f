"""Single sign-on with OpenID Connect: the authorization code flow with PKCE, and groups
mapped to project roles.

- ``types``: ``LoginState`` (a login under way), ``SsoLogin`` (one that succeeded)
- ``groups``: the ``oidc_group_roles`` setting's syntax, parsed into ``GroupRoles``
- ``provider``: ``IdentityProvider``, discovery, the token endpoint, ID token checks
- ``repository``: the SQL of logins under way and of SSO-managed memberships and roles
- ``service``: ``OidcService``, the login from the redirect to the API token

docs/auth.md ("Single sign-on") is the user's guide; the server's routes are
``gannet.server.routes.oidc``.
"""

from gannet.auth.oidc.service import OidcService

__all__ = ["OidcService"]
