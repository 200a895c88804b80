"""notifications: an index by group key, for counting and sampling notification groups

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index a user's notifications by group key (the table is new in 0007: no rewrite)."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_user_id_group_key_id", ["user_id", "group_key", "id"], unique=False
        )


def downgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_group_key_id")
