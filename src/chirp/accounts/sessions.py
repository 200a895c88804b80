"""A user's web sessions and authorised apps: list them, revoke one, or all but the current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.auth.models import WebSession
from chirp.db import utcnow
from chirp.errors import NotFound
from chirp.oauth.models import OAuthApp, OAuthCode, OAuthToken
from chirp.streaming import access


@dataclass(frozen=True)
class AuthorisedApp:
    """An app holding live tokens for a user, with its tokens summed up."""

    app_id: int
    name: str
    website: str | None
    scopes: list[str]
    authorised_at: datetime
    last_used_at: datetime | None


async def web_sessions(session: AsyncSession, *, user_id: int) -> list[WebSession]:
    """The user's live web sessions, most recently seen first."""
    stmt = (
        select(WebSession)
        .where(WebSession.user_id == user_id, WebSession.expires_at > utcnow())
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def end_session(session: AsyncSession, *, user_id: int, session_id: int) -> None:
    """End one of the user's web sessions; raise NotFound if it is not theirs."""
    result = await session.execute(
        delete(WebSession).where(WebSession.id == session_id, WebSession.user_id == user_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("There is no such session.")
    access.ended(session, user_id)


async def end_sessions(session: AsyncSession, *, user_id: int, keep: int | None = None) -> int:
    """End every web session of the user but ``keep``; return how many ended."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    result = await session.execute(stmt)
    access.ended(session, user_id)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def revoke_tokens(
    session: AsyncSession, *, user_id: int, keep: int | None = None, app_id: int | None = None
) -> int:
    """Revoke the user's live OAuth tokens (one app's, or all but ``keep``) and their pending
    authorisation codes; return how many tokens."""
    stmt = update(OAuthToken).where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
    codes = delete(OAuthCode).where(OAuthCode.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(OAuthToken.id != keep)
    if app_id is not None:
        stmt = stmt.where(OAuthToken.app_id == app_id)
        codes = codes.where(OAuthCode.app_id == app_id)
    result = await session.execute(
        stmt.values(revoked_at=utcnow()).execution_options(synchronize_session=False)
    )
    await session.execute(codes)
    access.ended(session, user_id)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def authorised_apps(session: AsyncSession, *, user_id: int) -> list[AuthorisedApp]:
    """The apps holding live tokens for the user, most recently authorised first."""
    stmt = (
        select(OAuthApp, OAuthToken.scopes, OAuthToken.created_at, OAuthToken.last_used_at)
        .join(OAuthToken, OAuthToken.app_id == OAuthApp.id)
        .where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
        .order_by(OAuthToken.created_at)
    )
    apps: dict[int, AuthorisedApp] = {}
    for app, scopes, created_at, last_used_at in (await session.execute(stmt)).all():
        known = apps.get(app.id)
        granted = sorted({*scopes.split(), *(known.scopes if known else [])})
        used = [t for t in (last_used_at, known.last_used_at if known else None) if t]
        apps[app.id] = AuthorisedApp(
            app_id=app.id,
            name=app.name,
            website=app.website,
            scopes=granted,
            authorised_at=created_at,
            last_used_at=max(used) if used else None,
        )
    return sorted(apps.values(), key=lambda a: a.authorised_at, reverse=True)


async def revoke_app(session: AsyncSession, *, user_id: int, app_id: int) -> None:
    """Revoke every token an app holds for the user; raise NotFound if it holds none."""
    if not await revoke_tokens(session, user_id=user_id, app_id=app_id):
        raise NotFound("This app has no access to your account.")
