"""The Redis home timeline never holds a direct message: fan-out skips them, the posting
path does not cache them, and a timeline rebuilt from the database has none."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.jobs import registry
from chirp.jobs.worker import JobContext, Worker
from chirp.pagination import Cursor
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.timeline.cache import TimelineCache
from chirp.timeline.home import HomeTimeline
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.timeline import read_from_redis, stored_ids

Factory = async_sessionmaker[AsyncSession]


async def _direct(session: AsyncSession, author: User, text: str) -> Post:
    post = await posts_service.create_post(
        session, author=author, text=text, max_length=500, visibility="direct"
    )
    await session.commit()
    return post


@pytest.mark.parametrize("large", [False, True], ids=["fanned-out", "merged-at-read-time"])
async def test_direct_messages_stay_out_of_redis_timelines(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, large: bool
) -> None:
    ann, bob, cat = [await make_user(session, n) for n in ("ann", "bob", "cat")]
    for follower in (bob, cat):
        await follows_service.follow(session, follower=follower, followee=ann)
    await session.commit()
    tuned = settings.model_copy(update={"fanout_max_followers": 0 if large else 1000})
    reader = HomeTimeline(tuned, TimelineCache.from_settings(redis, tuned))
    reader.celebrities.ttl = 0
    for user in (ann, bob, cat):
        assert await read_from_redis(redis, reader, session, user.id, Cursor()) == []  # built
    public = await make_post(session, ann, "for everyone")
    await reader.published(public)
    dm = await _direct(session, ann, "@bob for bob")
    await reader.published(dm)  # as the posting handlers do, after the commit
    worker = Worker(
        JobContext(session_factory=db, settings=tuned, timeline_cache=reader.cache),
        registry.handlers(),
    )
    await worker.drain()
    for user in (ann, bob, cat):
        assert dm.id not in await stored_ids(redis, user.id)
        page = await read_from_redis(redis, reader, session, user.id, Cursor())
        assert page == [public.id], user.username
    # Rebuilt from the database (a flushed or expired timeline): still none.
    await redis.delete(*(f"chirp:tl:{u.id}" for u in (ann, bob, cat)))
    for user in (ann, bob, cat):
        assert await reader.rebuild(session, user_id=user.id)
        assert await stored_ids(redis, user.id) == [public.id]
    if large:
        assert await reader.rebuild_author(session, author_id=ann.id)
        members = await redis.zrange(f"chirp:ap:{ann.id}", 0, -1)
        assert [int(m) for m in members if int(m)] == [public.id]
