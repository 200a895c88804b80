"""fan-out index carries the follower id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_follows_followee_id_id"


def upgrade() -> None:
    """Rebuild the followers index with the follower id included (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE; its index already serves the same queries
    op.drop_index(NAME, table_name="follows")
    op.create_index(NAME, "follows", ["followee_id", "id"], postgresql_include=["follower_id"])


def downgrade() -> None:
    """Rebuild the followers index without the included column."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="follows")
    op.create_index(NAME, "follows", ["followee_id", "id"])
