"""accounts: token expiry, account approval (four eyes), first-sign-in password change,
deactivation time

Revision ID: 0010_accounts
Revises: 0009

docs/decisions/0013-token-and-account-lifecycle.md. Tokens that exist before this
migration get ``expires_at`` = migration time + 90 days (not their creation + 90 days,
which would cut every integration off at deploy time without warning); from then on
``flask tokens create`` sets it from TOKEN_LIFETIME_DAYS. ``api_tokens`` is referenced by
no other table, so SQLite's batch copy for the NOT NULL change is safe.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010_accounts"
down_revision = "0010_privacy"
branch_labels = None
depends_on = None

GRACE = timedelta(days=90)


def upgrade():
    # Plain ADD COLUMN, not batch mode: SQLite's batch copy of ``users`` would drop a
    # table that every other table points to (see 0006).
    op.add_column(
        "users",
        sa.Column("is_pending_approval", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    expires = datetime.now(UTC) + GRACE
    if bind.dialect.name == "sqlite":
        expires = expires.replace(tzinfo=None)  # as caseapp.core.db.UTCDateTime stores it
    bind.execute(
        sa.text("UPDATE api_tokens SET expires_at = :expires WHERE expires_at IS NULL"),
        {"expires": expires},
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade():
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), again without copying ``users``
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("users", "must_change_password")
    op.drop_column("users", "deactivated_at")
    op.drop_column("users", "approved_at")
    op.drop_column("users", "is_pending_approval")
