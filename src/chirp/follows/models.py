"""The follow relationship table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow


class Follow(SnowflakePK, Base):
    """``follower`` follows ``followee``; the id orders follower and following lists."""

    __tablename__ = "follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Mastodon's follow options: show the followee's reposts, notify of their posts.
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("follower_id", "followee_id"),
        # Followers of an account in id order: fan-out and follower lists. Carrying the
        # follower id makes fan-out batches index-only scans on PostgreSQL, instead of one
        # heap page read per follower.
        Index(
            "ix_follows_followee_id_id",
            "followee_id",
            "id",
            postgresql_include=["follower_id"],
        ),
        # Accounts a user follows, newest first: following lists and timeline rebuilds.
        Index("ix_follows_follower_id_id", "follower_id", "id"),
    )
