"""media attachments, avatars and headers, profiles, account lifecycle, unread messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chirp.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = "status IN ('pending', 'running')"
_UNREAD = "unread IS TRUE AND hidden IS FALSE AND last_post_id IS NOT NULL"


def upgrade() -> None:
    """Add the new tables (empty), nullable or defaulted columns (no table rewrite), indexes."""
    _add_media()
    _add_profiles()
    _add_accounts()
    _add_unread_index()


def downgrade() -> None:
    """Drop what upgrade added."""
    _drop_unread_index()
    _drop_accounts()
    _drop_profiles()
    _drop_media()


def _add_media() -> None:
    op.create_table(
        "media_attachments",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("focus_x", sa.Float(), nullable=False),
        sa.Column("focus_y", sa.Float(), nullable=False),
        sa.Column("blurhash", sa.String(length=100), nullable=True),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("original_key", sa.String(length=100), nullable=False),
        sa.Column("original_width", sa.Integer(), nullable=False),
        sa.Column("original_height", sa.Integer(), nullable=False),
        sa.Column("original_size", sa.BigInteger(), nullable=False),
        sa.Column("small_key", sa.String(length=100), nullable=False),
        sa.Column("small_width", sa.Integer(), nullable=False),
        sa.Column("small_height", sa.Integer(), nullable=False),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["users.id"],
            name=op.f("fk_media_attachments_account_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_media_attachments_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
    )
    with op.batch_alter_table("media_attachments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_media_attachments_post_id_position",
            ["post_id", "position"],
            unique=False,
            postgresql_where=sa.text("post_id IS NOT NULL"),
            sqlite_where=sa.text("post_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_media_attachments_unattached_created_at",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text("post_id IS NULL"),
            sqlite_where=sa.text("post_id IS NULL"),
        )
        batch_op.create_index("ix_media_attachments_original_key", ["original_key"], unique=False)
        batch_op.create_index("ix_media_attachments_small_key", ["small_key"], unique=False)
        batch_op.create_index(
            "ix_media_attachments_account_id_id", ["account_id", "id"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar_key", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("header_key", sa.String(length=100), nullable=True))
        batch_op.create_index(
            "ix_users_avatar_key",
            ["avatar_key"],
            unique=False,
            postgresql_where=sa.text("avatar_key IS NOT NULL"),
            sqlite_where=sa.text("avatar_key IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_users_header_key",
            ["header_key"],
            unique=False,
            postgresql_where=sa.text("header_key IS NOT NULL"),
            sqlite_where=sa.text("header_key IS NOT NULL"),
        )


def _drop_media() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_header_key")
        batch_op.drop_index("ix_users_avatar_key")
        batch_op.drop_column("header_key")
        batch_op.drop_column("avatar_key")
    op.drop_table("media_attachments")


def _add_profiles() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases. A batch operation would rebuild the
    # users table on SQLite (for the false() defaults), and dropping the old table there
    # deletes every row that refers to a user (ON DELETE CASCADE).
    op.add_column("users", sa.Column("fields", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("bio_mentions", sa.JSON(), nullable=True))
    op.add_column(
        "users", sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "users",
        sa.Column("default_sensitive", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    op.create_table(
        "exports",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", chirp.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_exports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exports_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_exports_user_id_unfinished",
            ["user_id"],
            unique=True,
            postgresql_where=sa.text(_UNFINISHED),
            sqlite_where=sa.text(_UNFINISHED),
        )


def _drop_profiles() -> None:
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_exports_user_id_unfinished",
            postgresql_where=sa.text(_UNFINISHED),
            sqlite_where=sa.text(_UNFINISHED),
        )
        batch_op.drop_index("ix_exports_user_id_created_at")

    op.drop_table("exports")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("default_sensitive")
        batch_op.drop_column("locked")
        batch_op.drop_column("bio_mentions")
        batch_op.drop_column("fields")


def _add_accounts() -> None:
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


def _drop_accounts() -> None:
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


def _add_unread_index() -> None:
    # Built from a small table: no long lock.
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_members_unread",
            ["user_id"],
            unique=False,
            postgresql_where=sa.text(_UNREAD),
            sqlite_where=sa.text(_UNREAD),
        )


def _drop_unread_index() -> None:
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_conversation_members_unread",
            postgresql_where=sa.text(_UNREAD),
            sqlite_where=sa.text(_UNREAD),
        )
