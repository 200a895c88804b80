"""The exports table: one row per requested archive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
# Still being made: a user has at most one of these at a time (the partial unique index).
UNFINISHED = (PENDING, RUNNING)


class Export(SnowflakePK, Base):
    """An archive of one user's data, from request to the file a download serves."""

    __tablename__ = "exports"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Percent of the rows written so far (0-100).
    progress: Mapped[int] = mapped_column(Integer, default=0)
    # Where the finished archive is kept (``exports.storage``); None until it is.
    key: Mapped[str | None] = mapped_column(String(255), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_exports_user_id_created_at", "user_id", "created_at"),
        # One archive in the making per user, whatever requests race (both databases).
        Index(
            "uq_exports_user_id_unfinished",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'running')"),
            sqlite_where=text("status IN ('pending', 'running')"),
        ),
    )
