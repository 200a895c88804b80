"""Web login sessions, stored server-side so logout really ends them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from chirp.db import Base, SnowflakePK, utcnow


class WebSession(SnowflakePK, Base):
    """A browser's login; the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Shown on the sessions page; last_seen_at is written at most every few minutes.
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)


class AccountToken(SnowflakePK, Base):
    """A one-time link sent by mail (password reset, email confirmation); only its hash kept."""

    __tablename__ = "account_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address a confirmation link confirms (a change of email waits for it).
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_account_tokens_user_id", "user_id"),)
