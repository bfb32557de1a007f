"""Auth: who may do what, and the record of who did what.

- ``tables``: users' roles, the audit log
- ``service``: ``AuthService`` — grant/revoke/list roles, ``record`` an audited action,
  read the audit log

Today this is the embedded, single-machine form (the user is the one in the settings);
tokens, logins and per-project permissions arrive with the team server.
"""
