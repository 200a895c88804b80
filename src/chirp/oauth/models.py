"""OAuth application, authorisation-code and token tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chirp.db import Base, SnowflakePK, utcnow


class OAuthApp(SnowflakePK, Base):
    """A client application registered through ``POST /api/v1/apps``."""

    __tablename__ = "oauth_apps"

    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(500), default=None)
    redirect_uris: Mapped[str] = mapped_column(Text)  # newline-separated
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def redirect_uri_list(self) -> list[str]:
        """Registered redirect URIs."""
        return [u for u in self.redirect_uris.split("\n") if u]


class OAuthCode(SnowflakePK, Base):
    """A one-time authorisation code waiting to be exchanged for a token."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    expires_at: Mapped[datetime]


class OAuthToken(SnowflakePK, Base):
    """A bearer token; only its SHA-256 is stored. ``user_id`` is None for app-only tokens."""

    __tablename__ = "oauth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Shown on the authorised apps page; written at most every few minutes.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    app: Mapped[OAuthApp] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (Index("ix_oauth_tokens_user_id", "user_id"),)
