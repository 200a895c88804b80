"""Read positions (Mastodon's markers): the newest item a user has read in a timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import on_postgresql, utcnow
from chirp.markers.models import Marker

HOME = "home"
NOTIFICATIONS = "notifications"
TIMELINES = (HOME, NOTIFICATIONS)

_MARKERS = cast(Table, Marker.__table__)


async def get(session: AsyncSession, *, user_id: int, timelines: Sequence[str]) -> list[Marker]:
    """The user's markers of ``timelines`` that exist (names Chirp has no timeline for: none)."""
    wanted = [t for t in dict.fromkeys(timelines) if t in TIMELINES]
    if not wanted:
        return []
    stmt = (
        select(Marker)
        .where(Marker.user_id == user_id, Marker.timeline.in_(wanted))
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def save(
    session: AsyncSession, *, user_id: int, positions: Mapping[str, int]
) -> list[Marker]:
    """Set the user's markers (timeline → last read id); return them as stored."""
    await move(session, user_id=user_id, positions=positions)
    return await get(session, user_id=user_id, timelines=list(positions))


async def move(
    session: AsyncSession, *, user_id: int, positions: Mapping[str, int], forward_only: bool = False
) -> None:
    """Set the user's markers (timeline → last read id), one upsert each.

    A marker that moves counts one more ``version``; one set to where it was stays as it was
    (as Mastodon's optimistic lock). ``forward_only``: never move a marker back (a page
    marking what it shows as read must not undo a client that read further).
    """
    dialect: Any = postgresql if on_postgresql(session) else sqlite
    for timeline, last_read_id in positions.items():
        now = utcnow()
        stmt = dialect.insert(_MARKERS).values(
            user_id=user_id, timeline=timeline, last_read_id=last_read_id, version=0, updated_at=now
        )
        moves = _MARKERS.c.last_read_id != stmt.excluded.last_read_id
        if forward_only:
            moves = _MARKERS.c.last_read_id < stmt.excluded.last_read_id
        # One statement: two clients saving at once both count, and neither overwrites a
        # version the other wrote.
        stmt = stmt.on_conflict_do_update(
            index_elements=[_MARKERS.c.user_id, _MARKERS.c.timeline],
            set_={
                "last_read_id": stmt.excluded.last_read_id,
                "version": _MARKERS.c.version + 1,
                "updated_at": stmt.excluded.updated_at,
            },
            where=moves,
        )
        await session.execute(stmt)


def last_read_query(user_id: int, timeline: str) -> Any:
    """A scalar subquery: the user's last read id in ``timeline`` (NULL when never set)."""
    return (
        select(Marker.last_read_id)
        .where(Marker.user_id == user_id, Marker.timeline == timeline)
        .scalar_subquery()
    )


async def last_read(session: AsyncSession, *, user_id: int, timeline: str) -> int | None:
    """The user's last read id in ``timeline``, if they saved one."""
    stmt = select(Marker.last_read_id).where(Marker.user_id == user_id, Marker.timeline == timeline)
    return (await session.execute(stmt)).scalar_one_or_none()
