"""conversations: index posts by conversation (a conversation's direct messages)

Revision ID: 0008_conversations
Revises: 0007
Create Date: 2026-12-02 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_conversations"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A partial index: only direct messages have a conversation, so it stays small."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_conversation_id_id",
            ["conversation_id", "id"],
            unique=False,
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
        )


def downgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_posts_conversation_id_id",
            postgresql_where=sa.text("conversation_id IS NOT NULL"),
            sqlite_where=sa.text("conversation_id IS NOT NULL"),
        )
