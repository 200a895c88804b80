"""Password log-in for every door (web form, OAuth password grant), limited per account."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.errors import ChirpError
from chirp.ratelimit.deps import count_failed_login, failed_logins
from chirp.ratelimit.limiter import Verdict
from chirp.users import service as users_service
from chirp.users.models import User


class LoginLocked(ChirpError):
    """Too many failed passwords for this account: no password is checked until ``verdict``
    resets."""

    status = 429

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("Too many failed attempts; try again later.")
        self.verdict = verdict


def _account(login: str, user: User | None) -> str:
    # One key per account however it is spelt (name, @name, email, any case); a login that
    # names no account is keyed by its normal form, so probing unknown names is limited too.
    return f"user:{user.id}" if user is not None else f"login:{users_service.login_key(login)}"


async def log_in(
    request: Request, session: AsyncSession, *, login: str, password: str
) -> User | None:
    """Return the user these credentials name, or None; raise LoginLocked while the account
    has used up its window of failed attempts."""
    user = await users_service.find_for_login(session, login)
    account = _account(login, user)
    standing = await failed_logins(request, account)
    if not standing.allowed:
        raise LoginLocked(standing)
    if await users_service.password_matches(session, user, password):
        return user
    await count_failed_login(request, account)
    return None
