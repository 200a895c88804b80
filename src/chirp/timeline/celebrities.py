"""Accounts with so many followers that their posts are merged at read time, not fanned out."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.pagination import Cursor
from chirp.timeline.service import author_post_ids
from chirp.users.models import User


class CelebrityCache:
    """The ids of accounts over the fan-out threshold, re-read every ``ttl`` seconds.

    There are few such accounts, so one small indexed query refreshes the list; each reader
    then reads the posts of those of them they follow. An account crossing the threshold is
    seen within ``ttl`` seconds.
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

    async def recent_post_ids(
        self, session: AsyncSession, *, user_id: int, cursor: Cursor
    ) -> list[int]:
        """Ids of posts inside the cursor by those of these accounts the user follows.

        One query: which of these accounts the user follows, and their posts in range.
        """
        ids = await self.all(session)
        if not ids:
            return []
        return await author_post_ids(
            session, "followed_among", user_id=user_id, cursor=cursor, among=ids
        )


def is_celebrity(followers_count: int, threshold: int) -> bool:
    """Whether an account's posts skip fan-out."""
    return followers_count > threshold
