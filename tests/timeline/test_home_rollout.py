"""CHIRP_REDIS_TIMELINE_PERCENT: readers in the rollout are served by Redis, the rest by SQL."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.pagination import Cursor
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline, in_redis_rollout
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.loops import at_most
from tests.timeline import all_pages, read_from_redis


async def _readers_on_both_sides(session: AsyncSession, percent: int) -> list[User]:
    """At least two readers in the rollout and two out of it (ids decide, so make enough)."""
    users: list[User] = []
    for i in at_most(200, "users"):
        users.append(await make_user(session, f"reader{i}"))
        inside = sum(in_redis_rollout(u.id, percent) for u in users)
        if inside >= 2 and len(users) - inside >= 2:
            return users
    raise AssertionError("unreachable")


async def _pages(
    reader: HomeTimeline, session: AsyncSession, user: User, redis: Redis | None = None
) -> list[list[int]]:
    """Every page of a home timeline; with ``redis``, each one checked to come from Redis."""

    async def read(cursor: Cursor) -> list[int]:
        if redis is None:
            return [p.id for p in await reader.page(session, user_id=user.id, cursor=cursor)]
        return await read_from_redis(redis, reader, session, user.id, cursor)

    return await all_pages(read, 4)


@pytest.mark.parametrize("percent", [30, 70])
async def test_readers_in_the_rollout_read_redis_the_others_sql_with_identical_pages(
    session: AsyncSession, settings: Settings, redis: Redis, percent: int
) -> None:
    tuned = settings.model_copy(update={"redis_timeline_percent": percent})
    users = await _readers_on_both_sides(session, percent)
    for i, reader in enumerate(users):  # everyone follows the next two: overlapping homes
        for followee in (users[(i + 1) % len(users)], users[(i + 2) % len(users)]):
            await follows_service.follow(session, follower=reader, followee=followee)
    await session.commit()
    for i in range(3 * len(users)):
        await make_post(session, users[i % len(users)], f"post {i}")

    sql = HomeTimeline(tuned, None)
    rollout = HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned))
    for user in users:
        want = await _pages(sql, session, user)
        assert want
        if in_redis_rollout(user.id, percent):
            # Served by Redis (its timeline built, each page renewing it), not by the fallback.
            assert await _pages(rollout, session, user, redis) == want
        else:
            # From SQL, never touching Redis: no timeline was built for them.
            assert await _pages(rollout, session, user) == want
            assert not await redis.exists(f"chirp:tl:{user.id}")
    inside = {u.id for u in users if await redis.exists(f"chirp:tl:{u.id}")}
    assert inside == {u.id for u in users if in_redis_rollout(u.id, percent)}
    assert 2 <= len(inside) <= len(users) - 2


@pytest.mark.parametrize(("percent", "in_redis"), [(0, False), (100, True)])
async def test_no_one_or_everyone(
    session: AsyncSession, settings: Settings, redis: Redis, percent: int, in_redis: bool
) -> None:
    tuned = settings.model_copy(update={"redis_timeline_percent": percent})
    reader = HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned))
    users = [await make_user(session, f"u{i}") for i in range(6)]
    for user in users:
        await make_post(session, user, "mine")
        page = await reader.page(session, user_id=user.id, cursor=Cursor())
        assert len(page) == 1
        assert bool(await redis.exists(f"chirp:tl:{user.id}")) is in_redis
