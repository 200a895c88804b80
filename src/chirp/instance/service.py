"""Instance statistics, counted in the background and served from memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.db import utcnow
from chirp.users.models import User

log = logging.getLogger("chirp.instance")

STATS_KEY = "chirp:instance:stats"
# Held by whichever process is counting, so processes sharing Redis count one at a time.
LOCK_KEY = "chirp:instance:stats:lock"
# How often a process looks for a newer count in Redis (at most the refresh period).
POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Stats:
    """Counts shown by the instance endpoints, and when they were counted."""

    users: int
    posts: int
    active_month: int
    # Unix time of the count; 0 for an estimate made before the first count finished.
    counted_at: float = 0.0


async def count(session: AsyncSession) -> Stats:
    """Count users, posts and users active in the last 30 days (scans users: background only)."""
    month_ago = utcnow() - timedelta(days=30)
    row = (
        await session.execute(
            select(
                select(func.count()).select_from(User).scalar_subquery(),
                # Each user row carries its post count, so no scan of posts is needed.
                select(func.coalesce(func.sum(User.posts_count), 0)).scalar_subquery(),
                select(func.count())
                .select_from(User)
                .where(User.last_active_at >= month_ago)
                .scalar_subquery(),
            )
        )
    ).one()
    return Stats(
        users=int(row[0]), posts=int(row[1]), active_month=int(row[2]), counted_at=time.time()
    )


async def estimate(session: AsyncSession) -> Stats:
    """Rough counts from PostgreSQL's statistics (zeros on SQLite), without reading any table."""
    if session.get_bind().dialect.name != "postgresql":
        return Stats(users=0, posts=0, active_month=0)
    rows = await session.execute(
        text("SELECT relname, reltuples FROM pg_class WHERE relname IN ('users', 'posts')")
    )
    # reltuples is -1 for a table never vacuumed or analysed.
    tuples = {name: max(0, int(n)) for name, n in rows.all()}
    return Stats(users=tuples.get("users", 0), posts=tuples.get("posts", 0), active_month=0)


class InstanceStats:
    """The latest statistics for requests, refreshed every ``period`` seconds by ``run``.

    With Redis, one process per period counts (whoever takes the lock) and stores the result;
    every process serves the stored value. Without Redis (or while it is down) each process
    counts for itself.
    """

    def __init__(self, *, period: float, redis: Redis | None = None) -> None:
        self.period = period
        self.redis = redis
        self._stats = Stats(users=0, posts=0, active_month=0)

    def current(self) -> Stats:
        """The statistics to serve now: no I/O, so a request never pays for them."""
        return self._stats

    async def refresh(self, session_factory: async_sessionmaker[AsyncSession]) -> Stats:
        """Count now and keep the result, unless another process is counting (then take theirs)."""
        lock = self._lock()
        if lock is not None and not await _acquire(lock):
            stored = await self._stored()
            if stored is not None:
                self._stats = stored  # the other process's count arrives with a later poll
            return self._stats
        try:
            async with session_factory() as session:
                self._stats = await count(session)
            await self._store(self._stats)
        finally:
            if lock is not None:
                await _release(lock)
        return self._stats

    async def run(
        self, session_factory: async_sessionmaker[AsyncSession], stop: asyncio.Event
    ) -> None:
        """Serve an estimate at once, then refresh until ``stop`` is set; errors keep the last."""
        stored = await self._stored()
        if stored is not None:
            self._stats = stored
        else:
            try:
                async with session_factory() as session:
                    self._stats = await estimate(session)
            except Exception:
                log.exception("instance statistics: estimate failed")
        poll = min(self.period, POLL_SECONDS) if self.redis is not None else self.period
        while not stop.is_set():
            try:
                stored = await self._stored()
                if stored is not None and time.time() - stored.counted_at < self.period:
                    self._stats = stored  # counted by another process this period
                else:
                    await self.refresh(session_factory)
            except Exception:
                log.exception("instance statistics: refresh failed; serving the last ones")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)

    async def _stored(self) -> Stats | None:
        if self.redis is None:
            return None
        try:
            raw = await self.redis.get(STATS_KEY)
        except (RedisError, OSError):
            return None
        return Stats(**json.loads(raw)) if raw else None

    def _lock(self) -> Lock | None:
        if self.redis is None:
            return None
        # Expires on its own if the counting process dies; a count takes far less.
        return self.redis.lock(LOCK_KEY, timeout=max(60.0, self.period), blocking=False)

    async def _store(self, stats: Stats) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.set(STATS_KEY, json.dumps(asdict(stats)))
        except (RedisError, OSError):
            log.warning("instance statistics: could not store them in Redis")


async def _acquire(lock: Lock) -> bool:
    try:
        return bool(await lock.acquire())
    except (RedisError, OSError):
        return True  # Redis is down: count for this process alone


async def _release(lock: Lock) -> None:
    # Expired, or Redis is down: either way it times out on its own.
    with contextlib.suppress(RedisError, OSError):
        await lock.release()
