"""After a Redis pause, no read shows a timeline missing what the database has."""

from __future__ import annotations

import asyncio
import time

from redis import Redis as SyncRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.jobs import queue, registry
from chirp.jobs.worker import JobContext, Worker
from chirp.pagination import Cursor
from chirp.redis_client import make_redis
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache, member
from chirp.timeline.home import HomeTimeline
from tests.factories import make_post, make_user
from tests.faults.conftest import RedisServer

PAUSE_MS = 4000


async def test_reads_wait_for_the_fan_out_missed_during_a_redis_pause(
    session: AsyncSession,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    redis_server: RedisServer,
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    for follower, followee in [(alice, bob), (carol, bob), (carol, alice)]:
        await follows_service.follow(session, follower=follower, followee=followee)
    await session.commit()
    for i in range(5):
        await make_post(session, bob, f"before {i}")
    web_redis, worker_redis = make_redis(redis_server.url), make_redis(redis_server.url)
    reader = HomeTimeline(settings, TimelineCache.from_settings(web_redis, settings))
    reader.breaker.cooldown = 0.2  # back on Redis as soon as it answers, the worst case
    worker_cache = TimelineCache.from_settings(worker_redis, settings)
    worker = Worker(
        JobContext(session_factory=db, settings=settings, timeline_cache=worker_cache),
        registry.handlers(),
    )

    async def read(user_id: int) -> list[int]:
        page = await reader.page(session, user_id=user_id, cursor=Cursor(limit=40))
        return [p.id for p in page]

    async def sql(user_id: int) -> list[int]:
        cursor = Cursor(limit=40)
        return await timeline_service.home_post_ids(session, user_id=user_id, cursor=cursor)

    try:
        await worker.drain()
        for user in (alice, carol):
            assert await read(user.id) == await sql(user.id)  # both cached

        # Redis stops answering, its data kept (a pause, a partition, a failover).
        with SyncRedis(port=redis_server.port) as admin:
            admin.client_pause(PAUSE_MS, all=True)
        paused_at = time.monotonic()
        assert await read(alice.id) == await sql(alice.id)  # times out: from the database
        during = await make_post(session, bob, "during the pause")
        await worker.drain()  # its fan-out times out too, and is retried in a second
        assert time.monotonic() - paused_at < PAUSE_MS / 1000, "the machine is too slow"
        await asyncio.sleep(PAUSE_MS / 1000 - (time.monotonic() - paused_at) + 0.3)

        # Redis answers again; the fan-out has not been retried yet.
        assert await web_redis.zscore(f"chirp:tl:{carol.id}", member(during.id)) is None
        for user in (alice, carol):
            assert await read(user.id) == await sql(user.id)
            assert during.id in await read(user.id)

        # Once the retry is in, reads use Redis again, and it has the post.
        async with db() as jobs_session:
            for _ in range(50):
                await worker.drain()
                if not (await queue.stats(jobs_session)).pending:
                    break
                await asyncio.sleep(0.1)
        await asyncio.sleep(reader.recovery.interval)
        for user in (alice, carol):
            assert await read(user.id) == await sql(user.id)
        assert not reader.recovery.behind and reader.breaker.closed
        assert await web_redis.zscore(f"chirp:tl:{carol.id}", member(during.id)) is not None
    finally:
        await web_redis.aclose()
        await worker_redis.aclose()
