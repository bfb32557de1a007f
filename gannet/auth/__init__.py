"""Auth: who may do what, and the record of who did what.

- ``types``: ``AuditEntry``, ``User``, ``ApiToken``, ``NewToken``, ``Project``
- ``tables``: roles, the audit log, users, API tokens, projects and their members
- ``repository`` (roles, audit log) and ``team_repository`` (users, tokens, projects): SQL
- ``identity``: who acts in embedded mode (the operating system's user)
- ``credentials``: argon2 password hashes, token secrets, the ``Authorization`` header
- ``ratelimit``: ``FailureLimiter``, failed logins counted per user and per address
- ``base``: who acts, the audit log, the administrator check
- ``users``, ``tokens``, ``projects``: their use cases; ``tokens`` also ``authenticate``
- ``recent``: ``RecentTokens``, valid tokens a server worker remembers for a few seconds
- ``service``: ``AuthService``, the facade over all of these, and roles (``admin``...)
- ``oidc``: single sign-on with OpenID Connect (``OidcService``), groups mapped to roles

Permissions themselves (the caller's role in a project, ``require``, ``visible_projects``)
live on the request's ``Actor`` in ``gannet.core.actor``, so every capability checks them
without importing this one. docs/auth.md is the user's guide.
"""
