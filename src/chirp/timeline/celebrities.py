"""Accounts with so many followers that their posts are merged at read time, not fanned out."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows.models import Follow
from chirp.pagination import Cursor
from chirp.posts.models import Post
from chirp.users.models import User


class CelebrityCache:
    """The ids of accounts over the fan-out threshold, re-read every ``ttl`` seconds.

    There are few such accounts, so one small indexed query refreshes the list; each reader
    then only checks which of them they follow. An account crossing the threshold is seen
    within ``ttl`` seconds.
    """

    def __init__(self, threshold: int, *, ttl: float = 30.0) -> None:
        self.threshold = threshold
        self.ttl = ttl
        self._ids: list[int] = []
        self._expires = 0.0

    async def all(self, session: AsyncSession) -> list[int]:
        """Every account with more followers than the threshold."""
        if time.monotonic() >= self._expires:
            stmt = select(User.id).where(User.followers_count > self.threshold)
            self._ids = list((await session.execute(stmt)).scalars())
            self._expires = time.monotonic() + self.ttl
        return self._ids

    async def followed_by(self, session: AsyncSession, *, user_id: int) -> list[int]:
        """The over-threshold accounts ``user_id`` follows."""
        ids = await self.all(session)
        if not ids:
            return []
        stmt = select(Follow.followee_id).where(
            Follow.follower_id == user_id, Follow.followee_id.in_(ids)
        )
        return list((await session.execute(stmt)).scalars())


def is_celebrity(followers_count: int, threshold: int) -> bool:
    """Whether an account's posts skip fan-out."""
    return followers_count > threshold


async def recent_post_ids(
    session: AsyncSession, *, author_ids: Sequence[int], cursor: Cursor, floor: int = 0
) -> list[int]:
    """Return ids of the authors' posts inside the cursor (and at or above ``floor``)."""
    if not author_ids:
        return []
    ascending = cursor.min_id is not None
    parts = []
    # One small index range per author, merged: an IN list would sort every post they wrote.
    for author_id in author_ids:
        stmt = select(Post.id).where(Post.author_id == author_id)
        if floor:
            stmt = stmt.where(Post.id >= floor)
        if cursor.max_id is not None:
            stmt = stmt.where(Post.id < cursor.max_id)
        if cursor.since_id is not None:
            stmt = stmt.where(Post.id > cursor.since_id)
        if cursor.min_id is not None:
            stmt = stmt.where(Post.id > cursor.min_id)
        order = Post.id.asc() if ascending else Post.id.desc()
        parts.append(select(stmt.order_by(order).limit(cursor.limit).subquery().c.id))
    rows = (await session.execute(union_all(*parts))).scalars()
    return sorted(set(rows), reverse=not ascending)[: cursor.limit]
