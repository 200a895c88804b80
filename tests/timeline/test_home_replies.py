"""Replies in Redis home timelines: fan-out, read-time merge and rebuilds give the SQL pages."""

from __future__ import annotations

import random

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
from tests.factories import make_user
from tests.timeline import all_pages, read_from_redis, readers, stored_ids

Factory = async_sessionmaker[AsyncSession]


async def _post(
    session: AsyncSession, author: User, reply_to: Post | None = None, text: str = "x"
) -> Post:
    post = await posts_service.create_post(
        session,
        author=author,
        text=text,
        max_length=500,
        in_reply_to_id=reply_to.id if reply_to else None,
    )
    await session.commit()
    return post


async def _drain(db: Factory, reader: HomeTimeline) -> None:
    ctx = JobContext(session_factory=db, settings=reader.settings, timeline_cache=reader.cache)
    await Worker(ctx, registry.handlers()).drain()


async def _world(session: AsyncSession, rng: random.Random) -> tuple[list[User], list[Post]]:
    users = [await make_user(session, f"u{i}") for i in range(8)]
    for u in users:
        for other in rng.sample(users, 3):
            if other.id != u.id:
                await follows_service.follow(session, follower=u, followee=other)
    await session.commit()
    posts = [await _post(session, rng.choice(users)) for _ in range(10)]
    return users, posts


async def _replies(
    session: AsyncSession, rng: random.Random, users: list[User], posts: list[Post], n: int
) -> None:
    """``n`` posts, most of them replies (to others, to themselves) anywhere in the world."""
    for _ in range(n):
        author = rng.choice(users)
        kind = rng.random()
        if kind < 0.2:
            posts.append(await _post(session, author))
        elif kind < 0.4:
            own = [p for p in posts if p.author_id == author.id] or posts
            posts.append(await _post(session, author, rng.choice(own)))
        else:
            posts.append(await _post(session, author, rng.choice(posts)))


async def _compare(
    session: AsyncSession, redis: Redis, sql: HomeTimeline, cached: HomeTimeline, users: list[User]
) -> None:
    """Each user's home pages from Redis are the database's, page by page."""
    for user in users:

        async def from_sql(cursor: Cursor, user: User = user) -> list[int]:
            return [p.id for p in await sql.page(session, user_id=user.id, cursor=cursor)]

        async def from_redis(cursor: Cursor, user: User = user) -> list[int]:
            return await read_from_redis(redis, cached, session, user.id, cursor)

        want = await all_pages(from_sql, 6)
        assert await all_pages(from_redis, 6) == want, user.username


_MODES = pytest.mark.parametrize(
    "overrides",
    [{}, {"fanout_max_followers": 0}, {"fanout_max_followers": 2}, {"timeline_cache_size": 15}],
    ids=["fanout", "read-time-merge", "hybrid", "small-cache"],
)


@_MODES
async def test_replies_in_cached_timelines_match_the_database_and_a_rebuild(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, overrides: dict[str, int]
) -> None:
    rng = random.Random(11)
    users, posts = await _world(session, rng)
    sql, cached = readers(settings, redis, **overrides)

    async def compare() -> None:
        await _compare(session, redis, sql, cached, users)

    await compare()  # every timeline built from the database
    # Replies arrive by fan-out (or read-time merge) into the built timelines.
    await _replies(session, rng, users, posts, 60)
    await _drain(db, cached)
    await compare()
    if not overrides:
        # Fan-out stored only what the home rule lets in: a rebuild stores the same ids.
        before = {u.id: await stored_ids(redis, u.id) for u in users}
        assert any(before.values())
        for user in users:
            assert await cached.rebuild(session, user_id=user.id)
            assert await stored_ids(redis, user.id) == before[user.id], user.username
    # A flushed Redis: every timeline rebuilt on its next read gives the same pages again.
    await redis.flushdb()
    await compare()
    assert cached.breaker.closed and not cached.recovery.behind


@_MODES
async def test_follows_and_unfollows_among_repliers_show_on_the_very_next_read(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, overrides: dict[str, int]
) -> None:
    rng = random.Random(12)
    users, posts = await _world(session, rng)
    await _replies(session, rng, users, posts, 40)
    sql, cached = readers(settings, redis, **overrides)
    await _compare(session, redis, sql, cached, users)  # every timeline built
    for _ in range(16):
        # Follows among accounts that answer each other: a newly followed account brings its
        # posts and the replies to it by accounts followed already; an unfollow takes both.
        follower, followee = rng.sample(users, 2)
        following = await follows_service.is_following(
            session, follower_id=follower.id, followee_id=followee.id
        )
        change = cached.unfollow if following else cached.follow
        assert await change(session, follower=follower, followee=followee)
        await _compare(session, redis, sql, cached, [follower])  # before any job runs
    await _drain(db, cached)  # the jobs of the follows repeat their merges
    await _compare(session, redis, sql, cached, users)
    assert cached.breaker.closed and not cached.recovery.behind


async def test_fanout_of_a_reply_reaches_only_followers_the_rule_allows(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    ann, ben, cat, dan = [await make_user(session, n) for n in ("ann", "ben", "cat", "dan")]
    for follower, followee in [(ann, ben), (ann, cat), (dan, ben), (cat, ben)]:
        # ann hides ben's reposts: his own posts and replies still reach her.
        hide = follower is ann and followee is ben
        await follows_service.follow(
            session, follower=follower, followee=followee, reblogs=False if hide else None
        )
    await session.commit()
    reader = HomeTimeline(settings, TimelineCache.from_settings(redis, settings))
    await _drain(db, reader)  # the follows' jobs: what follows arrives by fan-out alone
    for user in (ann, ben, cat, dan):
        await reader.page(session, user_id=user.id, cursor=Cursor())  # builds each timeline
    to_cat = await _post(session, ben, await _post(session, cat))
    await _drain(db, reader)
    assert to_cat.id in await stored_ids(redis, ann.id)  # follows both
    assert to_cat.id in await stored_ids(redis, cat.id)  # answered, follows ben
    assert to_cat.id in await stored_ids(redis, ben.id)  # his own
    assert to_cat.id not in await stored_ids(redis, dan.id)  # does not follow cat
    # Following ben brings his recent posts, but not his replies to accounts not followed.
    eve = await make_user(session, "eve")
    await reader.page(session, user_id=eve.id, cursor=Cursor())
    thread = await _post(session, ben, to_cat)  # answers himself: everyone's
    await reader.follow(session, follower=eve, followee=ben)
    assert await stored_ids(redis, eve.id) == [thread.id]
    # ... and those to accounts followed already.
    fay = await make_user(session, "fay")
    await reader.follow(session, follower=fay, followee=cat)
    await reader.page(session, user_id=fay.id, cursor=Cursor())
    await reader.follow(session, follower=fay, followee=ben)
    assert await stored_ids(redis, fay.id) == [thread.id, to_cat.id, to_cat.in_reply_to_id]
    # Following an account brings the replies to it by accounts followed already: eve, who
    # follows ben, follows cat, whom ben had answered (dan's answer to cat stays out: she
    # does not follow dan).
    cats = await session.get(Post, to_cat.in_reply_to_id)
    assert cats is not None
    await _post(session, dan, cats)
    await reader.follow(session, follower=eve, followee=cat)
    assert await stored_ids(redis, eve.id) == [thread.id, to_cat.id, to_cat.in_reply_to_id]
    # Unfollowing cat takes her posts and ben's answers to her out again; eve's own answer
    # to cat stays (her own posts are all in her home).
    own = await _post(session, eve, cats)
    await _drain(db, reader)
    await reader.unfollow(session, follower=eve, followee=cat)
    assert await stored_ids(redis, eve.id) == [own.id, thread.id]
