"""replies, reposts, quotes, likes and emoji reactions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chirp.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial indexes: every existing post answers, shares and quotes nothing, so each index
# starts empty and its build is one read of the table, with nothing to sort.
_PARTIAL = {
    "ix_posts_in_reply_to_id_id": (["in_reply_to_id", "id"], "in_reply_to_id", False),
    "ux_posts_author_id_reblog_of_id": (["author_id", "reblog_of_id"], "reblog_of_id", True),
    "ix_posts_reblog_of_id_id": (["reblog_of_id", "id"], "reblog_of_id", False),
    "ix_posts_quote_of_id_id": (["quote_of_id", "id"], "quote_of_id", False),
}


def upgrade() -> None:
    """Add the new post columns (constant defaults: no table rewrite) and the new tables."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_reply_to_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("in_reply_to_account_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reblog_of_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("quote_of_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "quote_approval_policy",
                sa.String(length=10),
                server_default="public",
                nullable=False,
            )
        )
        for counter in ("replies_count", "reblogs_count", "favourites_count", "quotes_count"):
            batch_op.add_column(
                sa.Column(counter, sa.Integer(), server_default="0", nullable=False)
            )
        batch_op.create_foreign_key(
            "posts_reblog_of_id_fkey", "posts", ["reblog_of_id"], ["id"], ondelete="CASCADE"
        )
        for name, (columns, column, unique) in _PARTIAL.items():
            where = sa.text(f"{column} IS NOT NULL")
            batch_op.create_index(
                name, columns, unique=unique, postgresql_where=where, sqlite_where=where
            )
    op.create_table(
        "favourites",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "post_id"),
    )
    op.create_index("ix_favourites_user_id_id", "favourites", ["user_id", "id"])
    op.create_index("ix_favourites_post_id_id", "favourites", ["post_id", "id"])
    op.create_table(
        "reactions",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(length=32), nullable=False),
        sa.Column("created_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "emoji", "user_id"),
    )
    op.create_index("ix_reactions_user_id_post_id", "reactions", ["user_id", "post_id"])
    op.create_table(
        "reaction_counts",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_at", chirp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "emoji"),
    )


def downgrade() -> None:
    """Drop the new tables, indexes and columns."""
    op.drop_table("reaction_counts")
    op.drop_index("ix_reactions_user_id_post_id", table_name="reactions")
    op.drop_table("reactions")
    op.drop_index("ix_favourites_post_id_id", table_name="favourites")
    op.drop_index("ix_favourites_user_id_id", table_name="favourites")
    op.drop_table("favourites")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        for name in _PARTIAL:
            batch_op.drop_index(name)
        batch_op.drop_constraint("posts_reblog_of_id_fkey", type_="foreignkey")
        for column in (
            "quotes_count",
            "favourites_count",
            "reblogs_count",
            "replies_count",
            "quote_approval_policy",
            "quote_of_id",
            "reblog_of_id",
            "in_reply_to_account_id",
            "in_reply_to_id",
        ):
            batch_op.drop_column(column)
