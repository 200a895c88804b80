"""The likes table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow


class Favourite(SnowflakePK, Base):
    """``user`` likes ``post``; the id orders a user's likes and a post's likers, newest first."""

    __tablename__ = "favourites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # One like per user and post.
        UniqueConstraint("user_id", "post_id"),
        # A user's likes, and a post's likers, newest first.
        Index("ix_favourites_user_id_id", "user_id", "id"),
        Index("ix_favourites_post_id_id", "post_id", "id"),
    )
