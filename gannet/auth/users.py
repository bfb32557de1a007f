"""Users of a team server: create, list, disable, set passwords; the first administrator.

Only administrators manage users (embedded, whoever runs the command on the server's
machine may: that is how the first administrator can also be made, with
``gannet users create NAME --admin``). A user logs in with API tokens, or with a password
(argon2-hashed) over HTTP basic, as MLflow's client may.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from gannet.auth import repository, team_repository
from gannet.auth.base import ADMIN, AuthBase, check_name
from gannet.auth.credentials import hash_password
from gannet.auth.types import User
from gannet.core.actor import current_actor
from gannet.core.clock import now_ms
from gannet.core.errors import AlreadyExists, InvalidArgument, NotFound

BOOTSTRAP_ADMIN = "admin"


class UserUseCases(AuthBase):
    def create_user(self, name: str, *, password: str | None = None,
                    admin: bool = False) -> User:
        """A new user (an administrator with ``admin``); without a password they log in
        with tokens only."""
        name = check_name(name, "user name", 256)
        hashed = hash_password(password) if password is not None else None
        self._admin_only(f"create the user {name!r}")
        with self.metadata.write() as conn:
            self._insert_user(conn, name, hashed, admin)
        return self.get_user(name)

    def _insert_user(self, conn: Connection, name: str, hashed: str | None,
                     admin: bool) -> None:
        if not team_repository.insert_user(conn, name, hashed, now_ms()):
            raise AlreadyExists(f"user {name!r} already exists",
                                f"choose another name, or: gannet users set-password {name}")
        if admin:
            repository.insert_role(conn, name, ADMIN, self.current_user, now_ms())
        self.record(conn, "user.create", f"user:{name}", {"admin": admin})

    def get_user(self, name: str) -> User:
        """A user; on a team server only administrators see others."""
        actor = current_actor()
        if actor is not None and actor.user != name:
            self._admin_only(f"see the user {name!r}")
        with self.metadata.read() as conn:
            found = team_repository.user_rows(conn, name)
        if not found:
            raise NotFound(f"no user named {name!r}", "list them: gannet users list")
        return found[0]

    def list_users(self) -> list[User]:
        self._admin_only("list users")
        with self.metadata.read() as conn:
            return team_repository.user_rows(conn)

    def disable_user(self, name: str, *, disabled: bool = True) -> User:
        """A disabled user's tokens and password stop working at once (``disabled=False``
        enables them again)."""
        self._admin_only(f"disable the user {name!r}")
        actor = current_actor()
        if disabled and actor is not None and actor.user == name:
            raise InvalidArgument("you cannot disable yourself",
                                  "ask another administrator to do it")
        with self.metadata.write() as conn:
            if not team_repository.update_user(conn, name, disabled=disabled):
                raise NotFound(f"no user named {name!r}", "list them: gannet users list")
            self.record(conn, "user.disable" if disabled else "user.enable", f"user:{name}")
        return self.get_user(name)

    def set_password(self, name: str, password: str | None) -> None:
        """Set (None: remove) ``name``'s password: their own, or anyone's as administrator."""
        hashed = hash_password(password) if password is not None else None
        actor = current_actor()
        if actor is None or actor.user != name:
            self._admin_only(f"set the password of {name!r}")
        with self.metadata.write() as conn:
            if not team_repository.update_user(conn, name, password_hash=hashed):
                raise NotFound(f"no user named {name!r}", "list them: gannet users list")
            self.record(conn, "user.password", f"user:{name}", {"set": hashed is not None})

    def bootstrap_admin(self) -> str | None:
        """On a store without users: make the user ``admin`` an administrator and return a
        one-time API token for them (the first start of a team server prints it); else
        None. Two servers starting at once on one database make one."""
        from gannet.auth.credentials import new_token_secret, token_digest
        from gannet.auth.tokens import make_token

        with self.metadata.read() as conn:
            if team_repository.count_users(conn):
                return None
        secret = new_token_secret()
        with self.metadata.write() as conn:
            repository.serialize_admin_bootstrap(conn)
            if team_repository.count_users(conn):
                return None  # another server made one meanwhile
            self._insert_user(conn, BOOTSTRAP_ADMIN, None, True)
            token = make_token(BOOTSTRAP_ADMIN, "bootstrap", None)
            team_repository.insert_token(conn, token, token_digest(secret))
            self.record(conn, "token.create", f"user:{BOOTSTRAP_ADMIN}",
                        {"token": token.id, "name": token.name})
        return secret
