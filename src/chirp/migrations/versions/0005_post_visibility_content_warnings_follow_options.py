"""post visibility, content warnings, languages and follow options

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC_ONLY = sa.text("visibility = 'public'")


def upgrade() -> None:
    """Add the new columns with server defaults, so every existing row stays valid."""
    # Existing posts were all shown publicly, existing follows showed reposts: the defaults
    # keep them as they were. On PostgreSQL 11+ a column with a constant default is added
    # without rewriting the table.
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=10), server_default="public", nullable=False)
        )
        batch_op.add_column(sa.Column("spoiler_text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("sensitive", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
        batch_op.create_index(
            "ix_posts_public_id",
            ["id"],
            unique=False,
            postgresql_where=PUBLIC_ONLY,
            sqlite_where=PUBLIC_ONLY,
        )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_reblogs", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("notify", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "default_privacy", sa.String(length=10), server_default="public", nullable=False
            )
        )
        batch_op.add_column(sa.Column("default_language", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("locale", sa.String(length=16), server_default="en", nullable=False)
        )


def downgrade() -> None:
    """Drop the new columns and index."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")
        batch_op.drop_column("default_language")
        batch_op.drop_column("default_privacy")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_column("notify")
        batch_op.drop_column("show_reblogs")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_public_id")
        batch_op.drop_column("language")
        batch_op.drop_column("sensitive")
        batch_op.drop_column("spoiler_text")
        batch_op.drop_column("visibility")
