"""Accounts with so many followers that their posts are merged at read time, not fanned out."""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.users.models import User


class CelebrityCache:
    """The ids of accounts over the fan-out threshold, re-read every ``ttl`` seconds.

    There are few such accounts, so one small indexed query refreshes the list. An account
    crossing the threshold is seen within ``ttl`` seconds.
    """

    def __init__(self, threshold: int, *, ttl: float = 30.0) -> None:
        self.threshold = threshold
        self.ttl = ttl
        self._ids: list[int] = []
        self._generation = generation_of([])
        self._expires = 0.0

    async def current(self, session: AsyncSession) -> tuple[list[int], str]:
        """Every account with more followers than the threshold, and that list's generation."""
        if time.monotonic() >= self._expires:
            stmt = select(User.id).where(User.followers_count > self.threshold)
            self._ids = sorted((await session.execute(stmt)).scalars())
            self._generation = generation_of(self._ids)
            self._expires = time.monotonic() + self.ttl
        return self._ids, self._generation


def generation_of(ids: list[int]) -> str:
    """A short name for one list of large accounts."""
    # Each reader's followed large accounts are stored with it, so a change to the list
    # makes every reader look theirs up again.
    return hashlib.blake2b(",".join(map(str, ids)).encode(), digest_size=6).hexdigest()


def is_celebrity(followers_count: int, threshold: int) -> bool:
    """Whether an account's posts skip fan-out."""
    return followers_count > threshold
