"""Web login sessions: start, resolve and end them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import WebSession
from chirp.auth.tokens import digest, new_token
from chirp.db import utcnow
from chirp.streaming import access
from chirp.users.models import User

# The sessions page shows when a browser was last seen; writing it on every request would
# make every page a write, so it is written at most this often per session.
LAST_SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 255


async def start_session(
    session: AsyncSession,
    *,
    user: User,
    days: int,
    user_agent: str | None = None,
    ip: str | None = None,
) -> str:
    """Create a login session for ``user`` and return the cookie token."""
    token = new_token()
    now = utcnow()
    session.add(
        WebSession(
            token_hash=digest(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
            ip=ip,
            last_seen_at=now,
        )
    )
    await session.flush()
    return token


async def resolve(session: AsyncSession, token: str) -> tuple[User, WebSession] | None:
    """Return the user logged in by ``token`` and the session, or None when unknown or expired."""
    stmt = (
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == digest(token), WebSession.expires_at > utcnow())
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def user_for_session(session: AsyncSession, token: str) -> User | None:
    """Return the user logged in by ``token``, or None when it is unknown or expired."""
    found = await resolve(session, token)
    return None if found is None else found[0]


async def mark_seen(session: AsyncSession, web_session: WebSession, *, ip: str | None) -> bool:
    """Record that the session was just used (at most every few minutes); return if it wrote."""
    now = utcnow()
    if web_session.last_seen_at is not None and now - web_session.last_seen_at < LAST_SEEN_EVERY:
        return False
    await session.execute(
        update(WebSession)
        .where(WebSession.id == web_session.id)
        .values(last_seen_at=now, ip=ip)
        .execution_options(synchronize_session=False)
    )
    return True


async def end_session(session: AsyncSession, token: str) -> None:
    """Delete the login session behind ``token``."""
    ended = await session.execute(
        delete(WebSession)
        .where(WebSession.token_hash == digest(token))
        .returning(WebSession.user_id)
    )
    for user_id in ended.scalars():
        access.ended(session, user_id)
