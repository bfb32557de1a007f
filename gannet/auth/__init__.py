"""Auth: who may do what, and the record of who did what.

- ``types``: ``AuditEntry``
- ``tables``: users' roles, the audit log
- ``repository``: their SQL
- ``identity``: who acts in embedded mode (the operating system's user)
- ``service``: ``AuthService`` — grant, revoke and list roles (granting needs ``admin``);
  ``record`` an audited change inside the caller's transaction; search the audit log

Today this is the embedded, single-machine form (the user is the one in the settings);
tokens, logins and per-project permissions arrive with the team server.
"""
