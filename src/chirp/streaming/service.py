"""What streams read from the database: whom a reader follows, who may get a post."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow


async def followed_ids(session: AsyncSession, *, user_ids: Collection[int]) -> dict[int, set[int]]:
    """Whom each of ``user_ids`` follows, in one query (read when their streams open)."""
    following: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    if not following:
        return following
    stmt = select(Follow.follower_id, Follow.followee_id).where(
        Follow.follower_id.in_(list(following))
    )
    for follower_id, followee_id in (await session.execute(stmt)).all():
        following[follower_id].add(followee_id)
    return following


async def followers_among(
    session: AsyncSession, *, author_id: int, candidates: Collection[int], reblogs: bool
) -> set[int]:
    """Which ``candidates`` follow ``author_id`` now (and see their reposts, for a repost).

    Streams keep whom their readers follow, kept current by follow events; this reads the
    truth once per event for those it would reach, so an unfollow or ``reblogs=false`` just
    made is honoured even before its event arrives.
    """
    if not candidates:
        return set()
    stmt = select(Follow.follower_id).where(
        Follow.followee_id == author_id, Follow.follower_id.in_(list(candidates))
    )
    if reblogs:
        stmt = stmt.where(Follow.show_reblogs == true())
    return set((await session.execute(stmt)).scalars())
