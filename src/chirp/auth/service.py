"""Web login sessions: start, resolve and end them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import WebSession
from chirp.auth.tokens import digest, new_token
from chirp.db import utcnow
from chirp.users.models import User


async def start_session(session: AsyncSession, *, user: User, days: int) -> str:
    """Create a login session for ``user`` and return the cookie token."""
    token = new_token()
    session.add(
        WebSession(
            token_hash=digest(token), user_id=user.id, expires_at=utcnow() + timedelta(days=days)
        )
    )
    await session.flush()
    return token


async def user_for_session(session: AsyncSession, token: str) -> User | None:
    """Return the user logged in by ``token``, or None when it is unknown or expired."""
    stmt = (
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == digest(token), WebSession.expires_at > utcnow())
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def end_session(session: AsyncSession, token: str) -> None:
    """Delete the login session behind ``token``."""
    await session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))
