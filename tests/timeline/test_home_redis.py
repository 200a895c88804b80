"""The Redis home timeline gives exactly the pages the database gives, on every path."""

from __future__ import annotations

import asyncio
import random
from unittest.mock import ANY

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chirp.config import Settings
from chirp.follows import service as follows_service
from chirp.jobs import registry
from chirp.jobs.models import Job
from chirp.jobs.worker import JobContext, Worker
from chirp.pagination import Cursor
from chirp.posts import reposts
from chirp.posts import service as posts_service
from chirp.posts.models import Post
from chirp.timeline import fanout
from chirp.timeline import service as timeline_service
from chirp.timeline.cache import member
from chirp.timeline.home import HomeTimeline, in_redis_rollout
from chirp.users.models import User
from tests.factories import make_post, make_user
from tests.timeline import (
    all_pages,
    is_built,
    read_from_redis,
    readers,
    record_home_reads,
    session_statements,
    stored_ids,
)

Factory = async_sessionmaker[AsyncSession]


def _context(db: Factory, reader: HomeTimeline) -> JobContext:
    return JobContext(session_factory=db, settings=reader.settings, timeline_cache=reader.cache)


async def _drain(db: Factory, reader: HomeTimeline) -> None:
    await Worker(_context(db, reader), registry.handlers()).drain()


def _reader_fn(reader: HomeTimeline, session: AsyncSession, user: User):  # type: ignore[no-untyped-def]
    async def read(cursor: Cursor) -> list[int]:
        return [p.id for p in await reader.page(session, user_id=user.id, cursor=cursor)]

    return read


def _redis_fn(reader: HomeTimeline, redis: Redis, session: AsyncSession, user: User):  # type: ignore[no-untyped-def]
    async def read(cursor: Cursor) -> list[int]:
        return await read_from_redis(redis, reader, session, user.id, cursor)

    return read


async def _world(session: AsyncSession, rng: random.Random) -> tuple[list[User], list[Post]]:
    """Eight users with overlapping follows and 120 posts (see ``_post_at_random``); the
    public posts, which later posts may answer."""
    users = [await make_user(session, f"u{i}") for i in range(8)]
    for u in users:
        for other in rng.sample(users, 4):
            if other.id != u.id:
                await follows_service.follow(session, follower=u, followee=other)
    await session.commit()
    answerable: list[Post] = []
    await _post_at_random(session, rng, users, answerable, 120)
    return users, answerable


async def _post_at_random(
    session: AsyncSession, rng: random.Random, users: list[User], answerable: list[Post], n: int
) -> None:
    """``n`` posts by random users, followers-only posts and replies among them (whose home
    rules the Redis path must apply as the database does). Reposts, which the Redis path
    keeps once per cached window, are compared in ``test_reposts_home``."""
    for _ in range(n):
        author, kind = rng.choice(users), rng.random()
        if kind < 0.2 and answerable:
            await posts_service.create_post(
                session,
                author=author,
                text=f"reply {kind}",
                max_length=500,
                in_reply_to_id=rng.choice(answerable).id,
            )
        else:
            shown_to = "private" if kind > 0.85 else "public"
            post = await posts_service.create_post(
                session, author=author, text=f"post {kind}", max_length=500, visibility=shown_to
            )
            if shown_to == "public":
                answerable.append(post)
        await session.commit()


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # everything fanned out
        {"fanout_max_followers": 0},  # everyone is a celebrity: merged at read time
        {"fanout_max_followers": 3},  # a mix of both
        {"timeline_cache_size": 25},  # paging past the cache continues from the database
        # Large accounts' lists shorter than their posts: read-time merges page past them.
        {"fanout_max_followers": 0, "timeline_cache_size": 10},
    ],
    ids=["fanout", "read-time-merge", "hybrid", "small-cache", "small-author-lists"],
)
async def test_redis_and_sql_give_identical_pages(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis, overrides: dict[str, int]
) -> None:
    rng = random.Random(7)
    users, answerable = await _world(session, rng)
    sql, cached = readers(settings, redis, **overrides)
    # The follows' jobs first: run later, they would merge every post since into the cached
    # timelines and hide how the later posts travel.
    await _drain(db, cached)
    for user in users:
        want = await all_pages(_reader_fn(sql, session, user), 7)
        got = await all_pages(_redis_fn(cached, redis, session, user), 7)  # rebuilt from SQL
        assert got == want and want
    # New posts arrive by fan-out (or read-time merge) into the built timelines.
    await _post_at_random(session, rng, users, answerable, 30)
    await _drain(db, cached)
    for user in users:
        want = await all_pages(_reader_fn(sql, session, user), 9)
        assert await all_pages(_redis_fn(cached, redis, session, user), 9) == want
        newest = want[0][3]
        for cursor in (Cursor(min_id=newest, limit=2), Cursor(since_id=newest, limit=2)):
            a = [p.id for p in await sql.page(session, user_id=user.id, cursor=cursor)]
            b = await read_from_redis(redis, cached, session, user.id, cursor)
            assert a == b
    # Large accounts' lists evicted (or expired) are rebuilt from the database on the next
    # read, with the posts they held: followers-only posts and replies too.
    evicted = [key async for key in redis.scan_iter("chirp:ap*")]
    assert bool(evicted) == (overrides.get("fanout_max_followers") is not None)
    if evicted:
        await redis.delete(*evicted)
    for user in users:
        want = await all_pages(_reader_fn(sql, session, user), 9)
        assert await all_pages(_redis_fn(cached, redis, session, user), 9) == want
    # Redis answered every page: a failure would have fallen back to the database unseen.
    assert cached.breaker.closed and not cached.recovery.behind
    assert cached.cache is not None
    for user in users:
        assert await is_built(redis, user.id)


async def test_fanout_delivers_posts_and_their_cached_copies_into_built_timelines(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    _, cached = readers(settings, redis)
    assert cached.cache is not None
    assert await cached.page(session, user_id=alice.id, cursor=Cursor()) == []  # builds it
    # Made without its request's writes to Redis, as when Redis failed them: the job does both.
    post = await make_post(session, bob, "hello followers")
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [post.id]
    with session_statements(session) as seen:
        page = await cached.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.text for p in page] == ["hello followers"]
    assert not [s for s in seen if "posts.text" in s], seen  # the post came from Redis


async def test_fanout_writes_followers_a_batch_at_a_time(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    bob = await make_user(session, "bob")
    followers = [await make_user(session, f"follower{i}") for i in range(5)]
    for follower in followers:
        await follows_service.follow(session, follower=follower, followee=bob)
    await session.commit()
    # A worker holds one batch of followers at a time, however many an account has.
    _, cached = readers(settings, redis, fanout_batch_size=2)
    assert cached.cache is not None
    for follower in followers:
        await cached.page(session, user_id=follower.id, cursor=Cursor())  # builds it
    await _drain(db, cached)
    batches: list[list[int]] = []
    add = cached.cache.add

    async def recording(post_ids: list[int], user_ids: list[int], **options: int) -> int:
        batches.append(list(user_ids))
        return await add(post_ids, user_ids, **options)

    cached.cache.add = recording  # type: ignore[method-assign,assignment]
    post = await make_post(session, bob, "to every follower")
    await _drain(db, cached)
    ids = [f.id for f in followers]
    assert [b for b in batches if b != [bob.id]] == [ids[:2], ids[2:4], ids[4:]]  # not bob's own
    for follower in followers:
        assert await stored_ids(redis, follower.id) == [post.id]


async def test_a_fanout_that_fails_midway_leaves_no_write_running_behind_it(
    session: AsyncSession,
    db: Factory,
    settings: Settings,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bob = await make_user(session, "bob")
    followers = [await make_user(session, f"follower{i}") for i in range(3)]
    for follower in followers:
        await follows_service.follow(session, follower=follower, followee=bob)
    await session.commit()
    post = await make_post(session, bob, "to every follower")
    _, cached = readers(settings, redis, fanout_batch_size=1)
    assert cached.cache is not None
    # The first batch's write to Redis is still under way when reading the second batch of
    # followers fails: the job fails (to be retried), and takes its write down with it.
    writing, cancelled = asyncio.Event(), []
    add, follower_batch = cached.cache.add, follows_service.follower_batch

    async def slow(post_ids: list[int], user_ids: list[int], **options: int) -> int:
        if user_ids == [bob.id]:
            return await add(post_ids, user_ids, **options)  # his own timeline first
        writing.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(user_ids)
            raise
        return 0

    async def failing_second(session: AsyncSession, **query: int) -> list[tuple[int, int]]:
        if query["after_id"]:
            await writing.wait()
            raise OSError("the database went away")
        return await follower_batch(session, **query)

    cached.cache.add = slow  # type: ignore[method-assign,assignment]
    monkeypatch.setattr(follows_service, "follower_batch", failing_second)
    with pytest.raises(OSError, match="went away"):
        await fanout.fanout_post(_context(db, cached), {"post_id": post.id})
    assert cancelled == [[followers[0].id]]


async def test_fanout_of_a_repost_skips_followers_who_hide_the_authors_reposts(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    ann, ben, cat, dan = [await make_user(session, n) for n in ("ann", "ben", "cat", "dan")]
    await follows_service.follow(session, follower=ann, followee=ben)
    await follows_service.follow(session, follower=dan, followee=ben, reblogs=False)
    await session.commit()
    _, cached = readers(settings, redis)
    await _drain(db, cached)  # the follows' jobs: what follows arrives by fan-out alone
    for user in (ann, ben, dan):
        assert await read_from_redis(redis, cached, session, user.id, Cursor()) == []
    shared = await make_post(session, cat, "cat's")
    own = await make_post(session, ben, "ben's")
    wrapper, _ = await reposts.repost(session, actor=ben, post_id=shared.id)
    await session.commit()
    await _drain(db, cached)

    assert await stored_ids(redis, ann.id) == [wrapper.id, own.id]
    assert await stored_ids(redis, ben.id) == [wrapper.id, own.id]
    assert await stored_ids(redis, dan.id) == [own.id]  # ben's posts, not his reposts


async def test_fanout_skips_followers_away_longer_than_the_active_window(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    bob = await make_user(session, "bob")
    here, away = await make_user(session, "here"), await make_user(session, "away")
    for follower in (here, away):
        await follows_service.follow(session, follower=follower, followee=bob)
    await session.commit()
    _, cached = readers(settings, redis)
    for reader in (here, away):
        await cached.page(session, user_id=reader.id, cursor=Cursor())
    # `away` stops reading: a month later their timeline expires, as its TTL says.
    await redis.expire(f"chirp:tl:{away.id}", 0)
    post = await make_post(session, bob, "while you were away")
    await _drain(db, cached)
    assert await stored_ids(redis, here.id) == [post.id]
    assert not await redis.exists(f"chirp:tl:{away.id}")  # nothing written for them
    # Back again: the first read rebuilds the timeline from the database, post included.
    back = await cached.page(session, user_id=away.id, cursor=Cursor())
    assert [p.id for p in back] == [post.id]
    assert await stored_ids(redis, away.id) == [post.id]


async def test_follow_unfollow_and_delete_show_at_once_and_clean_up(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    _, cached = readers(settings, redis)
    assert cached.cache is not None
    old = await make_post(session, bob, "before the follow")
    await cached.page(session, user_id=alice.id, cursor=Cursor())
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    await _drain(db, cached)
    assert [p.id for p in await cached.page(session, user_id=alice.id, cursor=Cursor())] == [old.id]

    own = await make_post(session, alice, "her own, newer than bob's")
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [own.id, old.id]

    await follows_service.unfollow(session, follower=alice, followee=bob)
    await session.commit()
    shown = await cached.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in shown] == [own.id]  # filtered on read
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [own.id]  # bob's oldest post too

    mine = await make_post(session, alice, "mine")
    await _drain(db, cached)
    await cached.page(session, user_id=alice.id, cursor=Cursor())  # now in the post cache too
    await cached.delete_post(session, post=mine, actor=alice)  # as the delete handlers do
    shown = await cached.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in shown] == [own.id]
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [own.id]

    # Someone whose timeline is not in Redis (never read) follows and unfollows: the jobs
    # have nothing to clean up, and finish.
    carol = await make_user(session, "carol")
    await follows_service.follow(session, follower=carol, followee=bob)
    await session.commit()
    await follows_service.unfollow(session, follower=carol, followee=bob)
    await session.commit()
    await _drain(db, cached)
    assert await session.scalar(select(func.count()).select_from(Job)) == 0
    assert not await redis.exists(f"chirp:tl:{carol.id}")


async def test_an_unfollow_cleans_up_down_to_a_trimmed_timelines_lowest_post(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    _, cached = readers(settings, redis, timeline_cache_size=3)
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    await cached.page(session, user_id=alice.id, cursor=Cursor())  # built, empty
    first = await make_post(session, alice, "first")
    by_bob = await make_post(session, bob, "bob's")
    later = [await make_post(session, alice, f"later {i}") for i in range(2)]
    await _drain(db, cached)
    # Full: the oldest post was trimmed away, and bob's is now the lowest held.
    assert await redis.zrange(f"chirp:tl:{alice.id}", 0, -1) == [
        member(i) for i in (by_bob.id, *[p.id for p in later])
    ]
    assert first.id not in await stored_ids(redis, alice.id)
    await follows_service.unfollow(session, follower=alice, followee=bob)
    await session.commit()
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [p.id for p in reversed(later)]


async def test_an_unfollows_job_leaves_the_posts_of_an_account_followed_again_since(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    _, cached = readers(settings, redis)
    post = await make_post(session, bob, "still followed")
    await cached.page(session, user_id=alice.id, cursor=Cursor())
    await cached.follow(session, follower=alice, followee=bob)
    await cached.unfollow(session, follower=alice, followee=bob)
    await cached.follow(session, follower=alice, followee=bob)
    assert await stored_ids(redis, alice.id) == [post.id]
    # The unfollow's job runs after alice followed bob again: it must leave his posts.
    payload = {"follower_id": alice.id, "followee_id": bob.id}
    await fanout.purge_followee(_context(db, cached), payload)
    assert await stored_ids(redis, alice.id) == [post.id]


async def test_the_delete_job_cleans_up_after_a_request_that_could_not_reach_redis(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    # bob is a large account: his posts are in a list of his own, merged when alice reads.
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    post, kept = [await make_post(session, bob, text) for text in ("soon gone", "kept")]
    _, cached = readers(settings, redis, fanout_max_followers=0)
    assert cached.cache is not None
    read = await cached.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in read] == [kept.id, post.id]  # both cached now, and in bob's list
    bobs = f"chirp:ap:{bob.id}"
    assert {int(m) for m in await redis.zrange(bobs, 0, -1)} >= {post.id, kept.id}
    # Deleted by a request whose Redis step failed: nothing in Redis knows yet.
    await posts_service.delete_post(session, post=post, actor=bob)
    await session.commit()
    await _drain(db, cached)
    assert await cached.cache.posts.get_many([post.id, kept.id]) == ({kept.id: ANY}, {post.id})
    assert post.id not in {int(m) for m in await redis.zrange(bobs, 0, -1)}
    assert [p.id for p in await cached.page(session, user_id=alice.id, cursor=Cursor())] == [
        kept.id
    ]


async def _filtered_after_caching(
    session: AsyncSession, settings: Settings, redis: Redis
) -> tuple[User, list[Post], list[Post], HomeTimeline, HomeTimeline]:
    """alice follows ben and cat, whose four posts each alternate, all cached in her Redis
    timeline; then, as by requests whose Redis step failed, she unfollows cat and ben
    deletes his third post while Redis still holds them (their clean-up jobs have not run).
    Returns alice, ben's and cat's posts, and the database and Redis readers."""
    alice, ben, cat = [await make_user(session, n) for n in ("alice", "ben", "cat")]
    for followee in (ben, cat):
        await follows_service.follow(session, follower=alice, followee=followee)
    bens, cats = [], []
    for i in range(4):
        bens.append(await make_post(session, ben, f"ben {i}"))
        cats.append(await make_post(session, cat, f"cat {i}"))
    database, cached = readers(settings, redis)
    read = _redis_fn(cached, redis, session, alice)
    everything = [p.id for pair in zip(reversed(cats), reversed(bens), strict=True) for p in pair]
    assert [i for page in await all_pages(read, 3) for i in page] == everything  # all cached
    await follows_service.unfollow(session, follower=alice, followee=cat)
    await posts_service.delete_post(session, post=bens[2], actor=ben)
    await session.commit()
    return alice, bens, cats, database, cached


async def test_posts_filtered_out_on_read_leave_the_rest_of_the_page_whole(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bens, _, _, cached = await _filtered_after_caching(session, settings, redis)
    # Reads filter out cat's posts and ben's deleted one, each page going on past them.
    pages = await all_pages(_redis_fn(cached, redis, session, alice), 3)
    assert [i for page in pages for i in page] == [bens[3].id, bens[1].id, bens[0].id]
    assert [len(page) for page in pages] == [3]


async def test_pages_bounded_from_below_read_on_past_filtered_posts_within_their_bounds(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    """``since_id``, ``min_id`` and ``max_id`` hold for every further read that fills a page
    left short by posts filtered out on read: none reaches past the bounds asked for."""
    alice, bens, cats, database, cached = await _filtered_after_caching(session, settings, redis)
    read = _redis_fn(cached, redis, session, alice)
    ben0, ben1, ben3 = bens[0].id, bens[1].id, bens[3].id
    for cursor, expected in [
        (Cursor(since_id=ben0, limit=3), [ben3, ben1]),
        (Cursor(min_id=ben0, limit=3), [ben3, ben1]),
        (Cursor(min_id=ben0, max_id=ben3, limit=3), [ben1]),
        (Cursor(max_id=cats[3].id, since_id=ben0, limit=3), [ben3, ben1]),
    ]:
        assert await read(cursor) == expected, cursor
        page = await database.page(session, user_id=alice.id, cursor=cursor)
        assert [p.id for p in page] == expected, cursor


async def test_a_page_the_database_fills_or_ends_takes_one_read(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No further read of the database once a page is full, or once a read came back with
    fewer posts than it asked for (the timeline ends there)."""
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    posts = [await make_post(session, bob, f"bob {i}") for i in range(5)]
    database, _ = readers(settings, redis)
    asked = record_home_reads(monkeypatch)
    for cursor, want in [
        (Cursor(limit=5), 5),
        (Cursor(limit=3), 3),
        (Cursor(limit=20), 5),
        (Cursor(min_id=posts[0].id, limit=20), 4),
        (Cursor(since_id=posts[0].id, limit=4), 4),
    ]:
        page = await database.page(session, user_id=alice.id, cursor=cursor)
        assert len(page) == want, cursor
        assert len(asked) == 1, cursor
        asked.clear()


async def test_flushed_redis_is_rebuilt_on_the_next_read(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice = await make_user(session, "alice")
    posts = [await make_post(session, alice, f"p{i}") for i in range(5)]
    _, cached = readers(settings, redis)
    first = await cached.page(session, user_id=alice.id, cursor=Cursor())
    await redis.flushdb()
    again = await cached.page(session, user_id=alice.id, cursor=Cursor())
    assert [p.id for p in first] == [p.id for p in again] == [p.id for p in reversed(posts)]


def test_rollout_is_stable_and_roughly_proportional() -> None:
    ids = range(10_000)
    chosen = [i for i in ids if in_redis_rollout(i, 30)]
    assert 2500 < len(chosen) < 3500
    assert chosen == [i for i in ids if in_redis_rollout(i, 30)]
    assert all(in_redis_rollout(i, 100) for i in ids)
    assert not any(in_redis_rollout(i, 0) for i in ids)
    # The smallest step counts too: 1 percent is about one reader in a hundred, not none
    # or two; and raising the percentage only ever adds readers.
    assert 50 < sum(in_redis_rollout(i, 1) for i in ids) < 150
    assert 9850 < sum(in_redis_rollout(i, 99) for i in ids) < 9950
    for low, high in [(1, 2), (29, 30), (30, 31), (98, 99)]:
        inside = {i for i in ids if in_redis_rollout(i, low)}
        assert inside < {i for i in ids if in_redis_rollout(i, high)}


async def test_a_timeline_expires_within_the_active_window_of_its_last_read(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice = await make_user(session, "alice")
    _, cached = readers(settings, redis)
    await cached.page(session, user_id=alice.id, cursor=Cursor())
    ttl = await redis.ttl(f"chirp:tl:{alice.id}")
    # An hour before fan-out stops writing it (a few seconds' leeway for a slow machine).
    assert settings.active_days * 86400 - 3600 - 10 < ttl <= settings.active_days * 86400 - 3600


async def test_a_large_accounts_post_is_on_the_next_read_before_any_job_runs(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, star = await make_user(session, "alice"), await make_user(session, "star")
    await follows_service.follow(session, follower=alice, followee=star)
    await session.commit()
    _, cached = readers(settings, redis, fanout_max_followers=0)
    for user in (alice, star):
        assert await read_from_redis(redis, cached, session, user.id, Cursor()) == []
    post = await make_post(session, star, "hi all")
    await cached.published(post)  # as the posting handlers do; no fan-out job has run

    # Its author's timeline took it, and the list merged into followers' pages.
    for user in (alice, star):
        assert await read_from_redis(redis, cached, session, user.id, Cursor()) == [post.id]


async def test_a_large_accounts_list_is_read_from_the_database_only_where_it_ends(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # star is a large account: merged at read time from a list of its newest posts (10 here).
    alice, star = await make_user(session, "alice"), await make_user(session, "star")
    await follows_service.follow(session, follower=alice, followee=star)
    early = [await make_post(session, star, f"early {i}") for i in range(3)]
    _, cached = readers(settings, redis, fanout_max_followers=0, timeline_cache_size=10)
    read = _redis_fn(cached, redis, session, alice)
    # What the reads take from the database: star's newest posts (to rebuild star's list),
    # and the home timeline's ids (to rebuild alice's, or to continue below what Redis holds).
    rebuilt: list[list[int]] = []
    recent_ids = posts_service.recent_ids

    async def recent(
        session: AsyncSession, *, author_id: int, limit: int, since: int = 0
    ) -> list[int]:
        rebuilt.append(await recent_ids(session, author_id=author_id, limit=limit, since=since))
        return rebuilt[-1]

    monkeypatch.setattr(posts_service, "recent_ids", recent)
    asked = record_home_reads(monkeypatch)
    assert await read(Cursor()) == [p.id for p in reversed(early)]
    assert len(rebuilt) == len(asked) == 1  # both built on the first read
    # Both hold all there is, a new post of star's too: the next read needs no database.
    rebuilt.clear()
    asked.clear()
    early.append(await make_post(session, star, "fresh"))
    await cached.published(early[-1])
    assert await read(Cursor()) == [p.id for p in reversed(early)]
    assert rebuilt == asked == []

    # star's list expires, star posts a dozen more: the list is rebuilt full, holding only
    # the newest 10 (all it reads), while alice's timeline still holds the early ones.
    await redis.delete(f"chirp:ap:{star.id}")
    later = [await make_post(session, star, f"later {i}") for i in range(12)]
    assert await read(Cursor(limit=10)) == [p.id for p in reversed(later[2:])]
    assert rebuilt == [[p.id for p in reversed(later[2:])]]
    assert asked == []  # a page the list holds entirely
    # Below the list's lowest post, the pages continue from the database: none is lost.
    pages = await all_pages(read, 6)
    assert [i for page in pages for i in page] == [p.id for p in reversed(early + later)]
    assert asked


async def test_pages_above_the_cached_floor_need_no_database_read_either_way(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages newer than ``min_id`` or ``since_id`` (how clients poll for news) are Redis's
    whenever the bound is within what it holds; below its floor the database answers."""
    alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
    await follows_service.follow(session, follower=alice, followee=bob)
    posts = [await make_post(session, bob, f"bob {i}") for i in range(8)]
    _, cached = readers(settings, redis, timeline_cache_size=5)
    read = _redis_fn(cached, redis, session, alice)
    ids = [p.id for p in posts]
    assert await read(Cursor(limit=2)) == ids[:5:-1]  # built: the newest five, floor ids[3]
    asked = record_home_reads(monkeypatch)
    assert await read(Cursor(min_id=ids[3], limit=2)) == [ids[5], ids[4]]
    assert await read(Cursor(since_id=ids[3], limit=10)) == ids[:3:-1]
    assert await read(Cursor(min_id=ids[5], limit=10)) == [ids[7], ids[6]]
    assert asked == []
    assert await read(Cursor(min_id=ids[1], limit=2)) == [ids[3], ids[2]]
    assert await read(Cursor(since_id=ids[1], limit=10)) == ids[:1:-1]
    assert len(asked) == 2  # each reaching below the floor: the database answers


async def test_following_an_account_that_is_already_large_shows_its_posts_at_once(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, star, x, y = [await make_user(session, n) for n in ("alice", "star", "x", "y")]
    for fan in (x, y):  # star is large before alice follows, and stays so: same list
        await follows_service.follow(session, follower=fan, followee=star)
    await session.commit()
    _, cached = readers(settings, redis, fanout_max_followers=1)
    read = _redis_fn(cached, redis, session, alice)
    old = await make_post(session, star, "before alice follows")
    assert await read(Cursor()) == []  # alice's followed large accounts: none, stored
    assert await cached.follow(session, follower=alice, followee=star)
    assert await read(Cursor()) == [old.id]
    new = await make_post(session, star, "after")
    await cached.published(new)
    assert await read(Cursor()) == [new.id, old.id]
    for fan in (x, y):  # the others' lists are their own
        assert await _redis_fn(cached, redis, session, fan)(Cursor()) == [new.id, old.id]


async def test_a_follow_that_brings_a_full_window_of_posts_reads_on_below_it(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    _, cached = readers(settings, redis, timeline_cache_size=5)
    read = _redis_fn(cached, redis, session, alice)
    assert await read(Cursor()) == []  # alice's timeline: built, empty, complete
    posts = [await make_post(session, bob, f"bob {i}") for i in range(5)]
    await reposts.repost(session, actor=bob, post_id=(await make_post(session, carol, "c")).id)
    await session.commit()
    # bob's newest five are a repost, which alice hides, and four posts: the four come, and
    # the timeline is complete only down to them. His first post is read from the database.
    assert await cached.follow(session, follower=alice, followee=bob, reblogs=False)
    want = [p.id for p in reversed(posts)]
    assert await stored_ids(redis, alice.id) == want[:4]  # no repost that would be hidden
    assert [i for page in await all_pages(read, 2) for i in page] == want
    asked = record_home_reads(monkeypatch)
    held = Cursor(max_id=posts[3].id, limit=2)
    assert await read(held) == [posts[2].id, posts[1].id]
    assert asked == []  # the follow's posts are held down to the lowest it brought


async def test_a_follow_that_brings_fewer_posts_than_the_cap_needs_no_database_past_them(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, dan = await make_user(session, "alice"), await make_user(session, "dan")
    _, cached = readers(settings, redis, timeline_cache_size=5)
    read = _redis_fn(cached, redis, session, alice)
    assert await read(Cursor()) == []  # alice's timeline: built, empty, complete
    posts = [await make_post(session, dan, f"dan {i}") for i in range(2)]
    asked = record_home_reads(monkeypatch)
    assert await cached.follow(session, follower=alice, followee=dan)
    assert [i for page in await all_pages(read, 1) for i in page] == [p.id for p in posts[::-1]]
    assert asked == []  # all dan has, and alice's timeline still complete: Redis answers


async def _reply(session: AsyncSession, author: User, to: Post, text: str = "re") -> Post:
    post = await posts_service.create_post(
        session, author=author, text=text, max_length=500, in_reply_to_id=to.id
    )
    await session.commit()
    return post


async def test_a_follow_that_brings_a_full_window_of_replies_reads_on_below_it(
    session: AsyncSession, settings: Settings, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, carol, dan = [await make_user(session, n) for n in ("alice", "bob", "carol", "dan")]
    _, cached = readers(settings, redis, timeline_cache_size=5)
    read = _redis_fn(cached, redis, session, alice)
    assert await cached.follow(session, follower=alice, followee=bob)
    # carol answers dan (whom alice does not follow), and bob answers carol six times.
    to_dan = await _reply(session, carol, await make_post(session, dan, "dan"))
    replies = [await _reply(session, bob, to_dan, f"bob {i}") for i in range(6)]
    assert await read(Cursor()) == []  # the rule keeps all of them out, for now
    # Following carol brings bob's answers (her own reply to dan stays out): the newest
    # five, a full window, and the timeline is complete only down to them.
    assert await cached.follow(session, follower=alice, followee=carol)
    want = [p.id for p in reversed(replies)]
    assert await stored_ids(redis, alice.id) == want[:5]
    asked = record_home_reads(monkeypatch)
    assert await read(Cursor(limit=5)) == want[:5]
    assert asked == []  # held
    assert [i for page in await all_pages(read, 2) for i in page] == want
    assert asked  # bob's first answer came from the database


async def test_on_postgresql_a_follow_reads_replies_one_followed_account_at_a_time(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the lateral read is PostgreSQL's (SQLite reads each account's range)")
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    _, cached = readers(settings, redis)
    assert await cached.follow(session, follower=alice, followee=bob)
    await _redis_fn(cached, redis, session, alice)(Cursor())  # builds her timeline
    for change in (cached.follow, cached.unfollow):
        # A plain IN over the accounts followed would let the planner walk every post back
        # to the timeline's floor; per account (its plan: test_query_plans), one index range.
        with session_statements(session) as seen:
            assert await change(session, follower=alice, followee=carol)
        replies = [s for s in seen if "in_reply_to_account_id = " in s and "join lateral" in s]
        assert len(replies) == 1, seen


async def test_on_postgresql_a_home_page_reads_each_followed_account_by_its_own_range(
    engine: AsyncEngine, session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    """The database path runs the lateral statement whose plan ``test_query_plans`` checks,
    and loads the page's posts with its ids as one array (one prepared statement whatever
    the page's size)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the lateral read and the array are PostgreSQL's")
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    for followee in (bob, carol):
        await follows_service.follow(session, follower=alice, followee=followee)
    posts = [await make_post(session, who, "hello") for who in (bob, carol, bob)]
    database, _ = readers(settings, redis)
    for cursor in (Cursor(limit=2), Cursor(min_id=posts[0].id), Cursor(since_id=posts[0].id)):
        with session_statements(session) as seen:
            page = await database.page(session, user_id=alice.id, cursor=cursor)
        assert [p.id for p in page] == [posts[2].id, posts[1].id]
        ids = [s for s in seen if s.startswith("select per_author.id")]
        assert len(ids) == 1 and "join lateral" in ids[0], seen
        loaded = [s for s in seen if "posts.text" in s and "posts.id = any (" in s]
        assert len(loaded) == 1, seen


async def test_a_follow_during_a_rebuild_keeps_it_from_storing_what_it_read_before(
    session: AsyncSession, settings: Settings, redis: Redis
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    sql, cached = readers(settings, redis)
    assert cached.cache is not None
    assert await cached.follow(session, follower=alice, followee=bob)
    to_carol = await _reply(session, bob, await make_post(session, carol, "carol"))
    # A read of alice's rebuilds her timeline from the database (none is cached yet) ...
    token = await cached.cache.start_rebuild(alice.id)
    before = await timeline_service.home_post_ids(session, user_id=alice.id, cursor=Cursor())
    assert before == []
    # ... while she follows carol: what it read lacks carol's post and bob's answer.
    assert await cached.follow(session, follower=alice, followee=carol)
    assert not await cached.cache.finish_rebuild(alice.id, before, floor=0, token=token)
    want = [to_carol.id, to_carol.in_reply_to_id]
    assert await _redis_fn(cached, redis, session, alice)(Cursor()) == want
    assert await _reader_fn(sql, session, alice)(Cursor()) == want


async def test_following_and_unfollowing_a_large_account_and_its_growth_show_on_read(
    session: AsyncSession, db: Factory, settings: Settings, redis: Redis
) -> None:
    alice, bob, carol = [await make_user(session, n) for n in ("alice", "bob", "carol")]
    _, cached = readers(settings, redis, fanout_max_followers=1)
    cached.celebrities.ttl = 0  # see each change of the list of large accounts at once
    ids = _reader_fn(cached, session, alice)
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    await _drain(db, cached)
    first = await make_post(session, bob, "one follower: fanned out")
    await _drain(db, cached)
    assert await ids(Cursor()) == [first.id]

    await follows_service.follow(session, follower=carol, followee=bob)  # bob is large now
    await session.commit()
    second = await make_post(session, bob, "two followers: merged at read time")
    await _drain(db, cached)
    assert await stored_ids(redis, alice.id) == [first.id]  # not fanned out
    assert await ids(Cursor()) == [second.id, first.id]

    await follows_service.unfollow(session, follower=alice, followee=bob)
    await session.commit()
    assert await ids(Cursor()) == []  # at once, before any job
    await follows_service.follow(session, follower=alice, followee=bob)
    await session.commit()
    await _drain(db, cached)
    assert await ids(Cursor()) == [second.id, first.id]
