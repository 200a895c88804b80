"""account lifecycle: email confirmation, account deletion, session details, account tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chirp.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add nullable columns (existing accounts count as confirmed) and the account_tokens table."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_confirmed_at", chirp.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("unconfirmed_email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("deleted_at", chirp.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Everyone who signed up before confirmation existed is taken as confirmed.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
        batch_op.add_column(
            sa.Column("last_seen_at", chirp.db.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_used_at", chirp.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "account_tokens",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("expires_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", chirp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_account_tokens_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_account_tokens_user_id")
    op.drop_table("account_tokens")
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("last_seen_at")
        batch_op.drop_column("ip")
        batch_op.drop_column("user_agent")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("unconfirmed_email")
        batch_op.drop_column("email_confirmed_at")
