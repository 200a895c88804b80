"""A rebuild of a cached timeline cut short, however, never leaves a timeline cut short.

Each rebuild of a Redis list (a home timeline, or a large account's recent posts) has three
steps: start (mark it as being built), read the database, finish (store it). These tests
stop a rebuild after each step, as a process that dies there would, or break Redis in
between (restarted empty, every connection killed) and let the rebuild go on; then
followed accounts post and the jobs fan out, and every page of every user's home timeline,
followed to its end, must be what the database says.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.jobs import queue, registry
from chirp.jobs.worker import JobContext, Worker
from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from chirp.redis_client import make_redis
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.faults.conftest import RedisServer
from tests.timeline import all_pages, is_built

Factory = async_sessionmaker[AsyncSession]
CAP = 12  # small, so floors and the database continuation below them are exercised
THRESHOLD = 3  # accounts with more followers are merged at read time
PAGE = 5


async def _world(session: AsyncSession) -> list[User]:
    """Six users with overlapping follows; the first, followed by all, is a large account."""
    rng = random.Random(12)
    users = [await make_user(session, f"r{i}") for i in range(6)]
    star, others = users[0], users[1:]
    for user in others:
        await follows_service.follow(session, follower=user, followee=star)
        for followee in rng.sample([u for u in others if u is not user], 2):
            await follows_service.follow(session, follower=user, followee=followee)
    await session.commit()
    for i in range(40):
        await make_post(session, rng.choice(users), f"before {i}")
    return users


async def _assert_every_page_matches_sql(
    session: AsyncSession, reader: HomeTimeline, users: list[User]
) -> None:
    assert reader.cache is not None
    reader.breaker.reset()  # Redis is back: read from it, not from the fallback
    for user in users:

        async def cached(cursor: Cursor, uid: int = user.id) -> list[int]:
            return [p.id for p in await reader.page(session, user_id=uid, cursor=cursor)]

        async def sql(cursor: Cursor, uid: int = user.id) -> list[int]:
            return await timeline_service.home_post_ids(session, user_id=uid, cursor=cursor)

        want = await all_pages(sql, PAGE)
        assert await all_pages(cached, PAGE) == want, f"user {user.username}"
        assert want
        assert reader.breaker.closed, "Redis did not serve the pages"
        assert await is_built(reader.cache.redis, user.id)


async def _settle(worker: Worker) -> None:
    """Run jobs until none is left, waiting for those postponed by a dead connection."""
    async with worker.context.session_factory() as session:
        for _ in range(50):
            await worker.drain()
            if not (await queue.stats(session)).pending:
                return
            await asyncio.sleep(0.1)
    raise AssertionError("jobs never finished")


def _admin(server: RedisServer) -> SyncRedis:
    """A connection of the test's own (pooled ones go stale when the server restarts)."""
    return SyncRedis(port=server.port)


def _rebuild_steps(
    session: AsyncSession, cache: TimelineCache, *, path: str, list_id: int
) -> list[Callable[[], Awaitable[object]]]:
    """The steps of one rebuild, as ``HomeTimeline.rebuild`` / ``rebuild_author`` take them."""
    state: dict[str, object] = {}

    async def start() -> None:
        if path == "home":
            state["token"] = await cache.start_rebuild(list_id)
        else:
            state["token"] = await cache.start_author_rebuild(list_id)

    async def read() -> None:
        if path == "home":
            cursor = Cursor(limit=CAP)
            ids = await timeline_service.home_post_ids(session, user_id=list_id, cursor=cursor)
        else:
            ids = await posts_service.recent_ids(session, author_id=list_id, limit=CAP)
        state["ids"] = ids

    async def finish() -> None:
        ids = state["ids"]
        assert isinstance(ids, list)
        floor = ids[-1] if len(ids) >= CAP else 0
        token = str(state["token"])
        if path == "home":
            await cache.finish_rebuild(list_id, ids, floor=floor, token=token)
        else:
            await cache.finish_author_rebuild(list_id, ids, floor=floor, token=token)

    return [start, read, finish]


@pytest.mark.parametrize("fault", ["died", "restarted", "killed"])
@pytest.mark.parametrize("path", ["home", "large"])
async def test_an_interrupted_rebuild_never_leaves_a_timeline_short(
    session: AsyncSession,
    db: Factory,
    settings: Settings,
    redis_server: RedisServer,
    path: str,
    fault: str,
) -> None:
    users = await _world(session)
    star, target = users[0], users[1]
    tuned = settings.model_copy(
        update={"timeline_cache_size": CAP, "fanout_max_followers": THRESHOLD}
    )
    redis = make_redis(redis_server.url)
    reader = HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned))
    assert reader.cache is not None
    worker = Worker(
        JobContext(session_factory=db, settings=tuned, timeline_cache=reader.cache),
        registry.handlers(),
    )
    following = await follows_service.following_ids(
        session, viewer_id=target.id, candidates=[u.id for u in users]
    )
    posters = [star] if path == "large" else [u for u in users if u.id in following]
    try:
        await worker.drain()
        for stopped_after in (1, 2, 3):
            await _assert_every_page_matches_sql(session, reader, users)  # all warm
            if path == "home":  # the target's timeline is lost (expired, evicted)
                lost = [f"chirp:tl:{target.id}", f"chirp:tlf:{target.id}"]
            else:  # so is the large account's list, while its followers' timelines live on
                for i in range(3):
                    await make_post(session, star, f"only in the list {stopped_after}.{i}")
                await worker.drain()
                lost = [f"chirp:ap:{star.id}", f"chirp:apf:{star.id}"]
            with _admin(redis_server) as admin:
                admin.delete(*lost)
            list_id = target.id if path == "home" else star.id
            steps = _rebuild_steps(session, reader.cache, path=path, list_id=list_id)
            for step in steps[:stopped_after]:
                await step()
            if fault == "restarted":
                redis_server.stop()
                redis_server.start()
            elif fault == "killed":
                with _admin(redis_server) as admin:
                    admin.client_kill_filter(_type="normal", skipme=True)
            for i, poster in enumerate(posters * 2):
                await make_post(session, poster, f"meanwhile {stopped_after}.{i}")
            await _settle(worker)
            if fault != "died":  # the rebuild goes on (a stale connection may fail it)
                for step in steps[stopped_after:]:
                    try:
                        await step()
                    except RedisError:
                        break
            await _assert_every_page_matches_sql(session, reader, users)
    finally:
        await redis.aclose()


async def test_fan_out_during_a_rebuild_whose_marker_lapsed_is_not_lost(
    session: AsyncSession, db: Factory, settings: Settings, redis_server: RedisServer
) -> None:
    # A rebuild slower than its marker's life: fan-out in between reaches no list, so the
    # rebuild must not store what it read (it lacks that post) as complete.
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    old = await make_post(session, bob, "old")
    redis = make_redis(redis_server.url)
    reader = HomeTimeline(settings, TimelineCache.from_settings(redis, settings))
    cache = reader.cache
    assert cache is not None
    worker = Worker(
        JobContext(session_factory=db, settings=settings, timeline_cache=cache),
        registry.handlers(),
    )
    try:
        await worker.drain()
        token = await cache.start_rebuild(alice.id)
        ids = await timeline_service.home_post_ids(session, user_id=alice.id, cursor=Cursor())
        await redis.delete(f"chirp:tlr:{alice.id}")  # its 60 seconds ran out
        new = await make_post(session, bob, "new")
        await worker.drain()
        assert not await cache.finish_rebuild(alice.id, ids, floor=0, token=token)
        page = await reader.page(session, user_id=alice.id, cursor=Cursor())
        assert [p.id for p in page] == [new.id, old.id]
        assert await is_built(redis, alice.id) and reader.breaker.closed
    finally:
        await redis.aclose()
