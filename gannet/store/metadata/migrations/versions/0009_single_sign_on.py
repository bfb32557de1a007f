"""Single sign-on (OpenID Connect): logins under way, and where roles came from.

``oidc_logins`` keeps each login's state, nonce and PKCE verifier between the redirect to
the identity provider and its callback (which may reach another replica). ``source`` on
``project_members`` and ``user_roles`` tells a membership or role given by hand
(``manual``: everything before this revision) from one that single sign-on manages
(``sso``: replaced at each of the user's logins from their groups).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_logins",
        sa.Column("state_sha256", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("client_redirect", sa.Text),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("expires", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("state_sha256", name="pk_oidc_logins"),
    )
    op.create_index("ix_oidc_logins_expires", "oidc_logins", ["expires"])
    for table in ("project_members", "user_roles"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source", sa.String(10), nullable=False,
                                       server_default="manual"))
