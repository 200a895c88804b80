"""The conversation members table."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK

# Written as the badge's query writes it, so PostgreSQL sees that the index answers it.
_UNREAD = "unread IS TRUE AND hidden IS FALSE AND last_post_id IS NOT NULL"


class ConversationMember(SnowflakePK, Base):
    """``user`` takes part in a direct-message conversation; the id is Mastodon's
    Conversation id, as a conversation is listed per member.

    The conversation itself is only its id (``posts.conversation_id``); its participants
    are its members' rows.
    """

    __tablename__ = "conversation_members"

    conversation_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The newest message in it (the list's order and its ``last_status``).
    last_post_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    unread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Removed from this member's list; a new message brings it back.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("conversation_id", "user_id"),
        # A member's conversations, newest message first.
        Index("ix_conversation_members_user_id_last_post_id", "user_id", "last_post_id"),
        # The navigation's unread-messages badge: only the rows it counts.
        Index(
            "ix_conversation_members_unread",
            "user_id",
            postgresql_where=sql_text(
                "unread IS TRUE AND hidden IS FALSE AND last_post_id IS NOT NULL"
            ),
            sqlite_where=sql_text(
                "unread IS TRUE AND hidden IS FALSE AND last_post_id IS NOT NULL"
            ),
        ),
    )
