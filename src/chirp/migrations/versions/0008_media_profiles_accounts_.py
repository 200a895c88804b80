"""media, profiles, account lifecycle; the unread-messages index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNREAD = "unread IS TRUE AND hidden IS FALSE AND last_post_id IS NOT NULL"


def upgrade() -> None:
    """Add the index of unread conversations (built from a small table: no long lock)."""
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_members_unread",
            ["user_id"],
            unique=False,
            postgresql_where=sa.text(_UNREAD),
            sqlite_where=sa.text(_UNREAD),
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("conversation_members", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_conversation_members_unread",
            postgresql_where=sa.text(_UNREAD),
            sqlite_where=sa.text(_UNREAD),
        )
