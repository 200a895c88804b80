"""mentions, hashtags, notifications, markers, direct-message conversations

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chirp.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the new tables (empty) and two nullable post columns (no table rewrite)."""
    op.create_table(
        "tags",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name_key", name=op.f("uq_tags_name_key")),
    )
    op.create_table(
        "conversation_members",
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("last_post_id", sa.BigInteger(), nullable=True),
        sa.Column("unread", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_members")),
        sa.UniqueConstraint(
            "conversation_id",
            "user_id",
            name=op.f("uq_conversation_members_conversation_id_user_id"),
        ),
    )
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_members_user_id_last_post_id",
            ["user_id", "last_post_id"],
            unique=False,
        )

    op.create_table(
        "markers",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("timeline", sa.String(length=16), nullable=False),
        sa.Column("last_read_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_markers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "timeline", name=op.f("pk_markers")),
    )
    op.create_table(
        "mentions",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_mentions_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mentions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_mentions")),
    )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_user_id_post_id", ["user_id", "post_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("from_account_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("target_id", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("emoji", sa.String(length=32), server_default="", nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["users.id"],
            name=op.f("fk_notifications_from_account_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_notifications_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "user_id", "type", "from_account_id", "target_id", "emoji", name="uq_notifications_act"
        ),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_from_account_id", ["from_account_id"], unique=False)
        batch_op.create_index(
            "ix_notifications_post_id",
            ["post_id"],
            unique=False,
            postgresql_where=sa.text("post_id IS NOT NULL"),
            sqlite_where=sa.text("post_id IS NOT NULL"),
        )
        batch_op.create_index("ix_notifications_user_id_id", ["user_id", "id"], unique=False)
        # A group's size and newest members, without reading every notification of the user.
        batch_op.create_index(
            "ix_notifications_user_id_group_key_id", ["user_id", "group_key", "id"], unique=False
        )

    op.create_table(
        "post_tags",
        sa.Column("tag_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_tags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_post_tags_tag_id_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tag_id", "post_id", name=op.f("pk_post_tags")),
    )
    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.create_index("ix_post_tags_post_id", ["post_id"], unique=False)

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("conversation_id", sa.BigInteger(), nullable=True))
        # Partial: only direct messages have a conversation, so it starts empty and stays small
        # (its build is one read of the table, with nothing to sort).
        batch_op.create_index(
            "ix_posts_conversation_id_id",
            ["conversation_id", "id"],
            unique=False,
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
        )


def downgrade() -> None:
    """Drop the new tables and columns."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_posts_conversation_id_id",
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
        )
        batch_op.drop_column("conversation_id")
        batch_op.drop_column("mentions")

    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_post_tags_post_id")

    op.drop_table("post_tags")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_group_key_id")
        batch_op.drop_index("ix_notifications_user_id_id")
        batch_op.drop_index(
            "ix_notifications_post_id",
            postgresql_where=sa.text("post_id IS NOT NULL"),
            sqlite_where=sa.text("post_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_notifications_from_account_id")

    op.drop_table("notifications")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_user_id_post_id")

    op.drop_table("mentions")
    op.drop_table("markers")
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_members_user_id_last_post_id")

    op.drop_table("conversation_members")
    op.drop_table("tags")
