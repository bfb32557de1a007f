"""Auth's tables on the shared MetaData. Changed only together with a migration."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    false,
)

from gannet.store.metadata.schema import METADATA, AutoId

# Where a role or a membership came from: given by hand (``manual``), or by single sign-on
# (``sso``: the identity provider's groups, replaced at each of the user's SSO logins).
MANUAL, SSO = "manual", "sso"

user_roles = Table(
    "user_roles",
    METADATA,
    Column("user_id", String(256), primary_key=True),
    Column("role", String(100), primary_key=True),
    Column("granted_by", String(256), nullable=False),
    Column("granted_time", BigInteger, nullable=False),
    Column("source", String(10), nullable=False, server_default=MANUAL),
)

# Append-only: who did what to which thing, when and why.
audit_log = Table(
    "audit_log",
    METADATA,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("time", BigInteger, nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(500), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_audit_log_target_time", "target", "time"),
)

# Team mode's people. ``password_hash`` is argon2 (None: the user logs in with tokens only).
users = Table(
    "users",
    METADATA,
    Column("name", String(256), primary_key=True),
    Column("password_hash", Text),
    Column("created", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

# API tokens: only the SHA-256 of the secret is kept (the secret is 32 random bytes, so a
# fast hash is as safe as a slow one, and a request's check is one indexed lookup).
api_tokens = Table(
    "api_tokens",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(256), ForeignKey("users.name", ondelete="CASCADE"),
           nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger),
    Column("revoked", BigInteger),
    Column("last_used", BigInteger),
    Index("ix_api_tokens_user_id", "user_id"),
)

# Projects own experiments, registered models and deployments (their ``project`` column).
projects = Table(
    "projects",
    METADATA,
    Column("name", String(100), primary_key=True),
    Column("description", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
)

project_members = Table(
    "project_members",
    METADATA,
    Column("project", String(100), ForeignKey("projects.name", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", String(256), ForeignKey("users.name", ondelete="CASCADE"),
           primary_key=True),
    Column("role", String(20), nullable=False),  # reader | editor | owner
    Column("source", String(10), nullable=False, server_default=MANUAL),
    Index("ix_project_members_user_id", "user_id"),
)

# OpenID Connect logins under way: kept in the store, not in a server's memory, because the
# identity provider may send the browser back to another replica. Keyed by the SHA-256 of
# the ``state`` sent to the provider; used once (the callback deletes the row) and only
# until ``expires``. The PKCE verifier and the nonce never leave the server but for the
# provider's token endpoint.
oidc_logins = Table(
    "oidc_logins",
    METADATA,
    Column("state_sha256", String(64), primary_key=True),
    Column("nonce", String(100), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("redirect_uri", Text, nullable=False),  # sent to the provider, and again with the code
    Column("client_redirect", Text),  # a CLI's loopback URL to hand the token to (None: a page)
    Column("created", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Index("ix_oidc_logins_expires", "expires"),
)
