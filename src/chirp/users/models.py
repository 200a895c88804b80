"""The user account table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow
from chirp.users.profile import Shown


class User(Shown, SnowflakePK, Base):
    """A person with an account; counters are kept in step with follows and posts."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased copies make uniqueness and look-ups case-insensitive on every database.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(50), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime | None] = mapped_column(default=None)
    posts_count: Mapped[int] = mapped_column(Integer, default=0)
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    # The visibility of a post made without one (CredentialAccount source.privacy).
    default_privacy: Mapped[str] = mapped_column(
        String(10), default="public", server_default="public"
    )
    # The language of a post made without one (source.language): ISO 639-1, or None.
    default_language: Mapped[str | None] = mapped_column(String(2), default=None)
    # The interface language asked for at sign-up (Mastodon's ``locale``), e.g. "en", "pt-BR".
    locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    # None until the address is confirmed (only asked for with CHIRP_REQUIRE_EMAIL_CONFIRMATION).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # A new address waiting for confirmation; ``email`` stays the old one until then (Mastodon).
    unconfirmed_email: Mapped[str | None] = mapped_column(String(254), default=None)
    # Set when the account is deleted: it is gone from every surface at once, its rows are
    # removed by jobs, and the row itself stays to keep the username reserved.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_users_last_active_at", "last_active_at"),
        Index("ix_users_created_at", "created_at"),
        # Finds the few accounts whose posts are merged at read time instead of fanned out.
        Index("ix_users_followers_count", "followers_count"),
    )
