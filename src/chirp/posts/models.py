"""Post and idempotency-key tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chirp.db import Base, SnowflakePK, utcnow
from chirp.users.models import User
from chirp.users.profile import Profile


class Post(SnowflakePK, Base):
    """A short message; its id is time-ordered, so ordering by id is ordering by time."""

    __tablename__ = "posts"

    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Which OAuth app wrote it (Mastodon shows it); None for the web UI.
    app_name: Mapped[str | None] = mapped_column(String(100), default=None)
    # Who may see it: "public", "unlisted" or "private" (followers only); see visibility.py.
    visibility: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    # A content warning: when set, the text is shown only after "Show more".
    spoiler_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # ISO 639-1 code of the text's language, or None when unknown.
    language: Mapped[str | None] = mapped_column(String(2), default=None)
    # The post this one answers, and its author. No foreign key: a reply outlives the post
    # it answers, and its thread shows where that post stood.
    in_reply_to_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    in_reply_to_account_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # A repost: the post it shares (its own text is empty); it goes when the original goes.
    reblog_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), default=None
    )
    # A quote post: the post shown inside it. No foreign key: a quote whose original is
    # deleted stays, and shows the original as removed.
    quote_of_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Who may quote this post: "public", "followers" or "nobody" (Mastodon 4.5).
    quote_approval_policy: Mapped[str] = mapped_column(
        String(10), default="public", server_default="public"
    )
    # Counters moved in SQL by each reply, repost, like and quote, never counted on read.
    replies_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    favourites_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quotes_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The local accounts the text mentions, as ``[id, username]`` pairs in order of first
    # mention, resolved when written (a name that was nobody's then stays text); shown with
    # the post without a join. None when it mentions nobody.
    mentions: Mapped[list[list[Any]] | None] = mapped_column(JSON, default=None)
    # A direct message's conversation, shared by the direct replies in it; None otherwise.
    conversation_id: Mapped[int | None] = mapped_column(BigInteger, default=None)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        Index("ix_posts_author_id_id", "author_id", "id"),
        # The public timeline reads only public posts, newest first: a partial index keeps
        # that an index range read however many unlisted or private posts lie between.
        Index(
            "ix_posts_public_id",
            "id",
            postgresql_where=sql_text("visibility = 'public'"),
            sqlite_where=sql_text("visibility = 'public'"),
        ),
        # Replies to a post, oldest first: threads. Partial, like the three below: most posts
        # answer, share and quote nothing, and those stay out of these indexes.
        Index(
            "ix_posts_in_reply_to_id_id",
            "in_reply_to_id",
            "id",
            postgresql_where=sql_text("in_reply_to_id IS NOT NULL"),
            sqlite_where=sql_text("in_reply_to_id IS NOT NULL"),
        ),
        # One repost of a post per account (and whether the reader reposted it).
        Index(
            "ux_posts_author_id_reblog_of_id",
            "author_id",
            "reblog_of_id",
            unique=True,
            postgresql_where=sql_text("reblog_of_id IS NOT NULL"),
            sqlite_where=sql_text("reblog_of_id IS NOT NULL"),
        ),
        # Who reposted a post, newest first.
        Index(
            "ix_posts_reblog_of_id_id",
            "reblog_of_id",
            "id",
            postgresql_where=sql_text("reblog_of_id IS NOT NULL"),
            sqlite_where=sql_text("reblog_of_id IS NOT NULL"),
        ),
        # The quotes of a post, newest first.
        Index(
            "ix_posts_quote_of_id_id",
            "quote_of_id",
            "id",
            postgresql_where=sql_text("quote_of_id IS NOT NULL"),
            sqlite_where=sql_text("quote_of_id IS NOT NULL"),
        ),
        # A conversation's direct messages (only they have one).
        Index(
            "ix_posts_conversation_id_id",
            "conversation_id",
            "id",
            postgresql_where=sql_text("conversation_id IS NOT NULL"),
            sqlite_where=sql_text("conversation_id IS NOT NULL"),
        ),
    )


class PostView(Protocol):
    """What showing a post needs: a ``Post`` row, or a post rebuilt from a cache."""

    @property
    def id(self) -> int: ...

    @property
    def author_id(self) -> int: ...

    @property
    def author(self) -> Profile: ...

    @property
    def text(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def app_name(self) -> str | None: ...

    @property
    def visibility(self) -> str: ...

    @property
    def spoiler_text(self) -> str: ...

    @property
    def sensitive(self) -> bool: ...

    @property
    def language(self) -> str | None: ...

    @property
    def in_reply_to_id(self) -> int | None: ...

    @property
    def in_reply_to_account_id(self) -> int | None: ...

    @property
    def reblog_of_id(self) -> int | None: ...

    @property
    def quote_of_id(self) -> int | None: ...

    @property
    def quote_approval_policy(self) -> str: ...

    @property
    def mentions(self) -> list[list[Any]] | None: ...

    @property
    def conversation_id(self) -> int | None: ...


class Mention(Base):
    """``post`` mentions ``user`` (by ``@username``): who a direct message is for, and whom
    a mention notifies."""

    __tablename__ = "mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    # The posts that mention a user, newest first.
    __table_args__ = (Index("ix_mentions_user_id_post_id", "user_id", "post_id"),)


class IdempotencyKey(SnowflakePK, Base):
    """Remembers which post an ``Idempotency-Key`` produced, so a retry returns it."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key"),)
