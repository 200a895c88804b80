"""One-time links sent by mail: a random token in the link, only its hash stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import AccountToken
from chirp.auth.tokens import digest, new_token
from chirp.db import utcnow
from chirp.errors import ChirpError

RESET = "password_reset"
CONFIRM = "confirm_email"
LIFETIMES = {RESET: timedelta(hours=1), CONFIRM: timedelta(days=2)}


class InvalidLink(ChirpError):
    """The link is unknown, used already or expired."""

    status = 404

    def __init__(self) -> None:
        super().__init__("This link is invalid or has expired.")


async def issue(session: AsyncSession, *, user_id: int, kind: str, email: str | None = None) -> str:
    """Record a new link of ``kind`` for a user and return its secret (for the mail only)."""
    token = new_token()
    now = utcnow()
    # Links used or expired are of no more use: each new one sweeps the account's old ones.
    await session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user_id,
            AccountToken.kind == kind,
            or_(AccountToken.used_at.is_not(None), AccountToken.expires_at <= now),
        )
    )
    session.add(
        AccountToken(
            user_id=user_id,
            kind=kind,
            token_hash=digest(token),
            email=email,
            expires_at=now + LIFETIMES[kind],
            created_at=now,
        )
    )
    await session.flush()
    return token


async def redeem(session: AsyncSession, *, token: str, kind: str) -> AccountToken:
    """Mark a live link used and return it; raise InvalidLink if unknown, used or expired."""
    found = await peek(session, token=token, kind=kind)
    # Used once: the UPDATE only succeeds while it is unused, so two clicks race safely.
    result = await session.execute(
        update(AccountToken)
        .where(AccountToken.id == found.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidLink()
    return found


async def peek(session: AsyncSession, *, token: str, kind: str) -> AccountToken:
    """Return a live link without using it; raise InvalidLink if unknown, used or expired."""
    stmt = select(AccountToken).where(
        AccountToken.token_hash == digest(token),
        AccountToken.kind == kind,
        AccountToken.used_at.is_(None),
        AccountToken.expires_at > utcnow(),
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise InvalidLink()
    return found
