"""Post and idempotency-key tables."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
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


class IdempotencyKey(SnowflakePK, Base):
    """Remembers which post an ``Idempotency-Key`` produced, so a retry returns it."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "key"),)
