"""Emoji reactions, and their counts per post."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow

# The longest emoji (a ZWJ family with skin tones) is well under this many characters.
MAX_EMOJI_LENGTH = 32


class Reaction(SnowflakePK, Base):
    """``user`` reacted to ``post`` with ``emoji`` (one of each emoji per user and post)."""

    __tablename__ = "reactions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(MAX_EMOJI_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Who reacted with an emoji, in order; also one of each per user and post.
        UniqueConstraint("post_id", "emoji", "user_id"),
        Index("ix_reactions_user_id_post_id", "user_id", "post_id"),
    )


class ReactionCount(Base):
    """How many users reacted to ``post`` with ``emoji``: moved in SQL, never counted on read."""

    __tablename__ = "reaction_counts"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    emoji: Mapped[str] = mapped_column(String(MAX_EMOJI_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the first reaction with this emoji came: emoji are shown in that order.
    first_at: Mapped[datetime] = mapped_column(default=utcnow)
