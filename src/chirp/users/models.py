"""The user account table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false
from sqlalchemy import text as sql_text
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
    # Uploaded profile images: their storage keys (``chirp.media``), None when none is set.
    avatar_key: Mapped[str | None] = mapped_column(String(100), default=None)
    header_key: Mapped[str | None] = mapped_column(String(100), default=None)
    # Profile fields (Mastodon's ``fields``): up to four ``{"name", "value"}`` pairs, as typed.
    fields: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, default=None)
    # The local accounts the bio mentioned when it was saved, as ``[id, username]`` pairs (as
    # ``posts.mentions``): only those ``@names`` are linked. None when it mentions nobody.
    bio_mentions: Mapped[list[list[Any]] | None] = mapped_column(JSON, default=None)
    # Follows need approval (Mastodon's ``locked``). Stored and shown; follow requests are not
    # built yet, so follows still take effect at once.
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # New media is marked sensitive unless said otherwise (CredentialAccount source.sensitive).
    default_sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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
        # Whether an image file is still someone's avatar or header (before deleting it).
        Index(
            "ix_users_avatar_key",
            "avatar_key",
            postgresql_where=sql_text("avatar_key IS NOT NULL"),
            sqlite_where=sql_text("avatar_key IS NOT NULL"),
        ),
        Index(
            "ix_users_header_key",
            "header_key",
            postgresql_where=sql_text("header_key IS NOT NULL"),
            sqlite_where=sql_text("header_key IS NOT NULL"),
        ),
    )
