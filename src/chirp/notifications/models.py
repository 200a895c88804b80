"""The notifications table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow


class Notification(SnowflakePK, Base):
    """``user`` is told that ``from_account`` did something (``type``), to ``post`` if any.

    Types as Mastodon names them: ``mention`` (a mention or a reply), ``follow``,
    ``favourite``, ``reblog``, ``quote``, and ``pleroma:emoji_reaction`` with its ``emoji``.
    """

    __tablename__ = "notifications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(32))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The post liked, reposted or reacted to; the post that mentions, answers or quotes.
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), default=None
    )
    # ``post_id`` or 0: part of the key that makes one act one notification (a unique key
    # over a nullable column would let follows repeat, as NULLs never clash).
    target_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    emoji: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # Notifications with the same key are shown as one ("Ana and 3 others liked your post").
    group_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Like, unlike, like again: one notification.
        UniqueConstraint(
            "user_id", "type", "from_account_id", "target_id", "emoji", name="uq_notifications_act"
        ),
        # A user's notifications, newest first.
        Index("ix_notifications_user_id_id", "user_id", "id"),
        # A group's size, newest members and page bounds (grouped notifications).
        Index("ix_notifications_user_id_group_key_id", "user_id", "group_key", "id"),
        # Deleting a post or an account removes its notifications through these.
        Index(
            "ix_notifications_post_id",
            "post_id",
            postgresql_where=sql_text("post_id IS NOT NULL"),
            sqlite_where=sql_text("post_id IS NOT NULL"),
        ),
        Index("ix_notifications_from_account_id", "from_account_id"),
    )
