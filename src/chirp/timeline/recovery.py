"""After Redis failed, cached timelines are read again only once the writes they missed are in.

While Redis is unreachable, the jobs that write timelines (fan-out, merges after a follow,
clean-ups) fail and are retried; once Redis answers again it still lacks their writes until
the retries run. A process that saw Redis fail keeps reading timelines from the database
until no timeline job recorded before Redis answered again is left.
"""

from __future__ import annotations

import time
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.db import read_outside_transaction, utcnow
from chirp.jobs import queue
from chirp.timeline import fanout

# Seconds between looks at the job queue while catching up.
CHECK_INTERVAL = 0.2


class Recovery:
    """Whether this process may read cached timelines again after Redis failed it."""

    def __init__(self, *, interval: float = CHECK_INTERVAL) -> None:
        self.interval = interval
        self.behind = False
        self._fence: datetime | None = None
        self._next_check = 0.0

    def missed_writes(self) -> None:
        """Redis failed here: timeline writes may have failed too, in any process."""
        self.behind = True
        self._fence = None
        self._next_check = 0.0

    async def caught_up(self, session: AsyncSession, redis: Redis) -> bool:
        """Whether the cache holds every write it missed (one query every ``interval``)."""
        if not self.behind:
            return True
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + self.interval
        if self._fence is None:
            await redis.ping()  # raises while Redis is still away
            # Jobs recorded from now on find Redis up; those before may have failed.
            self._fence = utcnow()
        if await read_outside_transaction(
            session, queue.unfinished_query(fanout.HANDLERS, before=self._fence), {}
        ):
            return False
        self.behind = False
        return True
