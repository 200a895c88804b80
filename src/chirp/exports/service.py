"""Requesting, reading and expiring data archives; the job that builds them is ``jobs``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.db import utcnow
from chirp.errors import ChirpError, NotFound
from chirp.exports import storage
from chirp.exports.models import DONE, FAILED, UNFINISHED, Export
from chirp.jobs import kinds, queue
from chirp.users.models import User

# One archive a day, as Mastodon allows, and each kept a week.
MIN_INTERVAL = timedelta(days=1)
KEEP = timedelta(days=7)


class ExportInProgress(ChirpError):
    """An archive is being made already: one at a time."""

    status = 409

    def __init__(self) -> None:
        super().__init__(
            "Your archive is already being prepared: it will be ready to download here soon."
        )


class ExportTooSoon(ChirpError):
    """The last archive was asked for less than a day ago."""

    status = 429

    def __init__(self, next_at: datetime) -> None:
        self.next_at = next_at
        super().__init__(
            "You can ask for one archive a day: the next one from "
            f"{next_at:%Y-%m-%d %H:%M} UTC. Your last one can still be downloaded below."
        )

    @property
    def retry_after(self) -> int:
        """Seconds until another archive may be asked for."""
        return max(1, int((self.next_at - utcnow()).total_seconds()) + 1)


async def latest(session: AsyncSession, *, user_id: int) -> Export | None:
    """The user's most recent archive, finished or not."""
    stmt = (
        select(Export)
        .where(Export.user_id == user_id)
        .order_by(Export.created_at.desc(), Export.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def next_allowed(export: Export | None) -> datetime | None:
    """When the user may ask for another archive, if not now."""
    if export is None or export.status == FAILED:
        return None
    at = export.created_at + MIN_INTERVAL
    return at if at > utcnow() else None


async def request(session: AsyncSession, *, user: User) -> Export:
    """Queue a new archive of the user's data; refuse one in progress or within a day."""
    last = await latest(session, user_id=user.id)
    if last is not None and last.status in UNFINISHED:
        raise ExportInProgress()
    next_at = next_allowed(last)
    if next_at is not None:
        raise ExportTooSoon(next_at)
    export = Export(user_id=user.id)
    session.add(export)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        # Two requests raced: the partial unique index let one through.
        raise ExportInProgress() from exc
    await queue.enqueue(session, kinds.EXPORT_BUILD, {"export_id": str(export.id)})
    return export


async def downloadable(session: AsyncSession, *, user: User, export_id: int) -> Export:
    """The user's own finished archive; anyone else's, or an unfinished one, is NotFound."""
    export = await session.get(Export, export_id)
    if export is None or export.user_id != user.id or export.status != DONE or not export.key:
        raise NotFound("There is no such archive (archives are kept for a week).")
    return export


async def delete_for_user(session: AsyncSession, settings: Settings, *, user_id: int) -> int:
    """Delete every archive of a user, files first (for account deletion); return how many.

    The rows would go with the account (ON DELETE CASCADE); the files would not.
    """
    keys = (
        (await session.execute(select(Export.id).where(Export.user_id == user_id))).scalars().all()
    )
    for export_id in keys:
        await storage.delete(settings, storage.key_for(export_id))
    await session.execute(delete(Export).where(Export.user_id == user_id))
    return len(keys)
