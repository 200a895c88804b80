"""profile fields, locked and sensitive-media flags, data exports

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00
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


def upgrade() -> None:
    """Add four users columns (nullable or with a default: no table rewrite) and exports."""
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


def downgrade() -> None:
    """Drop exports and the new users columns."""
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
