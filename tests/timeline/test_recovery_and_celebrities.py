"""The two small caches the home timeline consults on every read: whether the Redis copy may be
trusted again after a failure, and which accounts are large enough to be merged at read time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.follows import service as follows_service
from chirp.jobs import kinds, queue
from chirp.jobs.models import Job
from chirp.redis_client import make_redis
from chirp.timeline.celebrities import CelebrityCache, generation_of, is_celebrity
from chirp.timeline.recovery import Recovery
from tests.factories import make_user


@pytest.fixture
async def unreachable() -> AsyncIterator[Redis]:
    """A Redis client of a server that is not there: any command sent through it fails."""
    client = make_redis("redis://127.0.0.1:1/0")
    yield client
    await client.aclose()


async def test_a_process_redis_never_failed_trusts_the_cache_without_asking(
    session: AsyncSession, unreachable: Redis
) -> None:
    assert await Recovery().caught_up(session, unreachable) is True


async def test_after_a_failure_the_cache_waits_for_redis_and_for_the_jobs_it_missed(
    session: AsyncSession, redis: Redis, unreachable: Redis
) -> None:
    recovery = Recovery(interval=0)
    recovery.missed_writes()
    with pytest.raises(RedisConnectionError):
        await recovery.caught_up(session, unreachable)

    # A fan-out recorded while Redis was away has not run yet: still behind.
    await queue.enqueue(session, kinds.POST_CREATED, {"post_id": 1})
    await session.commit()
    missed = (await session.scalars(select(Job.id))).one()
    await queue.enqueue(session, kinds.NOTIFY_POST, {"post_id": 1})  # not a timeline job
    await session.commit()
    assert await recovery.caught_up(session, redis) is False
    # Once it ran, timeline jobs recorded after Redis answered again hold nothing back.
    await queue.enqueue(session, kinds.POST_CREATED, {"post_id": 2})
    await session.execute(delete(Job).where(Job.id == missed))
    await session.commit()
    assert await recovery.caught_up(session, redis) is True
    # Caught up for good: no further look at Redis or the queue until the next failure.
    assert await recovery.caught_up(session, unreachable) is True


async def test_while_behind_the_job_queue_is_looked_at_once_per_interval(
    session: AsyncSession, redis: Redis
) -> None:
    recovery = Recovery(interval=3600)
    await queue.enqueue(session, kinds.FOLLOWED, {"follower_id": 1, "followee_id": 2})
    await session.commit()
    recovery.missed_writes()
    assert await recovery.caught_up(session, redis) is False
    await session.execute(delete(Job))  # it ran
    await session.commit()
    # Done now, but the next look is an hour away: reads stay on the database until then.
    assert await recovery.caught_up(session, redis) is False
    # A new failure looks again at once.
    recovery.missed_writes()
    assert await recovery.caught_up(session, redis) is True
    assert await recovery.caught_up(session, redis) is True  # and stays so, without waiting


async def test_large_accounts_are_those_over_the_threshold_reread_after_the_ttl(
    session: AsyncSession,
) -> None:
    star, fan, other = [await make_user(session, n) for n in ("star", "fan", "other")]
    await follows_service.follow(session, follower=fan, followee=star)
    await session.commit()
    # One follower: over a threshold of 0, not over a threshold of 1.
    assert is_celebrity(1, 0) and not is_celebrity(1, 1)
    assert await CelebrityCache(1).current(session) == ([], generation_of([]))
    cache = CelebrityCache(0, ttl=3600)
    ids, generation = await cache.current(session)
    assert ids == [star.id] and generation == generation_of([star.id])

    # A second large account is seen only once the list is read again.
    await follows_service.follow(session, follower=fan, followee=other)
    await session.commit()
    assert await cache.current(session) == (ids, generation)
    fresh = CelebrityCache(0, ttl=0)
    both, changed = await fresh.current(session)
    assert both == sorted([star.id, other.id])
    # A different list has a different generation, so readers look theirs up again.
    assert changed != generation and changed == generation_of(both)
    assert len({generation_of([]), generation_of([1]), generation_of([1, 2])}) == 3
